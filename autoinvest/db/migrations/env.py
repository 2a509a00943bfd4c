"""Alembic environment: runs on the connection that autoinvest.db.migrate prepared (lock held, role set)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
