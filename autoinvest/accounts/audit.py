"""The audit log now lives in :mod:`autoinvest.audit`, its only writer; this module re-exports it for the
repositories that still import it from here (``users``, ``profiles``)."""

from __future__ import annotations

from autoinvest.audit import JsonValue, record

__all__ = ["JsonValue", "record"]
