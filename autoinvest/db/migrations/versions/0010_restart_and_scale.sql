-- Issue 13: restart to ready and scan scale.
--
-- The ledger check as one set-based query: every capital account compared with the sum of its entries (and both
-- sides with the invariant's rules) in one statement, so one snapshot (the trigger moves an account in the
-- statement that inserts its entry: no lock is needed for a consistent read). Cross-tenant, so a SECURITY
-- DEFINER function that returns ids only; the caller then checks each flagged account in its own user_tx for
-- the details (and pauses it).
CREATE FUNCTION ledger_difference_ids(p_active_only boolean)
RETURNS TABLE (profile_id uuid, user_id uuid, differs boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH sums AS (
        SELECT e.profile_id, sum(e.d_allocated) AS allocated, sum(e.d_reserved_for_orders) AS reserved_for_orders,
               sum(e.d_reserved_for_positions) AS reserved_for_positions, sum(e.d_realized_pnl) AS realized_pnl
          FROM ledger_entries e GROUP BY e.profile_id
    ), rebuilt AS (
        SELECT p.id AS profile_id, p.user_id, a.profile_id IS NULL AS missing,
               a.allocated AS m_allocated, a.reserved_for_orders AS m_orders,
               a.reserved_for_positions AS m_positions, a.realized_pnl AS m_pnl,
               coalesce(s.allocated, 0) AS allocated, coalesce(s.reserved_for_orders, 0) AS orders,
               coalesce(s.reserved_for_positions, 0) AS positions, coalesce(s.realized_pnl, 0) AS pnl
          FROM profiles p
          LEFT JOIN capital_accounts a ON a.profile_id = p.id
          LEFT JOIN sums s ON s.profile_id = p.id
         WHERE NOT p_active_only OR p.status = 'active'
    )
    SELECT r.profile_id, r.user_id,
           r.missing
           OR r.m_allocated <> r.allocated OR r.m_orders <> r.orders OR r.m_positions <> r.positions
           OR r.m_pnl <> r.pnl
           OR least(r.allocated, r.orders, r.positions, r.m_allocated, r.m_orders, r.m_positions) < 0
           OR r.allocated - r.orders - r.positions + r.pnl < 0
           OR r.m_allocated - r.m_orders - r.m_positions + r.m_pnl < 0
      FROM rebuilt r ORDER BY r.profile_id
$$;

REVOKE ALL ON FUNCTION ledger_difference_ids(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger_difference_ids(boolean) TO autoinvest_trader, autoinvest_operator;

-- The accounts start-up recovery reconciles before any loop runs: those the executor could send an order for (an
-- approved proposal of an active profile without an execution). A restore may have lost such a proposal's
-- order; reconciliation adopts it before the executor could send it again. Every other account is followed by
-- the loops (resolver, monitor, reconciler), so "ready" does not wait for them.
CREATE FUNCTION sendable_account_ids()
RETURNS TABLE (user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT DISTINCT t.user_id FROM trade_proposals t JOIN profiles p ON p.id = t.profile_id
     WHERE t.status = 'APPROVED' AND p.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.user_id = t.user_id AND e.proposal_id = t.id)
     ORDER BY t.user_id
$$;

REVOKE ALL ON FUNCTION sendable_account_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sendable_account_ids() TO autoinvest_trader;
