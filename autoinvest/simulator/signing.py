"""Bitvavo request authentication: key, timestamp, access window and HMAC-SHA256 signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from autoinvest.simulator.accounts import Accounts, ApiKey
from autoinvest.simulator.errors import ApiError

DEFAULT_WINDOW_MS = 10_000
MIN_WINDOW_MS = 100
MAX_WINDOW_MS = 60_000


def sign(secret: str, timestamp: int | str, method: str, target: str, body: str = "") -> str:
    """hex HMAC-SHA256 of timestamp + METHOD + target (with /v2 and query) + body."""
    message = f"{timestamp}{method}{target}{body}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_bodies(raw_body: bytes) -> list[str]:
    """Body strings a client may have signed: the raw bytes, and the compact re-serialisation.

    The official SDK signs json.dumps(body, separators=(',', ':')) but sends json.dumps(body) with spaces;
    ccxt signs exactly what it sends. An empty body and "{}" both sign as the empty string.
    """
    text = raw_body.decode("utf-8", errors="replace")
    candidates = [text]
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    if parsed is not None:
        compact = json.dumps(parsed, separators=(",", ":"))
        if parsed == {}:
            compact = ""
        if compact not in candidates:
            candidates.append(compact)
    if text.strip() in ("", "{}") and "" not in candidates:
        candidates.append("")
    return candidates


def authenticate(
    headers: Mapping[str, str],
    method: str,
    target: str,
    raw_body: bytes,
    accounts: Accounts,
    now_ms: int,
    required: bool,
) -> ApiKey | None:
    """The key of a correctly signed request; None for an unsigned public request; ApiError otherwise.

    The window is checked against the wall clock, not the simulated price clock: clients that sign with a chosen
    timestamp rely on the exchange refusing the request once the window has passed.
    """
    key_text = headers.get("bitvavo-access-key")
    if not key_text:
        if required:
            raise ApiError(300)
        return None
    if len(key_text) != 64:
        raise ApiError(301)
    ts_text = headers.get("bitvavo-access-timestamp", "")
    if not ts_text.isdigit():
        raise ApiError(302)
    window_text = headers.get("bitvavo-access-window") or str(DEFAULT_WINDOW_MS)
    if not window_text.isdigit() or not MIN_WINDOW_MS <= int(window_text) <= MAX_WINDOW_MS:
        raise ApiError(303)
    timestamp = int(ts_text)
    if abs(now_ms - timestamp) > int(window_text):
        raise ApiError(304)
    key = accounts.keys.get(key_text)
    if key is None:
        raise ApiError(305)
    signature = headers.get("bitvavo-access-signature", "")
    if len(signature) != 64:
        raise ApiError(308)
    for body in signed_bodies(raw_body) if method in ("POST", "PUT") else ["", *signed_bodies(raw_body)]:
        if hmac.compare_digest(sign(key.secret, ts_text, method, target, body), signature.lower()):
            return key
    raise ApiError(309)
