"""executor leases.

Revision ID: 0009
Revises: 0008
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
