-- Named queries of the capital ledger (procrastinate's format: "-- name --", then a description line).
-- Every query runs inside the caller's user_tx, so row-level security scopes it to one user.

-- post_entry --
-- Insert an entry once per (kind, reference) and, only if inserted, move its account: one statement, one snapshot
WITH ins AS (
    INSERT INTO ledger_entries (user_id, profile_id, kind, reference, d_allocated, d_reserved_for_orders,
                                d_reserved_for_positions, d_realized_pnl, memo)
    VALUES (%(user_id)s, %(profile_id)s, %(kind)s, %(reference)s, %(d_allocated)s, %(d_reserved_for_orders)s,
            %(d_reserved_for_positions)s, %(d_realized_pnl)s, %(memo)s)
    ON CONFLICT (kind, reference) DO NOTHING
    RETURNING profile_id, d_allocated, d_reserved_for_orders, d_reserved_for_positions, d_realized_pnl
), moved AS (
    UPDATE capital_accounts a
       SET allocated              = a.allocated + ins.d_allocated,
           reserved_for_orders    = a.reserved_for_orders + ins.d_reserved_for_orders,
           reserved_for_positions = a.reserved_for_positions + ins.d_reserved_for_positions,
           realized_pnl           = a.realized_pnl + ins.d_realized_pnl,
           updated_at             = now()
      FROM ins
     WHERE a.profile_id = ins.profile_id
    RETURNING a.profile_id
)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM moved) AS moved

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
  FROM capital_accounts WHERE profile_id = %(profile_id)s FOR SHARE

-- account_for_update --
-- The materialised account, locked for a repair
SELECT user_id, allocated, reserved_for_orders, reserved_for_positions, realized_pnl
  FROM capital_accounts WHERE profile_id = %(profile_id)s FOR UPDATE

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

-- set_account --
-- Overwrite the materialised account with the one rebuilt from the entries (the CHECK still applies)
UPDATE capital_accounts
   SET allocated = %(allocated)s, reserved_for_orders = %(reserved_for_orders)s,
       reserved_for_positions = %(reserved_for_positions)s, realized_pnl = %(realized_pnl)s, updated_at = now()
 WHERE profile_id = %(profile_id)s
