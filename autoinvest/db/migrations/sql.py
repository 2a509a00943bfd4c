"""Migrations are hand-written SQL: revision NNNN_name.py runs NNNN_name.sql beside it."""

from pathlib import Path

from alembic import op


def run_sql_file(revision_file: str) -> None:
    sql = Path(revision_file).with_suffix(".sql").read_text()
    # straight to psycopg without parameters, so that '%' in format() is not a placeholder
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]
