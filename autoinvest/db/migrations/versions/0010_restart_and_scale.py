"""restart and scale.

Revision ID: 0010
Revises: 0009
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
