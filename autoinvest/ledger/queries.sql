-- Named queries of the capital ledger (procrastinate's format: "-- name --", then a description line).
-- Every query runs inside the caller's user_tx, so row-level security scopes it to one user.

-- post_entry --
-- Insert an entry once per (kind, reference); the database's trigger moves its account in the same statement
-- (no role may update capital_accounts)
WITH ins AS (
    INSERT INTO ledger_entries (user_id, profile_id, kind, reference, d_allocated, d_reserved_for_orders,
                                d_reserved_for_positions, d_realized_pnl, memo)
    VALUES (%(user_id)s, %(profile_id)s, %(kind)s, %(reference)s, %(d_allocated)s, %(d_reserved_for_orders)s,
            %(d_reserved_for_positions)s, %(d_realized_pnl)s, %(memo)s)
    ON CONFLICT (kind, reference) DO NOTHING
    RETURNING profile_id
)
SELECT (SELECT count(*) FROM ins) AS inserted

-- entry_owner --
-- The profile of an existing entry, if this user can see it (a duplicate must be our own)
SELECT profile_id FROM ledger_entries WHERE kind = %(kind)s AND reference = %(reference)s

-- open_account --
-- The zero account of a profile, unless it exists
INSERT INTO capital_accounts (profile_id, user_id) VALUES (%(profile_id)s, %(user_id)s)
ON CONFLICT (profile_id) DO NOTHING

-- account --
-- The materialised account
SELECT user_id, allocated, reserved_for_orders, reserved_for_positions, realized_pnl
  FROM capital_accounts WHERE profile_id = %(profile_id)s

-- account_for_share --
-- The materialised account, locked against concurrent posts until the transaction ends
SELECT user_id, allocated, reserved_for_orders, reserved_for_positions, realized_pnl
  FROM capital_account_locked(%(profile_id)s)

-- account_for_update --
-- The materialised account, locked for a repair
SELECT user_id, allocated, reserved_for_orders, reserved_for_positions, realized_pnl
  FROM capital_account_locked(%(profile_id)s, true)

-- entry --
-- One entry of a profile by its (kind, reference), if posted
SELECT kind, reference, d_allocated, d_reserved_for_orders, d_reserved_for_positions, d_realized_pnl, memo
  FROM ledger_entries WHERE profile_id = %(profile_id)s AND kind = %(kind)s AND reference = %(reference)s

-- entries --
-- Every entry of a profile in posting order
SELECT kind, reference, d_allocated, d_reserved_for_orders, d_reserved_for_positions, d_realized_pnl, memo
  FROM ledger_entries WHERE profile_id = %(profile_id)s ORDER BY id

-- reservation_remaining --
-- What is still reserved for one execution (its RESERVE minus fills, fees and release taken from it)
SELECT COALESCE(sum(d_reserved_for_orders), 0) AS remaining
  FROM ledger_entries WHERE profile_id = %(profile_id)s AND memo ->> 'execution_id' = %(execution_id)s

-- restate_account --
-- The materialised account becomes the sum of its entries (the database computes it; the CHECK still applies)
SELECT restate_capital_account(%(profile_id)s)
