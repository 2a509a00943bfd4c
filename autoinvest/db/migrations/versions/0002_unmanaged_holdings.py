"""Unmanaged holdings and ADJUST acknowledgements (reconciliation).

Revision ID: 0002
Revises: 0001
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
