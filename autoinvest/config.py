"""Settings in one place: environment variables with the ``AUTOINVEST_`` prefix, plus ``DATABASE_URL``.

Unknown ``AUTOINVEST_*`` variables and bad values stop the program at start with
a message naming the variable (see :func:`load_settings`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from autoinvest.errors import AutoInvestError, ConfigError

ENV_PREFIX = "AUTOINVEST_"
_CONNINFO_KEYWORDS = re.compile(r"^\s*(host|hostaddr|port|dbname|user|password|service)\s*=")
#: The group role the tenant policies name: every component role is a member; it has no privilege of its own.
APP_ROLE = "autoinvest_app"
#: One database role per component (``autoinvest_<component>``), each with only the grants its work needs
#: (migration 0007): scanner and scheduler loops; executor, resolver, monitor, reconciler and recovery; the HTTP
#: server; the operator's CLI.
COMPONENTS = ("scanner", "trader", "api", "operator")
#: The only exchange live mode talks to: real keys and real money go nowhere else.
LIVE_EXCHANGE_HOST = "api.bitvavo.com"
#: Where `autoinvest exchange-sim` listens by default: without live mode, the exchange is a local simulator.
LOCAL_EXCHANGE_URL = "http://127.0.0.1:8899/v2"

MIN_DEFAULT_SKEW_BOUND_MS = 1000


class Settings(BaseSettings):
    """Typed, frozen settings; every field maps to ``AUTOINVEST_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    home: Path = Field(default=Path(".autoinvest"),
                       description="Data directory (embedded PostgreSQL, simulator state).")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "AUTOINVEST_DATABASE_URL"),
        description="Administrative PostgreSQL URL (runs migrations). Unset: embedded PostgreSQL under HOME.",
    )
    scanner_database_url: str | None = Field(
        default=None, description="URL of the scanner role (scanner, scheduler). Unset: the admin URL with user "
        "autoinvest_scanner and DB_ROLE_PASSWORD.")
    trader_database_url: str | None = Field(
        default=None, description="URL of the trader role (executor, resolver, monitor, reconciler). Unset: the admin "
        "URL with user autoinvest_trader and DB_ROLE_PASSWORD.")
    api_database_url: str | None = Field(
        default=None, description="URL of the api role (the HTTP server). Unset: the admin URL with user "
        "autoinvest_api and DB_ROLE_PASSWORD.")
    operator_database_url: str | None = Field(
        default=None, description="URL of the operator role (the CLI). Unset: the admin URL with user "
        "autoinvest_operator and DB_ROLE_PASSWORD.")
    db_role_password: SecretStr = Field(default=SecretStr(""), description="Password of every component role whose "
                                        "URL is derived (one password for all: for a single trusted host only; "
                                        "`db migrate` sets it, or each role URL's own password).")
    vault_key_readonly: SecretStr | None = Field(default=None, description="Fernet key for read-only exchange secrets.")
    vault_key_trade: SecretStr | None = Field(default=None, description="Fernet key for trade exchange secrets.")
    vault_key_readonly_previous: SecretStr | None = Field(default=None, description="The read-only vault key being "
                                                          "rotated out: still decrypts the rows it encrypted until "
                                                          "`credentials rotate-vault-key` re-encrypts them.")
    vault_key_trade_previous: SecretStr | None = Field(default=None, description="The trade vault key being rotated "
                                                       "out (as VAULT_KEY_READONLY_PREVIOUS).")
    live: bool = Field(default=False, description="Trade real money at EXCHANGE_URL. Off: `up` starts the paper "
                       "exchange (the local simulator) and trades there.")
    exchange_url: str = Field(default=LOCAL_EXCHANGE_URL, description="Exchange REST base URL: with LIVE only "
                              f"https://{LIVE_EXCHANGE_HOST}/v2, without it only a local (loopback) simulator.")
    operator_id: int = Field(default=1, ge=1, description="Bitvavo operatorId sent with every order.")
    access_window_ms: int = Field(default=10000, ge=100, le=60000, description="Signing window of orders (ms).")
    resolver_grace_s: int = Field(default=15, ge=0, description="Age before a SUBMITTING execution is resolved.")
    clock_skew_ms: int = Field(default=2000, ge=0, description="Allowed clock skew with the exchange (ms).")
    clock_skew_bound_ms: int | None = Field(default=None, ge=1, le=60000, description="No order is sent while "
                                            "the measured clock skew with the exchange, widened by the measurement's "
                                            "uncertainty, exceeds this (ms). Unset: half the access window, "
                                            "at least 1000.")
    clock_skew_max_age_s: int = Field(default=120, ge=4, le=3600, description="A clock-skew measurement older "
                                      "than this cannot clear an order (measured every quarter of it).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    http_host: str = Field(default="127.0.0.1", description="Host of /metrics, /internal/health and the API.")
    http_port: int = Field(default=8000, ge=1, le=65535, description="Port of the HTTP server.")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint for the LLM proposer.")
    llm_model: str = Field(default="gpt-4o-mini", description="LLM model name.")
    llm_api_key: SecretStr | None = Field(default=None, description="LLM API key.")
    failpoint: str | None = Field(default=None, description="Testing only (with TEST_HOOKS): kill the process at "
                                  "this named step.")
    demo_balance_eur: Decimal = Field(default=Decimal("1000"), gt=0, description="Paper balance of the demo user.")
    scan_lease_s: int = Field(default=60, ge=2, le=3600, description="Lease of a claimed scan job (s), renewed every "
                              "third of it while the job runs; a silent instance's job is taken over after it.")
    scan_batch: int = Field(default=8, ge=1, le=100, description="Scan jobs claimed per pass (run concurrently).")
    reconcile_ack_above_eur: Decimal = Field(default=Decimal("5"), ge=0, description="A coin shortfall worth more "
                                             "than this (EUR, at cost) is booked only after `autoinvest reconcile "
                                             "ack`; smaller ones are booked by reconciliation at once.")
    reconcile_failing_runs: int = Field(default=3, ge=1, le=1000, description="/internal/health is unhealthy while "
                                        "a profile's last this many reconciliation runs all ended with an error.")
    scan_hold_s: float = Field(default=0, ge=0, le=600, description="Testing only (with TEST_HOOKS): hold every "
                               "scan job this long before its writes, so that a test can pause or kill a worker "
                               "mid-job.")
    test_hooks: bool = Field(default=False, description="Testing only: let FAILPOINT and SCAN_HOLD_S act. Refused "
                             "with LIVE.")

    @property
    def test_hooks_active(self) -> bool:
        """Test hooks act only when asked for, and never in live mode (load_settings refuses both at once)."""
        return self.test_hooks and not self.live

    @property
    def skew_bound_ms(self) -> int:
        """The clock-skew fence's bound: set, or half the access window (a skew that large eats half the window),
        at least MIN_DEFAULT_SKEW_BOUND_MS (finer than that, a measurement over the network is noise)."""
        if self.clock_skew_bound_ms is not None:
            return self.clock_skew_bound_ms
        return max(self.access_window_ms // 2, MIN_DEFAULT_SKEW_BOUND_MS)

    @field_validator("database_url", "scanner_database_url", "trader_database_url", "api_database_url",
                     "operator_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if _CONNINFO_KEYWORDS.match(value):  # libpq keyword form: "host=... dbname=..."
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("postgres", "postgresql") or not (parts.hostname or "host=" in parts.query):
            raise ValueError("must look like postgresql://user:password@host:5432/dbname")
        return value


def _unknown_variables(environ: dict[str, str]) -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in known)


def _variable_name(loc: tuple[int | str, ...]) -> str:
    name = str(loc[0]).upper() if loc else "?"
    if name in ("DATABASE_URL", ENV_PREFIX + "DATABASE_URL"):
        return "DATABASE_URL"
    return name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name


def load_settings() -> Settings:
    """Read settings from the environment; raise ConfigError naming the variable on any problem."""
    unknown = _unknown_variables(dict(os.environ))
    if unknown:
        raise ConfigError(f"unknown setting {', '.join(unknown)}; see the settings table in README.md",
                          reason="CONFIG_UNKNOWN_KEY")
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable_name(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid setting {problems}", reason="CONFIG_INVALID_VALUE") from None
    _check_home(settings.home)
    check_exchange_url(settings.exchange_url, live=settings.live, what=f"{ENV_PREFIX}EXCHANGE_URL")
    _check_no_test_hooks_live(settings)
    check_timing(settings)
    return settings


def check_exchange_url(url: str, *, live: bool, what: str, error: type[AutoInvestError] = ConfigError) -> None:
    """The one rule for an exchange URL a process signs for: live mode only Bitvavo over https; otherwise only a
    local simulator, so that real keys never reach a real exchange unless AUTOINVEST_LIVE=true asked for it."""
    if live and not is_live_exchange_url(url):
        raise error(live_exchange_url_refusal(what, url), reason="LIVE_EXCHANGE_URL_NOT_BITVAVO")
    if not live and not is_local_exchange_url(url):
        raise error(f"{what}={url!r} is refused: without {ENV_PREFIX}LIVE=true only a local exchange (a simulator "
                    f"on localhost, 127.0.0.0/8 or [::1], e.g. {LOCAL_EXCHANGE_URL}) is accepted; to trade real "
                    f"money set {ENV_PREFIX}LIVE=true and use https://{LIVE_EXCHANGE_HOST}/v2",
                    reason="EXCHANGE_URL_NOT_LOCAL")


def is_local_exchange_url(url: str) -> bool:
    """True only for http(s) on a loopback host: ``localhost``, 127.0.0.0/8, ::1. A paper exchange is local by
    definition; a name or address of another machine (even a simulator there) could be a real exchange."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: only "localhost" is known to stay on this machine
        return False


def is_live_exchange_url(url: str) -> bool:
    """True only for Bitvavo's REST API over https: the exact host, default port, no user, the API path only."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme.lower() == "https" and (parts.hostname or "") == LIVE_EXCHANGE_HOST
            and parts.username is None and port in (None, 443) and parts.path.rstrip("/") in ("", "/v2")
            and not parts.query and not parts.fragment)


def live_exchange_url_refusal(what: str, url: str) -> str:
    return (f"{what}={url!r} is refused in live mode: only https://{LIVE_EXCHANGE_HOST}/v2 is accepted "
            f"(unset {ENV_PREFIX}LIVE to use a simulator)")


def _check_no_test_hooks_live(settings: Settings) -> None:
    """Failpoints kill the process and a scan hold stalls it: never where real money is traded."""
    if not settings.live:
        return
    hooks = [f"{ENV_PREFIX}{name.upper()}" for name, on in (("test_hooks", settings.test_hooks),
                                                             ("failpoint", settings.failpoint is not None),
                                                             ("scan_hold_s", settings.scan_hold_s > 0)) if on]
    if hooks:
        raise ConfigError(f"{', '.join(hooks)} (testing only) refused with {ENV_PREFIX}LIVE=true; unset them",
                          reason="LIVE_TEST_HOOKS_REFUSED")


def check_timing(settings: Settings) -> None:
    """The resolver may look an order up only after the exchange can no longer accept it: the signing window plus
    the clock skew the fence lets through."""
    if settings.resolver_grace_s * 1000 < settings.access_window_ms + settings.skew_bound_ms:
        raise ConfigError(f"{ENV_PREFIX}RESOLVER_GRACE_S={settings.resolver_grace_s} is shorter than "
                          f"{ENV_PREFIX}ACCESS_WINDOW_MS + {ENV_PREFIX}CLOCK_SKEW_BOUND_MS "
                          f"({settings.access_window_ms} + {settings.skew_bound_ms} ms)",
                          reason="CONFIG_RESOLVER_GRACE_TOO_SHORT")


def _check_home(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=home):  # a unique name: many processes start at once on one home
            pass
    except OSError as exc:
        raise ConfigError(f"AUTOINVEST_HOME={home} is not a writable directory ({exc.strerror}); "
                          "set AUTOINVEST_HOME to a directory you can write", reason="CONFIG_HOME_UNWRITABLE") from None
