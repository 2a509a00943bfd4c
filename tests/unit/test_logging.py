"""Logs are one JSON object per line and carry the ids given as `extra`."""

import io
import json
import logging

from autoinvest.observability.logging import configure


def test_a_log_record_is_one_json_object_with_its_ids() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure("INFO", stream)
        logging.getLogger("autoinvest.execution").warning("execute failed", extra={"proposal_id": "p-1",
                                                                                   "reason": "X"})
        logging.getLogger("autoinvest.execution").debug("hidden below the level")
    finally:
        root.handlers, _ = saved
        root.setLevel(saved[1])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "execute failed" and record["level"] == "warning"
    assert record["proposal_id"] == "p-1" and record["reason"] == "X" and "timestamp" in record
