"""Test support: a real PostgreSQL (embedded, or DATABASE_URL) and helpers to make tenants."""
