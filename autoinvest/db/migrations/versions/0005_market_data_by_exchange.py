"""Market metadata keyed by exchange URL; definer functions safe from pg_temp.

Revision ID: 0005
Revises: 0004
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
