"""An exchange API key with its purpose; the secret never appears in repr, str or logs."""

from __future__ import annotations

from dataclasses import dataclass, field

from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import KeySeparationError

BITVAVO_URL = "https://api.bitvavo.com/v2"


@dataclass(frozen=True, kw_only=True, repr=False)
class Credential:
    """One Bitvavo API key. ``base_url`` points at Bitvavo or at the simulator (with or without ``/v2``)."""

    api_key: str
    api_secret: str = field(compare=False)
    purpose: CredentialPurpose
    base_url: str = BITVAVO_URL

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret must not be empty")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        object.__setattr__(self, "purpose", CredentialPurpose(self.purpose))

    @property
    def host_url(self) -> str:
        """The base URL without the ``/v2`` suffix (ccxt appends ``/v2/<path>`` and signs that)."""
        url = self.base_url.rstrip("/")
        return url.removesuffix("/v2")

    def require(self, purpose: CredentialPurpose) -> None:
        """Raise KeySeparationError unless this key was issued for ``purpose``."""
        if self.purpose != purpose:
            raise KeySeparationError(
                f"a {self.purpose.value} key cannot be used for a {purpose.value} client (key {self.masked_key})"
            )

    @property
    def masked_key(self) -> str:
        return f"{self.api_key[:4]}…" if len(self.api_key) > 8 else "…"

    def __repr__(self) -> str:
        return f"Credential(api_key={self.masked_key!r}, purpose={self.purpose.value!r}, base_url={self.base_url!r})"

    __str__ = __repr__
