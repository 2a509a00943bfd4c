"""Capital ledger: pure entries and invariant (entries), PostgreSQL repository (repo)."""
