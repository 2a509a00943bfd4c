# A database of its own (scan_db, scan_conn): recover() resolves every execution it can see.
from tests.integration.scheduler.isolated import scan_conn, scan_db  # noqa: F401
