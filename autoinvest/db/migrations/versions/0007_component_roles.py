"""Database roles per component, definer functions for proposals, audit and capital.

Revision ID: 0007
Revises: 0006
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
