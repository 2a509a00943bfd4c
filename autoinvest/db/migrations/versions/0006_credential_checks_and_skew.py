"""Credential verification and measured clock skew.

Revision ID: 0006
Revises: 0005
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
