"""The one writer of ``quarantined_items``: exchange items refused at the edge, kept aside, counted, alerted.

An item the exchange sends that fails validation (``exchange._parse``), or a report the fill arithmetic refuses
(an over-sell), is never applied: it is stored here once per distinct item (its canonical JSON's digest) and
counted every time it comes again, so that one tenant's poison item never stops the loops for everyone else
and an operator can see it (``autoinvest quarantine list``, runbook ``exchange-item-quarantined``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.db import driver
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.exchange.base import BadItem, QuarantineSink
from autoinvest.observability import metrics

log = logging.getLogger(__name__)

_RECORD: LiteralString = """
INSERT INTO quarantined_items (id, user_id, exchange_url, endpoint, reason, detail, item, item_digest)
VALUES (%(id)s, %(user)s,
        -- a report refused by the lifecycle does not know its URL: the user's read-only key's
        coalesce(nullif(%(url)s, ''), (SELECT c.exchange_url FROM exchange_credentials c
                                        WHERE c.user_id = %(user)s AND c.purpose = 'readonly'), ''),
        %(endpoint)s, %(reason)s, %(detail)s, %(item)s, %(digest)s)
ON CONFLICT (user_id, exchange_url, endpoint, item_digest) DO UPDATE
   SET seen_count = quarantined_items.seen_count + 1, last_seen = now(), reason = EXCLUDED.reason,
       detail = EXCLUDED.detail
"""

_SUMMARY: LiteralString = "SELECT * FROM quarantined_item_summary()"


@dataclass(frozen=True)
class Quarantined:
    id: UUID
    user_id: UUID
    endpoint: str
    reason: str
    first_seen: datetime
    last_seen: datetime
    seen_count: int


def canonical(item: Any) -> str:
    """The item as sorted, compact JSON that jsonb accepts: a NUL character (which jsonb refuses, and which would
    make the poison item poison the quarantine too) becomes U+FFFD."""
    return json.dumps(_scrub(item), sort_keys=True, separators=(",", ":"), default=str)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_scrub(str(k)): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


async def record(conn: AppConnection, user_id: UUID, bad: BadItem) -> None:
    """Store (or count again) one refused item of ``user_id``'s exchange account, in its own transaction."""
    text = canonical(bad.item)
    async with user_tx(conn, user_id):
        await conn.execute(_RECORD, {
            "id": uuid.uuid4(), "user": user_id, "url": bad.exchange_url, "endpoint": bad.endpoint,
            "reason": bad.reason, "detail": bad.detail, "item": driver.Jsonb(json.loads(text)),
            "digest": hashlib.sha256(text.encode()).hexdigest()})
    metrics.EXCHANGE_ITEMS_QUARANTINED.labels(bad.endpoint, bad.reason).inc()
    log.warning("exchange item quarantined", extra={"user_id": str(user_id), "endpoint": bad.endpoint,
                                                    "reason": bad.reason, "detail": bad.detail})


def sink(conn: AppConnection, user_id: UUID) -> QuarantineSink:
    """The sink an exchange client of ``user_id`` hands its refused items to."""

    async def store(bad: BadItem) -> None:
        await record(conn, user_id, bad)

    return store


async def summary(conn: AppConnection) -> list[Quarantined]:
    """Every quarantined item across tenants, newest first: ids, codes and counts (never the items)."""
    async with system_tx(conn):
        cur = await conn.execute(_SUMMARY)
        return [Quarantined(**row) for row in await cur.fetchall()]
