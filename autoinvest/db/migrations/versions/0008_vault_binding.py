"""Vault ciphertexts bound to user, purpose and key id.

Revision ID: 0008
Revises: 0007
"""

from autoinvest.db.migrations.sql import run_sql_file

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)
