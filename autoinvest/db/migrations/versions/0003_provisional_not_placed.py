"""NOT_PLACED is provisional until a later look confirms it (execution).

Revision ID: 0003
Revises: 0002
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
