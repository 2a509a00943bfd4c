"""The whole product schema, with row-level security.

Revision ID: 0001
Revises:
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
