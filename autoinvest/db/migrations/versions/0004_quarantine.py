"""Exchange items quarantined at the edge.

Revision ID: 0004
Revises: 0003
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
