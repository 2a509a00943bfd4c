"""Bearer tokens of the user API: Supabase-compatible JWTs, verified here (PyJWT's one translation point).

Accepted: HS256 signed with the project's shared secret, and ES256 / RS256 signed by a key of the configured key
set (JWKS), chosen by the token's ``kid``. The algorithm is never taken from the token: a key comes with its own
algorithm (the shared secret HS256, a JWK its ``alg`` or, without one, ES256 for an EC key and RS256 for an RSA
key) and a token whose header names another is refused. So ``alg: none`` and the HS/ES confusion (a public key
used as an HMAC secret) cannot pass.

Required claims: ``sub`` (the user's UUID), ``aud`` "authenticated", ``role`` "authenticated" (Supabase's
``anon`` and ``service_role`` tokens are refused: neither is a user), ``exp`` and ``iat``; ``iss`` when an issuer
is configured. An operator is a user whose ``app_metadata.autoinvest_operator`` is true (app_metadata is set by the
auth server, never by the user).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from autoinvest.errors import ConfigError, Unauthenticated

AUDIENCE = "authenticated"
ROLE = "authenticated"
_REQUIRED = ["exp", "iat", "sub", "aud"]
_DEFAULT_ALG = {"EC": "ES256", "RSA": "RS256"}
_ASYMMETRIC = frozenset({"ES256", "RS256"})


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for."""

    user_id: UUID
    operator: bool


@dataclass(frozen=True)
class _Key:
    algorithm: str
    key: Any


class TokenVerifier:
    def __init__(self, *, hs256_secret: str | None = None, jwks: Mapping[str, Any] | None = None,
                 issuer: str | None = None, leeway_s: int = 0) -> None:
        if not hs256_secret and not jwks:
            raise ConfigError("the API needs a JWT secret (HS256) or a JWKS to verify tokens",
                              reason="CONFIG_INVALID")
        self._secret = _Key("HS256", hs256_secret) if hs256_secret else None
        self._keys = {kid: key for kid, key in map(_jwk, (jwks or {}).get("keys", []))}
        self._issuer = issuer
        self._leeway_s = leeway_s

    def verify(self, token: str) -> Principal:
        """The token's principal; Unauthenticated (with the reason) for anything else. The token itself never
        appears in the error."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the token is not a JWT ({type(exc).__name__})", reason="TOKEN_INVALID") from None
        key = self._key_for(header)
        if header.get("alg") != key.algorithm:
            raise Unauthenticated(f"the token is signed with {header.get('alg')!r}; this key is {key.algorithm}",
                                  reason="TOKEN_INVALID")
        try:
            claims = jwt.decode(token, key.key, algorithms=[key.algorithm], audience=AUDIENCE, issuer=self._issuer,
                                leeway=self._leeway_s, options={"require": _REQUIRED + (["iss"] if self._issuer
                                                                                        else [])})
        except jwt.PyJWTError as exc:
            raise _refusal(exc) from None
        if claims.get("role") != ROLE:
            raise Unauthenticated(f"a token of role {claims.get('role')!r} is not a user's",
                                  reason="TOKEN_ROLE_REFUSED")
        try:
            user_id = UUID(str(claims["sub"]))
        except ValueError:
            raise Unauthenticated("the token's sub is not a user id", reason="TOKEN_SUBJECT_INVALID") from None
        metadata = claims.get("app_metadata")
        operator = isinstance(metadata, dict) and metadata.get("autoinvest_operator") is True
        return Principal(user_id, operator)

    def _key_for(self, header: Mapping[str, Any]) -> _Key:
        kid = header.get("kid")
        if kid is not None and kid in self._keys:
            return self._keys[kid]
        if kid is None and self._secret is not None:
            return self._secret
        raise Unauthenticated("no configured key matches the token's kid", reason="TOKEN_INVALID")


def _jwk(entry: Mapping[str, Any]) -> tuple[str, _Key]:
    kty, kid = entry.get("kty"), entry.get("kid")
    algorithm = entry.get("alg") or _DEFAULT_ALG.get(str(kty))
    if not isinstance(kid, str) or algorithm not in _ASYMMETRIC or _DEFAULT_ALG.get(str(kty)) != algorithm:
        raise ConfigError(f"JWKS key {kid!r}: only EC keys for ES256 and RSA keys for RS256, each with a kid",
                          reason="CONFIG_INVALID")
    parser = ECAlgorithm if kty == "EC" else RSAAlgorithm
    return kid, _Key(algorithm, parser.from_jwk(dict(entry)))


def _refusal(exc: jwt.PyJWTError) -> Unauthenticated:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return Unauthenticated("the token has expired", reason="TOKEN_EXPIRED")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        if exc.claim == "sub":
            return Unauthenticated("the token has no sub", reason="TOKEN_SUBJECT_INVALID")
        if exc.claim in ("aud", "iss"):
            return Unauthenticated(f"the token has no {exc.claim}", reason="TOKEN_AUDIENCE_REFUSED")
        return Unauthenticated(f"the token has no {exc.claim}", reason="TOKEN_EXPIRED")
    if isinstance(exc, jwt.InvalidAudienceError | jwt.InvalidIssuerError):
        return Unauthenticated("the token is for another audience or from another issuer",
                               reason="TOKEN_AUDIENCE_REFUSED")
    return Unauthenticated(f"the token is refused ({type(exc).__name__})", reason="TOKEN_INVALID")
