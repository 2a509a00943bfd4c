from tests.integration.scheduler.isolated import scan_conn, scan_db  # noqa: F401
