"""Reconciliation: converge the database to the exchange's truth through the lifecycle handlers.

``diff`` is pure (both views → actions); ``state`` and ``fetch`` read the two sides; ``run`` locks an account's
profiles, repairs and records a ``reconciliation_runs`` row per profile; ``service`` runs every account and
sets the mismatch gauges; ``ledger_audit`` checks capital accounts against their entries; ``unmanaged`` records
the coins the account holds beyond our positions (the user's, never a profile's); ``adjustments`` holds coin
shortfalls for an operator's acknowledgement and ``repair`` books them.
"""
