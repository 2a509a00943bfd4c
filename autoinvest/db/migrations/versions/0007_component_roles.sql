-- One database role per component (created by db/migrate.py's bootstrap, members of autoinvest_app so that the
-- tenant policies apply to them): each gets only what its component does. autoinvest_app itself keeps no
-- privilege. A compromised scanner cannot approve, override, move capital, change a policy, a switch or a key.
--
--   autoinvest_scanner   scanner and scheduler loops: reads; scan jobs, market data, LLM budget; proposals and
--                        their expiry only through propose() / expire_overdue_proposals()
--   autoinvest_trader    executor, resolver, monitor, reconciler, start-up recovery: executions, orders, fills,
--                        positions, ledger entries, reconciliation; a profile only paused (pause_profile())
--   autoinvest_api       the HTTP server: reads (the user API adds its own writes)
--   autoinvest_operator  the CLI: users, profiles, policies, switches, keys, allocations, decisions, repairs
--
-- Nobody has UPDATE on capital_accounts (the ledger's trigger moves it) or INSERT on audit_log (audit_record()).

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM autoinvest_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM autoinvest_app;
GRANT USAGE ON SCHEMA public TO autoinvest_scanner, autoinvest_trader, autoinvest_api, autoinvest_operator;

-- ---------------------------------------------------------------- audit rows, stamped by the database
ALTER TABLE audit_log ADD COLUMN db_user text NOT NULL DEFAULT session_user;
COMMENT ON COLUMN audit_log.db_user IS 'The database login that wrote the row (session_user), stamped by audit_record()';

-- The only way a component writes an audit row: for the transaction's own user (app.user_id), with the login
-- that wrote it stamped. p_once: not again if this user's action on this subject is already on record.
CREATE FUNCTION audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text,
                             p_details jsonb, p_once boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_user_id IS NULL OR p_user_id IS DISTINCT FROM app_user_id() THEN
        RAISE EXCEPTION 'an audit row is written for the transaction''s own user only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_once AND EXISTS (SELECT 1 FROM audit_log WHERE user_id = p_user_id AND action = p_action
                          AND subject_type = p_subject_type AND subject_id = p_subject_id) THEN
        RETURN;
    END IF;
    INSERT INTO audit_log (user_id, actor, action, subject_type, subject_id, details, db_user)
    VALUES (p_user_id, p_actor, p_action, p_subject_type, p_subject_id, coalesce(p_details, '{}'), session_user);
END $$;

-- ---------------------------------------------------------------- capital moves only by ledger entries
-- Each inserted entry moves its own account (same user) by its deltas, in the same statement; the CHECKs of
-- capital_accounts still refuse a move that breaks the invariant.
CREATE FUNCTION ledger_entries_move_account() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE capital_accounts
       SET allocated              = allocated + NEW.d_allocated,
           reserved_for_orders    = reserved_for_orders + NEW.d_reserved_for_orders,
           reserved_for_positions = reserved_for_positions + NEW.d_reserved_for_positions,
           realized_pnl           = realized_pnl + NEW.d_realized_pnl,
           updated_at             = now()
     WHERE profile_id = NEW.profile_id AND user_id = NEW.user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no capital account of this user for profile %', NEW.profile_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_account';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entries_move_account AFTER INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_move_account();

-- The account, locked against concurrent posts (p_exclusive: for a repair) until the caller's transaction ends.
CREATE FUNCTION capital_account_locked(p_profile_id uuid, p_exclusive boolean DEFAULT false)
RETURNS TABLE (user_id uuid, allocated numeric, reserved_for_orders numeric, reserved_for_positions numeric,
               realized_pnl numeric)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    IF p_exclusive THEN
        RETURN QUERY SELECT a.user_id, a.allocated, a.reserved_for_orders, a.reserved_for_positions, a.realized_pnl
          FROM capital_accounts a WHERE a.profile_id = p_profile_id AND a.user_id = app_user_id() FOR UPDATE;
    ELSE
        RETURN QUERY SELECT a.user_id, a.allocated, a.reserved_for_orders, a.reserved_for_positions, a.realized_pnl
          FROM capital_accounts a WHERE a.profile_id = p_profile_id AND a.user_id = app_user_id() FOR SHARE;
    END IF;
END $$;

-- `autoinvest ledger rebuild`: the account becomes the sum of its entries (never amounts a caller names).
CREATE FUNCTION restate_capital_account(p_profile_id uuid)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE capital_accounts a
       SET allocated = s.allocated, reserved_for_orders = s.reserved_for_orders,
           reserved_for_positions = s.reserved_for_positions, realized_pnl = s.realized_pnl, updated_at = now()
      FROM (SELECT coalesce(sum(d_allocated), 0) AS allocated,
                   coalesce(sum(d_reserved_for_orders), 0) AS reserved_for_orders,
                   coalesce(sum(d_reserved_for_positions), 0) AS reserved_for_positions,
                   coalesce(sum(d_realized_pnl), 0) AS realized_pnl
              FROM ledger_entries WHERE profile_id = p_profile_id AND user_id = app_user_id()) s
     WHERE a.profile_id = p_profile_id AND a.user_id = app_user_id();
$$;

-- ---------------------------------------------------------------- profiles: one lock, one safety stop
-- Serialises a profile's claims, expiries and LLM budget (FOR UPDATE needs UPDATE rights the readers lack).
CREATE FUNCTION lock_profile(p_profile_id uuid)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT true FROM profiles WHERE id = p_profile_id AND user_id = app_user_id() FOR UPDATE;
$$;

-- Reconciliation and recovery stop a profile (a shortfall, a ledger mismatch); only an operator starts it again.
CREATE FUNCTION pause_profile(p_profile_id uuid)
RETURNS uuid
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE profile_policies SET trading_enabled = false, updated_at = now()
     WHERE profile_id = p_profile_id AND user_id = app_user_id()
    RETURNING user_id;
$$;

-- ---------------------------------------------------------------- proposals: the database decides the status
-- The scan fence, as scheduler.jobs.FENCE checks it: this user's job of this profile, still held by this worker
-- with this fencing token and an unexpired lease. A scanner whose lease was taken over writes nothing.
CREATE FUNCTION scan_fence_holds(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM scan_jobs j WHERE j.id = p_job AND j.profile_id = p_profile_id
                      AND j.user_id = app_user_id() AND j.fencing_token = p_token AND j.locked_by = p_worker
                      AND j.locked_until > now());
$$;

-- The one way a proposal is written. The profile's auto-approve threshold decides PENDING or APPROVED by 'auto';
-- the caller names neither. Overrides of a safety rule are an operator's only. With p_job, the scan fence
-- (the job's lease and fencing token) must hold, else nothing is written. A second proposal for the same
-- profile, market and scan window writes nothing. Returns the row written, or nothing.
CREATE FUNCTION propose(p_id uuid, p_profile_id uuid, p_market text, p_side text, p_amount_eur numeric,
                        p_amount_base numeric, p_confidence integer, p_rationale text, p_source text,
                        p_policy_snapshot jsonb, p_ttl_seconds integer, p_scan_window timestamptz,
                        p_job uuid, p_token bigint, p_worker text,
                        p_override_cooldown boolean DEFAULT false, p_override_anti_flip boolean DEFAULT false)
RETURNS TABLE (id uuid, status text, created_at timestamptz, expires_at timestamptz, decided_by text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_user_id();
    v_threshold smallint;
    v_auto boolean;
BEGIN
    IF (p_override_cooldown OR p_override_anti_flip)
       AND NOT pg_has_role(session_user, 'autoinvest_operator', 'MEMBER') THEN
        RAISE EXCEPTION 'only an operator may override a safety rule' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT pr.auto_approve_threshold INTO v_threshold FROM profiles pr
     WHERE pr.id = p_profile_id AND pr.user_id = v_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no profile % of this user', p_profile_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'trade_proposals_profile';
    END IF;
    IF p_job IS NOT NULL AND NOT scan_fence_holds(p_profile_id, p_job, p_token, p_worker) THEN
        RETURN;
    END IF;
    v_auto := v_threshold IS NOT NULL AND p_confidence >= v_threshold;
    RETURN QUERY
    INSERT INTO trade_proposals AS t (id, user_id, profile_id, market, side, amount_eur, amount_base, confidence,
                                      rationale, source, status, policy_snapshot, scan_window, scan_fencing_token,
                                      expires_at, decided_at, decided_by, override_cooldown, override_anti_flip)
    VALUES (p_id, v_user, p_profile_id, p_market, p_side, p_amount_eur, p_amount_base, p_confidence, p_rationale,
            p_source, CASE WHEN v_auto THEN 'APPROVED' ELSE 'PENDING' END, p_policy_snapshot, p_scan_window,
            CASE WHEN p_job IS NOT NULL THEN p_token END, now() + make_interval(secs => p_ttl_seconds),
            CASE WHEN v_auto THEN now() END, CASE WHEN v_auto THEN 'auto' END,
            p_override_cooldown, p_override_anti_flip)
    ON CONFLICT (profile_id, market, scan_window) DO NOTHING
    RETURNING t.id, t.status, t.created_at, t.expires_at, t.decided_by;
END $$;

-- Lock the profile (as a claim does), then mark its PENDING/APPROVED proposals past expires_at that no execution
-- has taken EXPIRED; with p_job, only while the scan fence holds. The ids expired.
CREATE FUNCTION expire_overdue_proposals(p_profile_id uuid, p_job uuid DEFAULT NULL, p_token bigint DEFAULT NULL,
                                         p_worker text DEFAULT NULL)
RETURNS SETOF uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF lock_profile(p_profile_id) IS NULL THEN
        RETURN;
    END IF;
    IF p_job IS NOT NULL AND NOT scan_fence_holds(p_profile_id, p_job, p_token, p_worker) THEN
        RETURN;
    END IF;
    RETURN QUERY
    UPDATE trade_proposals p SET status = 'EXPIRED'
     WHERE p.profile_id = p_profile_id AND p.user_id = app_user_id() AND p.status IN ('PENDING', 'APPROVED')
       AND p.expires_at <= now()
       AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)
    RETURNING p.id;
END $$;

REVOKE ALL ON FUNCTION audit_record(uuid, text, text, text, text, jsonb, boolean),
    ledger_entries_move_account(), capital_account_locked(uuid, boolean), restate_capital_account(uuid),
    lock_profile(uuid), pause_profile(uuid), scan_fence_holds(uuid, uuid, bigint, text),
    propose(uuid, uuid, text, text, numeric, numeric, integer, text, text, jsonb, integer, timestamptz, uuid, bigint,
            text, boolean, boolean),
    expire_overdue_proposals(uuid, uuid, bigint, text) FROM PUBLIC;

-- ---------------------------------------------------------------- what every component may do
GRANT SELECT ON global_settings, market_metadata, loop_heartbeats, exchange_clock_skew
    TO autoinvest_scanner, autoinvest_trader, autoinvest_api, autoinvest_operator;
GRANT SELECT ON users, profiles, profile_policies, scan_jobs, trade_proposals, executions, exchange_orders, fills,
    trade_history, positions, capital_accounts, ledger_entries, llm_usage, outbox_events, audit_log,
    reconciliation_runs, unmanaged_holdings, reconcile_adjustments, quarantined_items
    TO autoinvest_scanner, autoinvest_trader, autoinvest_api, autoinvest_operator;
-- The API never reads a secret, not even encrypted.
GRANT SELECT (id, user_id, purpose, api_key, exchange_url, created_at, verified_at, verification_checks,
              verification_reason) ON exchange_credentials TO autoinvest_api;
GRANT SELECT ON exchange_credentials TO autoinvest_scanner, autoinvest_trader, autoinvest_operator;
GRANT EXECUTE ON FUNCTION app_user_id(), owner_of(text, uuid), profile_ids(), active_profile_ids(),
    execution_state_counts(), failing_reconciliations(integer), quarantined_item_summary()
    TO autoinvest_scanner, autoinvest_trader, autoinvest_api, autoinvest_operator;
GRANT EXECUTE ON FUNCTION audit_record(uuid, text, text, text, text, jsonb, boolean)
    TO autoinvest_scanner, autoinvest_trader, autoinvest_operator;
GRANT INSERT, UPDATE ON loop_heartbeats TO autoinvest_scanner, autoinvest_trader;
GRANT INSERT, UPDATE ON market_metadata TO autoinvest_scanner, autoinvest_trader, autoinvest_operator;
GRANT INSERT, UPDATE ON quarantined_items TO autoinvest_scanner, autoinvest_trader;

-- ---------------------------------------------------------------- scanner (scanner, scheduler)
GRANT UPDATE ON scan_jobs TO autoinvest_scanner;
GRANT INSERT, UPDATE ON llm_usage TO autoinvest_scanner;
GRANT INSERT ON outbox_events TO autoinvest_scanner;
GRANT EXECUTE ON FUNCTION claim_scan_jobs(text, integer, integer), due_scan_job_count(), lock_profile(uuid),
    propose(uuid, uuid, text, text, numeric, numeric, integer, text, text, jsonb, integer, timestamptz, uuid, bigint,
            text, boolean, boolean),
    expire_overdue_proposals(uuid, uuid, bigint, text) TO autoinvest_scanner;

-- ---------------------------------------------------------------- trader (executor, resolver, monitor, reconciler)
GRANT INSERT, UPDATE ON executions, exchange_orders, positions, reconciliation_runs, unmanaged_holdings,
    reconcile_adjustments, exchange_clock_skew TO autoinvest_trader;
GRANT INSERT ON fills, trade_history, ledger_entries, outbox_events TO autoinvest_trader;
-- The outcome of verifying a key pair, never the key, its secret or its exchange.
GRANT UPDATE (verified_at, verification_checks, verification_reason) ON exchange_credentials TO autoinvest_trader;
GRANT EXECUTE ON FUNCTION approved_proposal_ids(integer), execution_ids_in_state(text, integer, integer),
    unconfirmed_not_placed_ids(integer), in_flight_execution_ids(integer), lock_profile(uuid), pause_profile(uuid),
    capital_account_locked(uuid, boolean) TO autoinvest_trader;

-- ---------------------------------------------------------------- operator (the CLI)
GRANT INSERT, UPDATE ON users, profiles, profile_policies, scan_jobs TO autoinvest_operator;
GRANT INSERT, UPDATE, DELETE ON exchange_credentials TO autoinvest_operator;
-- A new account starts at zero: only its keys are named; ledger entries move it from there.
GRANT INSERT (profile_id, user_id) ON capital_accounts TO autoinvest_operator;
GRANT INSERT ON ledger_entries, outbox_events TO autoinvest_operator;
GRANT UPDATE (status, decided_at, decided_by) ON trade_proposals TO autoinvest_operator;
-- `reconcile ack` books the acknowledged shortfall: the position and its ADJUST entry.
GRANT UPDATE ON reconcile_adjustments TO autoinvest_operator;
GRANT INSERT, UPDATE ON positions TO autoinvest_operator;
GRANT EXECUTE ON FUNCTION set_global_kill_switch(boolean, text, text), in_flight_execution_ids(integer),
    lock_profile(uuid), pause_profile(uuid), capital_account_locked(uuid, boolean), restate_capital_account(uuid),
    propose(uuid, uuid, text, text, numeric, numeric, integer, text, text, jsonb, integer, timestamptz, uuid, bigint,
            text, boolean, boolean),
    expire_overdue_proposals(uuid, uuid, bigint, text) TO autoinvest_operator;
