CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO pg_database_owner;
COMMENT ON SCHEMA public IS 'standard public schema';
CREATE FUNCTION public.active_profile_ids() RETURNS TABLE(profile_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT id, user_id FROM profiles WHERE status = 'active' ORDER BY id
$$;
ALTER FUNCTION public.active_profile_ids() OWNER TO autoinvest_owner;
CREATE FUNCTION public.app_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;
ALTER FUNCTION public.app_user_id() OWNER TO autoinvest_owner;
CREATE FUNCTION public.approved_proposal_ids(p_limit integer) RETURNS TABLE(proposal_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT p.id, p.user_id FROM trade_proposals p
     WHERE p.status = 'APPROVED'
       AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)
     ORDER BY p.created_at
     LIMIT p_limit
$$;
ALTER FUNCTION public.approved_proposal_ids(p_limit integer) OWNER TO autoinvest_owner;
CREATE FUNCTION public.audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text, p_details jsonb, p_once boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text, p_details jsonb, p_once boolean) OWNER TO autoinvest_owner;
CREATE FUNCTION public.capital_account_locked(p_profile_id uuid, p_exclusive boolean DEFAULT false) RETURNS TABLE(user_id uuid, allocated numeric, reserved_for_orders numeric, reserved_for_positions numeric, realized_pnl numeric)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.capital_account_locked(p_profile_id uuid, p_exclusive boolean) OWNER TO autoinvest_owner;
CREATE FUNCTION public.claim_scan_jobs(p_worker text, p_batch integer, p_lease_seconds integer) RETURNS TABLE(job_id uuid, profile_id uuid, user_id uuid, fencing_token bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    WITH due AS (
        SELECT j.id FROM scan_jobs j JOIN profiles p ON p.id = j.profile_id
         WHERE p.status = 'active' AND j.next_run_at <= now()
           AND (j.locked_until IS NULL OR j.locked_until < now())
         ORDER BY j.next_run_at
         LIMIT p_batch
         FOR UPDATE OF j SKIP LOCKED
    )
    UPDATE scan_jobs j
       SET locked_by = p_worker,
           locked_until = now() + make_interval(secs => p_lease_seconds),
           fencing_token = j.fencing_token + 1
      FROM due WHERE j.id = due.id
    RETURNING j.id, j.profile_id, j.user_id, j.fencing_token
$$;
ALTER FUNCTION public.claim_scan_jobs(p_worker text, p_batch integer, p_lease_seconds integer) OWNER TO autoinvest_owner;
CREATE FUNCTION public.credential_user_ids(p_purpose text) RETURNS TABLE(user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT user_id FROM exchange_credentials WHERE purpose = p_purpose ORDER BY user_id
$$;
ALTER FUNCTION public.credential_user_ids(p_purpose text) OWNER TO autoinvest_owner;
CREATE FUNCTION public.due_scan_job_count() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT count(*) FROM scan_jobs j JOIN profiles p ON p.id = j.profile_id
     WHERE p.status = 'active' AND j.next_run_at <= now() AND (j.locked_until IS NULL OR j.locked_until < now())
$$;
ALTER FUNCTION public.due_scan_job_count() OWNER TO autoinvest_owner;
CREATE FUNCTION public.exchange_key(p_url text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$ SELECT regexp_replace(rtrim(lower(btrim(p_url)), '/'), '/v2$', '') $_$;
ALTER FUNCTION public.exchange_key(p_url text) OWNER TO autoinvest_owner;
CREATE FUNCTION public.execution_ids_in_state(p_state text, p_older_than_seconds integer, p_limit integer) RETURNS TABLE(execution_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT e.id, e.user_id FROM executions e
     WHERE e.state = p_state AND e.updated_at <= now() - make_interval(secs => p_older_than_seconds)
     ORDER BY e.updated_at
     LIMIT p_limit
$$;
ALTER FUNCTION public.execution_ids_in_state(p_state text, p_older_than_seconds integer, p_limit integer) OWNER TO autoinvest_owner;
CREATE FUNCTION public.execution_state_counts() RETURNS TABLE(state text, n bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT state, count(*) FROM executions GROUP BY state ORDER BY state
$$;
ALTER FUNCTION public.execution_state_counts() OWNER TO autoinvest_owner;
CREATE FUNCTION public.expire_overdue_proposals(p_profile_id uuid, p_job uuid DEFAULT NULL::uuid, p_token bigint DEFAULT NULL::bigint, p_worker text DEFAULT NULL::text) RETURNS SETOF uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.expire_overdue_proposals(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) OWNER TO autoinvest_owner;
CREATE FUNCTION public.failing_reconciliations(p_runs integer) RETURNS TABLE(profile_id uuid, failed bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public'
    AS $$
    SELECT r.profile_id, count(*)
      FROM (SELECT rr.profile_id, jsonb_array_length(coalesce(rr.report->'errors', '[]')) > 0 AS errored,
                   row_number() OVER (PARTITION BY rr.profile_id ORDER BY rr.started_at DESC, rr.id) AS k
              FROM reconciliation_runs rr WHERE rr.finished_at IS NOT NULL) r
     WHERE r.k <= p_runs
     GROUP BY r.profile_id
    HAVING count(*) = p_runs AND bool_and(r.errored)
     ORDER BY r.profile_id
$$;
ALTER FUNCTION public.failing_reconciliations(p_runs integer) OWNER TO autoinvest_owner;
CREATE FUNCTION public.in_flight_execution_ids(p_within_seconds integer) RETURNS TABLE(execution_id uuid, user_id uuid, profile_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public'
    AS $$
    SELECT e.id, e.user_id, e.profile_id FROM executions e
     WHERE e.state IN ('CLAIMED', 'SUBMITTING') AND e.updated_at > now() - make_interval(secs => p_within_seconds)
     ORDER BY e.updated_at
$$;
ALTER FUNCTION public.in_flight_execution_ids(p_within_seconds integer) OWNER TO autoinvest_owner;
CREATE FUNCTION public.lease_approved_proposal(p_worker text, p_hint uuid, p_skip uuid[], p_lease_seconds integer) RETURNS TABLE(proposal_id uuid, user_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
    candidate record;
    leased uuid;
BEGIN
    -- An expired lease means nothing any more (its proposal was executed, or its executor died): the table
    -- stays as small as the work of the last LEASE_S seconds.
    DELETE FROM executor_leases l WHERE l.leased_until < now();
    FOR candidate IN
        SELECT p.id, p.user_id FROM trade_proposals p
         WHERE p.status = 'APPROVED' AND p.id <> ALL (p_skip)
           AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)
           AND NOT EXISTS (SELECT 1 FROM executor_leases l WHERE l.proposal_id = p.id AND l.leased_until > now())
         ORDER BY p.id IS DISTINCT FROM p_hint, p.created_at
         LIMIT 16
    LOOP
        INSERT INTO executor_leases AS l (proposal_id, worker, leased_until)
        VALUES (candidate.id, p_worker, now() + make_interval(secs => p_lease_seconds))
        ON CONFLICT ON CONSTRAINT executor_leases_pkey DO UPDATE
           SET worker = EXCLUDED.worker, leased_until = EXCLUDED.leased_until
         WHERE l.leased_until <= now()
        RETURNING l.proposal_id INTO leased;
        IF leased IS NOT NULL THEN
            proposal_id := candidate.id;
            user_id := candidate.user_id;
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END $$;
ALTER FUNCTION public.lease_approved_proposal(p_worker text, p_hint uuid, p_skip uuid[], p_lease_seconds integer) OWNER TO autoinvest_owner;
CREATE FUNCTION public.ledger_difference_ids(p_active_only boolean) RETURNS TABLE(profile_id uuid, user_id uuid, differs boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.ledger_difference_ids(p_active_only boolean) OWNER TO autoinvest_owner;
CREATE FUNCTION public.ledger_entries_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
ALTER FUNCTION public.ledger_entries_append_only() OWNER TO autoinvest_owner;
CREATE FUNCTION public.ledger_entries_move_account() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.ledger_entries_move_account() OWNER TO autoinvest_owner;
CREATE FUNCTION public.lock_profile(p_profile_id uuid) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT true FROM profiles WHERE id = p_profile_id AND user_id = app_user_id() FOR UPDATE;
$$;
ALTER FUNCTION public.lock_profile(p_profile_id uuid) OWNER TO autoinvest_owner;
CREATE FUNCTION public.notify_proposal_approved() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('autoinvest_approved', NEW.id::text);
    RETURN NULL;
END $$;
ALTER FUNCTION public.notify_proposal_approved() OWNER TO autoinvest_owner;
CREATE FUNCTION public.owner_of(p_kind text, p_id uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT CASE p_kind
        WHEN 'user' THEN (SELECT id FROM users WHERE id = p_id)
        WHEN 'profile' THEN (SELECT user_id FROM profiles WHERE id = p_id)
        WHEN 'proposal' THEN (SELECT user_id FROM trade_proposals WHERE id = p_id)
        WHEN 'execution' THEN (SELECT user_id FROM executions WHERE id = p_id)
    END
$$;
ALTER FUNCTION public.owner_of(p_kind text, p_id uuid) OWNER TO autoinvest_owner;
CREATE FUNCTION public.pause_profile(p_profile_id uuid) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    UPDATE profile_policies SET trading_enabled = false, updated_at = now()
     WHERE profile_id = p_profile_id AND user_id = app_user_id()
    RETURNING user_id;
$$;
ALTER FUNCTION public.pause_profile(p_profile_id uuid) OWNER TO autoinvest_owner;
CREATE FUNCTION public.profile_ids() RETURNS TABLE(profile_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT id, user_id FROM profiles ORDER BY id
$$;
ALTER FUNCTION public.profile_ids() OWNER TO autoinvest_owner;
CREATE FUNCTION public.propose(p_id uuid, p_profile_id uuid, p_market text, p_side text, p_amount_eur numeric, p_amount_base numeric, p_confidence integer, p_rationale text, p_source text, p_policy_snapshot jsonb, p_ttl_seconds integer, p_scan_window timestamp with time zone, p_job uuid, p_token bigint, p_worker text, p_override_cooldown boolean DEFAULT false, p_override_anti_flip boolean DEFAULT false) RETURNS TABLE(id uuid, status text, created_at timestamp with time zone, expires_at timestamp with time zone, decided_by text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.propose(p_id uuid, p_profile_id uuid, p_market text, p_side text, p_amount_eur numeric, p_amount_base numeric, p_confidence integer, p_rationale text, p_source text, p_policy_snapshot jsonb, p_ttl_seconds integer, p_scan_window timestamp with time zone, p_job uuid, p_token bigint, p_worker text, p_override_cooldown boolean, p_override_anti_flip boolean) OWNER TO autoinvest_owner;
CREATE FUNCTION public.quarantined_item_summary() RETURNS TABLE(id uuid, user_id uuid, endpoint text, reason text, first_seen timestamp with time zone, last_seen timestamp with time zone, seen_count bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public'
    AS $$
    SELECT q.id, q.user_id, q.endpoint, q.reason, q.first_seen, q.last_seen, q.seen_count
      FROM quarantined_items q ORDER BY q.last_seen DESC
$$;
ALTER FUNCTION public.quarantined_item_summary() OWNER TO autoinvest_owner;
CREATE FUNCTION public.release_executor_lease(p_proposal_id uuid, p_worker text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    DELETE FROM executor_leases WHERE proposal_id = p_proposal_id AND worker = p_worker
$$;
ALTER FUNCTION public.release_executor_lease(p_proposal_id uuid, p_worker text) OWNER TO autoinvest_owner;
CREATE FUNCTION public.restate_capital_account(p_profile_id uuid) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
ALTER FUNCTION public.restate_capital_account(p_profile_id uuid) OWNER TO autoinvest_owner;
CREATE FUNCTION public.scan_fence_holds(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT 1 FROM scan_jobs j WHERE j.id = p_job AND j.profile_id = p_profile_id
                      AND j.user_id = app_user_id() AND j.fencing_token = p_token AND j.locked_by = p_worker
                      AND j.locked_until > now());
$$;
ALTER FUNCTION public.scan_fence_holds(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) OWNER TO autoinvest_owner;
CREATE FUNCTION public.sendable_account_ids() RETURNS TABLE(user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT DISTINCT t.user_id FROM trade_proposals t JOIN profiles p ON p.id = t.profile_id
     WHERE t.status = 'APPROVED' AND p.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.user_id = t.user_id AND e.proposal_id = t.id)
     ORDER BY t.user_id
$$;
ALTER FUNCTION public.sendable_account_ids() OWNER TO autoinvest_owner;
CREATE FUNCTION public.set_global_kill_switch(p_on boolean, p_actor text, p_reason text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    UPDATE global_settings SET kill_switch = p_on, kill_switch_reason = p_reason, updated_at = now() WHERE id = 1;
    INSERT INTO audit_log (user_id, actor, action, subject_type, subject_id, details)
    VALUES (NULL, p_actor, CASE WHEN p_on THEN 'kill_switch.on' ELSE 'kill_switch.off' END, 'global', NULL,
            jsonb_build_object('reason', p_reason));
$$;
ALTER FUNCTION public.set_global_kill_switch(p_on boolean, p_actor text, p_reason text) OWNER TO autoinvest_owner;
CREATE FUNCTION public.unconfirmed_not_placed_ids(p_limit integer) RETURNS TABLE(execution_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public'
    AS $$
    SELECT e.id, e.user_id FROM executions e
     WHERE e.state = 'NOT_PLACED' AND e.confirmed_at IS NULL AND e.confirm_after <= now()
     ORDER BY e.confirm_after
     LIMIT p_limit
$$;
ALTER FUNCTION public.unconfirmed_not_placed_ids(p_limit integer) OWNER TO autoinvest_owner;
CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);
ALTER TABLE public.alembic_version OWNER TO autoinvest_owner;
CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    user_id uuid,
    actor text NOT NULL,
    action text NOT NULL,
    subject_type text NOT NULL,
    subject_id text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    db_user text DEFAULT SESSION_USER NOT NULL
);
ALTER TABLE ONLY public.audit_log FORCE ROW LEVEL SECURITY;
ALTER TABLE public.audit_log OWNER TO autoinvest_owner;
COMMENT ON COLUMN public.audit_log.db_user IS 'The database login that wrote the row (session_user), stamped by audit_record()';
ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.capital_accounts (
    profile_id uuid NOT NULL,
    user_id uuid NOT NULL,
    currency text DEFAULT 'EUR'::text NOT NULL,
    allocated numeric DEFAULT 0 NOT NULL,
    reserved_for_orders numeric DEFAULT 0 NOT NULL,
    reserved_for_positions numeric DEFAULT 0 NOT NULL,
    realized_pnl numeric DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT capital_accounts_allocated_check CHECK ((allocated >= (0)::numeric)),
    CONSTRAINT capital_accounts_currency_check CHECK ((currency = 'EUR'::text)),
    CONSTRAINT capital_accounts_reserved_for_orders_check CHECK ((reserved_for_orders >= (0)::numeric)),
    CONSTRAINT capital_accounts_reserved_for_positions_check CHECK ((reserved_for_positions >= (0)::numeric)),
    CONSTRAINT capital_invariant CHECK (((((allocated - reserved_for_orders) - reserved_for_positions) + realized_pnl) >= (0)::numeric))
);
ALTER TABLE ONLY public.capital_accounts FORCE ROW LEVEL SECURITY;
ALTER TABLE public.capital_accounts OWNER TO autoinvest_owner;
CREATE TABLE public.exchange_clock_skew (
    exchange_url text NOT NULL,
    skew_ms bigint NOT NULL,
    round_trip_ms bigint NOT NULL,
    measured_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT exchange_clock_skew_round_trip_ms_check CHECK ((round_trip_ms >= 0))
);
ALTER TABLE public.exchange_clock_skew OWNER TO autoinvest_owner;
CREATE TABLE public.exchange_credentials (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    purpose text NOT NULL,
    api_key text NOT NULL,
    secret_encrypted text NOT NULL,
    exchange_url text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    verified_at timestamp with time zone,
    verification_checks jsonb,
    verification_reason text,
    CONSTRAINT exchange_credentials_purpose_check CHECK ((purpose = ANY (ARRAY['readonly'::text, 'trade'::text]))),
    CONSTRAINT exchange_credentials_verification_complete CHECK ((((verified_at IS NULL) = (verification_checks IS NULL)) AND ((verification_reason IS NULL) OR (verified_at IS NOT NULL))))
);
ALTER TABLE ONLY public.exchange_credentials FORCE ROW LEVEL SECURITY;
ALTER TABLE public.exchange_credentials OWNER TO autoinvest_owner;
COMMENT ON COLUMN public.exchange_credentials.secret_encrypted IS 'v2:<vault key id>:<Fernet token of {user, purpose, kid, secret}>; key per purpose (settings)';
CREATE TABLE public.exchange_orders (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    execution_id uuid,
    exchange_order_id text NOT NULL,
    client_order_id uuid,
    market text NOT NULL,
    side text NOT NULL,
    order_type text NOT NULL,
    status text NOT NULL,
    amount numeric,
    amount_quote numeric,
    filled_amount numeric DEFAULT 0 NOT NULL,
    filled_amount_quote numeric DEFAULT 0 NOT NULL,
    fee_paid numeric DEFAULT 0 NOT NULL,
    fee_currency text,
    raw jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT exchange_orders_fee_paid_check CHECK ((fee_paid >= (0)::numeric)),
    CONSTRAINT exchange_orders_filled_amount_check CHECK ((filled_amount >= (0)::numeric)),
    CONSTRAINT exchange_orders_filled_amount_quote_check CHECK ((filled_amount_quote >= (0)::numeric)),
    CONSTRAINT exchange_orders_side_check CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text])))
);
ALTER TABLE ONLY public.exchange_orders FORCE ROW LEVEL SECURITY;
ALTER TABLE public.exchange_orders OWNER TO autoinvest_owner;
CREATE TABLE public.executions (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    proposal_id uuid NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    state text NOT NULL,
    client_order_id uuid NOT NULL,
    amount_eur numeric,
    amount_base numeric,
    reserved_eur numeric DEFAULT 0 NOT NULL,
    reasons text[] DEFAULT '{}'::text[] NOT NULL,
    preflight jsonb DEFAULT '{}'::jsonb NOT NULL,
    request jsonb,
    response jsonb,
    exchange_order_id text,
    submit_ts timestamp with time zone,
    not_found_count integer DEFAULT 0 NOT NULL,
    lease_owner text,
    lease_until timestamp with time zone,
    lease_token bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    confirm_after timestamp with time zone,
    confirmed_at timestamp with time zone,
    last_not_found_at timestamp with time zone,
    CONSTRAINT executions_amount_base_check CHECK ((amount_base > (0)::numeric)),
    CONSTRAINT executions_amount_eur_check CHECK ((amount_eur > (0)::numeric)),
    CONSTRAINT executions_check CHECK (((state = ANY (ARRAY['CLAIMED'::text, 'REJECTED'::text])) OR (submit_ts IS NOT NULL))),
    CONSTRAINT executions_not_placed_confirmable CHECK (((state <> 'NOT_PLACED'::text) OR (confirm_after IS NOT NULL) OR (confirmed_at IS NOT NULL))),
    CONSTRAINT executions_reserved_eur_check CHECK ((reserved_eur >= (0)::numeric)),
    CONSTRAINT executions_side_check CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text]))),
    CONSTRAINT executions_state_check CHECK ((state = ANY (ARRAY['CLAIMED'::text, 'SUBMITTING'::text, 'SUBMITTED'::text, 'FILLED'::text, 'CANCELED'::text, 'REJECTED'::text, 'NOT_PLACED'::text])))
);
ALTER TABLE ONLY public.executions FORCE ROW LEVEL SECURITY;
ALTER TABLE public.executions OWNER TO autoinvest_owner;
CREATE TABLE public.executor_leases (
    proposal_id uuid NOT NULL,
    worker text NOT NULL,
    leased_until timestamp with time zone NOT NULL
);
ALTER TABLE public.executor_leases OWNER TO autoinvest_owner;
CREATE TABLE public.fills (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    execution_id uuid,
    exchange_order_id text NOT NULL,
    exchange_fill_id text NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    amount numeric NOT NULL,
    price numeric NOT NULL,
    fee numeric DEFAULT 0 NOT NULL,
    fee_currency text DEFAULT 'EUR'::text NOT NULL,
    taker boolean DEFAULT true NOT NULL,
    filled_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT fills_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT fills_fee_check CHECK ((fee >= (0)::numeric)),
    CONSTRAINT fills_price_check CHECK ((price > (0)::numeric)),
    CONSTRAINT fills_side_check CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text])))
);
ALTER TABLE ONLY public.fills FORCE ROW LEVEL SECURITY;
ALTER TABLE public.fills OWNER TO autoinvest_owner;
CREATE TABLE public.global_settings (
    id smallint DEFAULT 1 NOT NULL,
    kill_switch boolean DEFAULT false NOT NULL,
    kill_switch_reason text,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT global_settings_id_check CHECK ((id = 1))
);
ALTER TABLE public.global_settings OWNER TO autoinvest_owner;
CREATE TABLE public.ledger_entries (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    kind text NOT NULL,
    reference text NOT NULL,
    d_allocated numeric DEFAULT 0 NOT NULL,
    d_reserved_for_orders numeric DEFAULT 0 NOT NULL,
    d_reserved_for_positions numeric DEFAULT 0 NOT NULL,
    d_realized_pnl numeric DEFAULT 0 NOT NULL,
    memo jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ledger_entries_kind_check CHECK ((kind = ANY (ARRAY['ALLOCATE'::text, 'DEALLOCATE'::text, 'RESERVE'::text, 'RELEASE'::text, 'FILL'::text, 'FEE'::text, 'EXIT'::text, 'ADJUST'::text])))
);
ALTER TABLE ONLY public.ledger_entries FORCE ROW LEVEL SECURITY;
ALTER TABLE public.ledger_entries OWNER TO autoinvest_owner;
ALTER TABLE public.ledger_entries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ledger_entries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.llm_usage (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    status text DEFAULT 'reserved'::text NOT NULL,
    reserved_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    prompt_tokens integer,
    completion_tokens integer,
    latency_ms integer,
    outcome text,
    CONSTRAINT llm_usage_completion_tokens_check CHECK ((completion_tokens >= 0)),
    CONSTRAINT llm_usage_latency_ms_check CHECK ((latency_ms >= 0)),
    CONSTRAINT llm_usage_prompt_tokens_check CHECK ((prompt_tokens >= 0)),
    CONSTRAINT llm_usage_status_check CHECK ((status = ANY (ARRAY['reserved'::text, 'completed'::text, 'failed'::text])))
);
ALTER TABLE ONLY public.llm_usage FORCE ROW LEVEL SECURITY;
ALTER TABLE public.llm_usage OWNER TO autoinvest_owner;
CREATE TABLE public.loop_heartbeats (
    loop_name text NOT NULL,
    instance text NOT NULL,
    last_success_at timestamp with time zone DEFAULT now() NOT NULL,
    last_error text
);
ALTER TABLE public.loop_heartbeats OWNER TO autoinvest_owner;
CREATE TABLE public.market_metadata (
    market text NOT NULL,
    base text NOT NULL,
    quote text NOT NULL,
    status text NOT NULL,
    min_order_base numeric NOT NULL,
    min_order_quote numeric NOT NULL,
    max_order_base numeric,
    tick_size numeric NOT NULL,
    quantity_decimals smallint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    exchange_url text NOT NULL,
    CONSTRAINT market_metadata_exchange_url_check CHECK ((exchange_url = public.exchange_key(exchange_url))),
    CONSTRAINT market_metadata_max_order_base_check CHECK ((max_order_base > (0)::numeric)),
    CONSTRAINT market_metadata_min_order_base_check CHECK ((min_order_base >= (0)::numeric)),
    CONSTRAINT market_metadata_min_order_quote_check CHECK ((min_order_quote >= (0)::numeric)),
    CONSTRAINT market_metadata_quantity_decimals_check CHECK ((quantity_decimals >= 0)),
    CONSTRAINT market_metadata_tick_size_check CHECK ((tick_size > (0)::numeric))
);
ALTER TABLE public.market_metadata OWNER TO autoinvest_owner;
CREATE TABLE public.outbox_events (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    published_at timestamp with time zone
);
ALTER TABLE ONLY public.outbox_events FORCE ROW LEVEL SECURITY;
ALTER TABLE public.outbox_events OWNER TO autoinvest_owner;
ALTER TABLE public.outbox_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.outbox_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.positions (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    market text NOT NULL,
    quantity numeric DEFAULT 0 NOT NULL,
    cost_basis_eur numeric DEFAULT 0 NOT NULL,
    realized_pnl_eur numeric DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT positions_cost_basis_eur_check CHECK ((cost_basis_eur >= (0)::numeric)),
    CONSTRAINT positions_quantity_check CHECK ((quantity >= (0)::numeric))
);
ALTER TABLE ONLY public.positions FORCE ROW LEVEL SECURITY;
ALTER TABLE public.positions OWNER TO autoinvest_owner;
CREATE TABLE public.profile_policies (
    profile_id uuid NOT NULL,
    user_id uuid NOT NULL,
    trading_enabled boolean DEFAULT true NOT NULL,
    allowlist text[] DEFAULT '{}'::text[] NOT NULL,
    min_order_eur numeric DEFAULT 5 NOT NULL,
    max_order_eur numeric DEFAULT 100 NOT NULL,
    allowed_confidences smallint[] DEFAULT '{50,75,100}'::smallint[] NOT NULL,
    min_confidence smallint DEFAULT 50 NOT NULL,
    cooldown_minutes integer DEFAULT 60 NOT NULL,
    anti_flip_minutes integer DEFAULT 240 NOT NULL,
    max_trades_per_day integer DEFAULT 10 NOT NULL,
    max_trades_per_hour integer DEFAULT 3 NOT NULL,
    llm_calls_per_day integer DEFAULT 48 NOT NULL,
    llm_calls_per_hour integer DEFAULT 6 NOT NULL,
    proposal_ttl_seconds integer DEFAULT 900 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT profile_policies_allowed_confidences_check CHECK ((allowed_confidences <@ ARRAY[(0)::smallint, (25)::smallint, (50)::smallint, (75)::smallint, (100)::smallint])),
    CONSTRAINT profile_policies_anti_flip_minutes_check CHECK ((anti_flip_minutes >= 0)),
    CONSTRAINT profile_policies_check CHECK ((max_order_eur >= min_order_eur)),
    CONSTRAINT profile_policies_cooldown_minutes_check CHECK ((cooldown_minutes >= 0)),
    CONSTRAINT profile_policies_llm_calls_per_day_check CHECK ((llm_calls_per_day >= 0)),
    CONSTRAINT profile_policies_llm_calls_per_hour_check CHECK ((llm_calls_per_hour >= 0)),
    CONSTRAINT profile_policies_max_trades_per_day_check CHECK ((max_trades_per_day >= 0)),
    CONSTRAINT profile_policies_max_trades_per_hour_check CHECK ((max_trades_per_hour >= 0)),
    CONSTRAINT profile_policies_min_confidence_check CHECK ((min_confidence = ANY (ARRAY[0, 25, 50, 75, 100]))),
    CONSTRAINT profile_policies_min_order_eur_check CHECK ((min_order_eur > (0)::numeric)),
    CONSTRAINT profile_policies_proposal_ttl_seconds_check CHECK ((proposal_ttl_seconds > 0))
);
ALTER TABLE ONLY public.profile_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE public.profile_policies OWNER TO autoinvest_owner;
CREATE TABLE public.profiles (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    name text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    quote_currency text DEFAULT 'EUR'::text NOT NULL,
    scan_interval_seconds integer DEFAULT 300 NOT NULL,
    strategy text DEFAULT 'momentum'::text NOT NULL,
    risk_preset text DEFAULT 'observer'::text NOT NULL,
    auto_approve_threshold smallint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT profiles_auto_approve_threshold_check CHECK ((auto_approve_threshold = ANY (ARRAY[0, 25, 50, 75, 100]))),
    CONSTRAINT profiles_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT profiles_quote_currency_check CHECK ((quote_currency = 'EUR'::text)),
    CONSTRAINT profiles_risk_preset_check CHECK ((risk_preset = ANY (ARRAY['observer'::text, 'hunter'::text, 'semiauto'::text, 'custom'::text]))),
    CONSTRAINT profiles_scan_interval_seconds_check CHECK (((scan_interval_seconds >= 5) AND (scan_interval_seconds <= 86400))),
    CONSTRAINT profiles_status_check CHECK ((status = ANY (ARRAY['active'::text, 'paused'::text, 'archived'::text]))),
    CONSTRAINT profiles_strategy_check CHECK ((strategy = ANY (ARRAY['dca'::text, 'momentum'::text, 'mean_reversion'::text, 'llm'::text])))
);
ALTER TABLE ONLY public.profiles FORCE ROW LEVEL SECURITY;
ALTER TABLE public.profiles OWNER TO autoinvest_owner;
CREATE TABLE public.quarantined_items (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    exchange_url text NOT NULL,
    endpoint text NOT NULL,
    reason text NOT NULL,
    detail text DEFAULT ''::text NOT NULL,
    item jsonb NOT NULL,
    item_digest text NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL,
    seen_count bigint DEFAULT 1 NOT NULL,
    CONSTRAINT quarantined_items_seen_count_check CHECK ((seen_count >= 1))
);
ALTER TABLE ONLY public.quarantined_items FORCE ROW LEVEL SECURITY;
ALTER TABLE public.quarantined_items OWNER TO autoinvest_owner;
CREATE TABLE public.reconcile_adjustments (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    market text NOT NULL,
    d_quantity numeric NOT NULL,
    value_eur numeric NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    acked_at timestamp with time zone,
    acked_by text,
    CONSTRAINT reconcile_adjustments_check CHECK (((status <> 'booked'::text) OR ((acked_at IS NOT NULL) AND (acked_by IS NOT NULL)))),
    CONSTRAINT reconcile_adjustments_d_quantity_check CHECK ((d_quantity < (0)::numeric)),
    CONSTRAINT reconcile_adjustments_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'booked'::text, 'cleared'::text]))),
    CONSTRAINT reconcile_adjustments_value_eur_check CHECK ((value_eur >= (0)::numeric))
);
ALTER TABLE ONLY public.reconcile_adjustments FORCE ROW LEVEL SECURITY;
ALTER TABLE public.reconcile_adjustments OWNER TO autoinvest_owner;
CREATE TABLE public.reconciliation_runs (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    status text DEFAULT 'running'::text NOT NULL,
    mismatches jsonb DEFAULT '{}'::jsonb NOT NULL,
    report jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT reconciliation_runs_status_check CHECK ((status = ANY (ARRAY['running'::text, 'ok'::text, 'repaired'::text, 'failed'::text])))
);
ALTER TABLE ONLY public.reconciliation_runs FORCE ROW LEVEL SECURITY;
ALTER TABLE public.reconciliation_runs OWNER TO autoinvest_owner;
CREATE TABLE public.scan_jobs (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    next_run_at timestamp with time zone DEFAULT now() NOT NULL,
    locked_by text,
    locked_until timestamp with time zone,
    fencing_token bigint DEFAULT 0 NOT NULL,
    last_run_at timestamp with time zone,
    last_error text
);
ALTER TABLE ONLY public.scan_jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE public.scan_jobs OWNER TO autoinvest_owner;
CREATE TABLE public.trade_history (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    fill_id uuid NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    amount_base numeric NOT NULL,
    price numeric NOT NULL,
    amount_eur numeric NOT NULL,
    fee_eur numeric DEFAULT 0 NOT NULL,
    realized_pnl_eur numeric DEFAULT 0 NOT NULL,
    executed_at timestamp with time zone NOT NULL,
    CONSTRAINT trade_history_amount_base_check CHECK ((amount_base > (0)::numeric)),
    CONSTRAINT trade_history_amount_eur_check CHECK ((amount_eur > (0)::numeric)),
    CONSTRAINT trade_history_fee_eur_check CHECK ((fee_eur >= (0)::numeric)),
    CONSTRAINT trade_history_price_check CHECK ((price > (0)::numeric)),
    CONSTRAINT trade_history_side_check CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text])))
);
ALTER TABLE ONLY public.trade_history FORCE ROW LEVEL SECURITY;
ALTER TABLE public.trade_history OWNER TO autoinvest_owner;
CREATE TABLE public.trade_proposals (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    profile_id uuid NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    amount_eur numeric,
    amount_base numeric,
    confidence smallint NOT NULL,
    rationale text DEFAULT ''::text NOT NULL,
    source text NOT NULL,
    status text DEFAULT 'PENDING'::text NOT NULL,
    policy_snapshot jsonb DEFAULT '{}'::jsonb NOT NULL,
    scan_window timestamp with time zone,
    scan_fencing_token bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    decided_at timestamp with time zone,
    decided_by text,
    override_cooldown boolean DEFAULT false NOT NULL,
    override_anti_flip boolean DEFAULT false NOT NULL,
    CONSTRAINT trade_proposals_amount_base_check CHECK ((amount_base > (0)::numeric)),
    CONSTRAINT trade_proposals_amount_eur_check CHECK ((amount_eur > (0)::numeric)),
    CONSTRAINT trade_proposals_check CHECK (((amount_eur IS NULL) <> (amount_base IS NULL))),
    CONSTRAINT trade_proposals_check1 CHECK ((expires_at > created_at)),
    CONSTRAINT trade_proposals_confidence_check CHECK ((confidence = ANY (ARRAY[0, 25, 50, 75, 100]))),
    CONSTRAINT trade_proposals_decided_by_check CHECK ((decided_by = ANY (ARRAY['user'::text, 'auto'::text]))),
    CONSTRAINT trade_proposals_market_check CHECK ((market ~ '^[A-Z0-9]+-[A-Z0-9]+$'::text)),
    CONSTRAINT trade_proposals_side_check CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text]))),
    CONSTRAINT trade_proposals_source_check CHECK ((source = ANY (ARRAY['rules'::text, 'llm'::text, 'manual'::text]))),
    CONSTRAINT trade_proposals_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'APPROVED'::text, 'REJECTED'::text, 'EXPIRED'::text, 'EXECUTED'::text])))
);
ALTER TABLE ONLY public.trade_proposals FORCE ROW LEVEL SECURITY;
ALTER TABLE public.trade_proposals OWNER TO autoinvest_owner;
CREATE TABLE public.unmanaged_holdings (
    user_id uuid NOT NULL,
    asset text NOT NULL,
    amount numeric NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT unmanaged_holdings_amount_check CHECK ((amount >= (0)::numeric)),
    CONSTRAINT unmanaged_holdings_asset_check CHECK ((asset <> ''::text))
);
ALTER TABLE ONLY public.unmanaged_holdings FORCE ROW LEVEL SECURITY;
ALTER TABLE public.unmanaged_holdings OWNER TO autoinvest_owner;
CREATE TABLE public.users (
    id uuid NOT NULL,
    email text NOT NULL,
    kill_switch boolean DEFAULT false NOT NULL,
    kill_switch_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_email_check CHECK ((email ~ '^[^@\s]+@[^@\s]+$'::text))
);
ALTER TABLE ONLY public.users FORCE ROW LEVEL SECURITY;
ALTER TABLE public.users OWNER TO autoinvest_owner;
ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);
ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.capital_accounts
    ADD CONSTRAINT capital_accounts_pkey PRIMARY KEY (profile_id);
ALTER TABLE ONLY public.exchange_clock_skew
    ADD CONSTRAINT exchange_clock_skew_pkey PRIMARY KEY (exchange_url);
ALTER TABLE ONLY public.exchange_credentials
    ADD CONSTRAINT exchange_credentials_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.exchange_credentials
    ADD CONSTRAINT exchange_credentials_user_id_purpose_key UNIQUE (user_id, purpose);
ALTER TABLE ONLY public.exchange_orders
    ADD CONSTRAINT exchange_orders_exchange_order_id_key UNIQUE (exchange_order_id);
ALTER TABLE ONLY public.exchange_orders
    ADD CONSTRAINT exchange_orders_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_client_order_id_key UNIQUE (client_order_id);
ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_user_id_proposal_id_key UNIQUE (user_id, proposal_id);
ALTER TABLE ONLY public.executor_leases
    ADD CONSTRAINT executor_leases_pkey PRIMARY KEY (proposal_id);
ALTER TABLE ONLY public.fills
    ADD CONSTRAINT fills_exchange_fill_id_key UNIQUE (exchange_fill_id);
ALTER TABLE ONLY public.fills
    ADD CONSTRAINT fills_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.global_settings
    ADD CONSTRAINT global_settings_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_kind_reference_key UNIQUE (kind, reference);
ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.llm_usage
    ADD CONSTRAINT llm_usage_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.loop_heartbeats
    ADD CONSTRAINT loop_heartbeats_pkey PRIMARY KEY (loop_name, instance);
ALTER TABLE ONLY public.market_metadata
    ADD CONSTRAINT market_metadata_pkey PRIMARY KEY (exchange_url, market);
ALTER TABLE ONLY public.outbox_events
    ADD CONSTRAINT outbox_events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.positions
    ADD CONSTRAINT positions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.positions
    ADD CONSTRAINT positions_profile_id_market_key UNIQUE (profile_id, market);
ALTER TABLE ONLY public.profile_policies
    ADD CONSTRAINT profile_policies_pkey PRIMARY KEY (profile_id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_id_user_id_key UNIQUE (id, user_id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_user_id_name_key UNIQUE (user_id, name);
ALTER TABLE ONLY public.quarantined_items
    ADD CONSTRAINT quarantined_items_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.quarantined_items
    ADD CONSTRAINT quarantined_items_user_id_exchange_url_endpoint_item_digest_key UNIQUE (user_id, exchange_url, endpoint, item_digest);
ALTER TABLE ONLY public.reconcile_adjustments
    ADD CONSTRAINT reconcile_adjustments_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.reconciliation_runs
    ADD CONSTRAINT reconciliation_runs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.scan_jobs
    ADD CONSTRAINT scan_jobs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.scan_jobs
    ADD CONSTRAINT scan_jobs_profile_id_key UNIQUE (profile_id);
ALTER TABLE ONLY public.trade_history
    ADD CONSTRAINT trade_history_fill_id_key UNIQUE (fill_id);
ALTER TABLE ONLY public.trade_history
    ADD CONSTRAINT trade_history_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.trade_proposals
    ADD CONSTRAINT trade_proposals_id_user_id_key UNIQUE (id, user_id);
ALTER TABLE ONLY public.trade_proposals
    ADD CONSTRAINT trade_proposals_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.trade_proposals
    ADD CONSTRAINT trade_proposals_profile_id_market_scan_window_key UNIQUE (profile_id, market, scan_window);
ALTER TABLE ONLY public.unmanaged_holdings
    ADD CONSTRAINT unmanaged_holdings_pkey PRIMARY KEY (user_id, asset);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX executions_one_live_per_market ON public.executions USING btree (profile_id, market) WHERE ((state = ANY (ARRAY['CLAIMED'::text, 'SUBMITTING'::text, 'SUBMITTED'::text])) OR ((state = 'NOT_PLACED'::text) AND (confirmed_at IS NULL)));
CREATE INDEX executions_state ON public.executions USING btree (state, updated_at);
CREATE INDEX executor_leases_until ON public.executor_leases USING btree (leased_until);
CREATE INDEX fills_profile_market ON public.fills USING btree (profile_id, market, filled_at);
CREATE INDEX ledger_entries_profile ON public.ledger_entries USING btree (profile_id, id);
CREATE INDEX llm_usage_window ON public.llm_usage USING btree (profile_id, reserved_at);
CREATE INDEX quarantined_items_last_seen ON public.quarantined_items USING btree (last_seen);
CREATE UNIQUE INDEX reconcile_adjustments_one_pending ON public.reconcile_adjustments USING btree (profile_id, market) WHERE (status = 'pending'::text);
CREATE INDEX scan_jobs_due ON public.scan_jobs USING btree (next_run_at);
CREATE INDEX trade_proposals_status ON public.trade_proposals USING btree (status, created_at);
CREATE TRIGGER ledger_entries_move_account AFTER INSERT ON public.ledger_entries FOR EACH ROW EXECUTE FUNCTION public.ledger_entries_move_account();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON public.ledger_entries FOR EACH STATEMENT EXECUTE FUNCTION public.ledger_entries_append_only();
CREATE TRIGGER ledger_entries_no_update BEFORE DELETE OR UPDATE ON public.ledger_entries FOR EACH ROW EXECUTE FUNCTION public.ledger_entries_append_only();
CREATE TRIGGER trade_proposals_approved AFTER INSERT OR UPDATE OF status ON public.trade_proposals FOR EACH ROW WHEN ((new.status = 'APPROVED'::text)) EXECUTE FUNCTION public.notify_proposal_approved();
ALTER TABLE ONLY public.capital_accounts
    ADD CONSTRAINT capital_accounts_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.exchange_credentials
    ADD CONSTRAINT exchange_credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
ALTER TABLE ONLY public.exchange_orders
    ADD CONSTRAINT exchange_orders_execution_id_fkey FOREIGN KEY (execution_id) REFERENCES public.executions(id);
ALTER TABLE ONLY public.exchange_orders
    ADD CONSTRAINT exchange_orders_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.executions
    ADD CONSTRAINT executions_proposal_id_user_id_fkey FOREIGN KEY (proposal_id, user_id) REFERENCES public.trade_proposals(id, user_id);
ALTER TABLE ONLY public.executor_leases
    ADD CONSTRAINT executor_leases_proposal_id_fkey FOREIGN KEY (proposal_id) REFERENCES public.trade_proposals(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.fills
    ADD CONSTRAINT fills_execution_id_fkey FOREIGN KEY (execution_id) REFERENCES public.executions(id);
ALTER TABLE ONLY public.fills
    ADD CONSTRAINT fills_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT ledger_entries_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES public.capital_accounts(profile_id);
ALTER TABLE ONLY public.llm_usage
    ADD CONSTRAINT llm_usage_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.outbox_events
    ADD CONSTRAINT outbox_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
ALTER TABLE ONLY public.positions
    ADD CONSTRAINT positions_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.profile_policies
    ADD CONSTRAINT profile_policies_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
ALTER TABLE ONLY public.quarantined_items
    ADD CONSTRAINT quarantined_items_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
ALTER TABLE ONLY public.reconcile_adjustments
    ADD CONSTRAINT reconcile_adjustments_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.reconciliation_runs
    ADD CONSTRAINT reconciliation_runs_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.scan_jobs
    ADD CONSTRAINT scan_jobs_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.trade_history
    ADD CONSTRAINT trade_history_fill_id_fkey FOREIGN KEY (fill_id) REFERENCES public.fills(id);
ALTER TABLE ONLY public.trade_history
    ADD CONSTRAINT trade_history_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.trade_proposals
    ADD CONSTRAINT trade_proposals_profile_id_user_id_fkey FOREIGN KEY (profile_id, user_id) REFERENCES public.profiles(id, user_id);
ALTER TABLE ONLY public.unmanaged_holdings
    ADD CONSTRAINT unmanaged_holdings_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
ALTER TABLE public.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.capital_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.exchange_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.exchange_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.fills ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.ledger_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.llm_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.outbox_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY owner_functions ON public.audit_log TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.capital_accounts TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.exchange_credentials TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.exchange_orders TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.executions TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.fills TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.ledger_entries TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.llm_usage TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.outbox_events TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.positions TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.profile_policies TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.profiles TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.quarantined_items TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.reconcile_adjustments TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.reconciliation_runs TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.scan_jobs TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.trade_history TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.trade_proposals TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.unmanaged_holdings TO autoinvest_owner USING (true) WITH CHECK (true);
CREATE POLICY owner_functions ON public.users TO autoinvest_owner USING (true) WITH CHECK (true);
ALTER TABLE public.positions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.profile_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.quarantined_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reconcile_adjustments ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reconciliation_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.scan_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.audit_log TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.capital_accounts TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.exchange_credentials TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.exchange_orders TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.executions TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.fills TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.ledger_entries TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.llm_usage TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.outbox_events TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.positions TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.profile_policies TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.profiles TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.quarantined_items TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.reconcile_adjustments TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.reconciliation_runs TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.scan_jobs TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.trade_history TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.trade_proposals TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.unmanaged_holdings TO autoinvest_app USING ((user_id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((user_id = ( SELECT public.app_user_id() AS app_user_id)));
CREATE POLICY tenant_isolation ON public.users TO autoinvest_app USING ((id = ( SELECT public.app_user_id() AS app_user_id))) WITH CHECK ((id = ( SELECT public.app_user_id() AS app_user_id)));
ALTER TABLE public.trade_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.trade_proposals ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.unmanaged_holdings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
GRANT ALL ON SCHEMA public TO autoinvest_owner;
REVOKE ALL ON FUNCTION public.active_profile_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION public.active_profile_ids() TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.active_profile_ids() TO autoinvest_trader;
GRANT ALL ON FUNCTION public.active_profile_ids() TO autoinvest_api;
GRANT ALL ON FUNCTION public.active_profile_ids() TO autoinvest_operator;
GRANT ALL ON FUNCTION public.app_user_id() TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.app_user_id() TO autoinvest_trader;
GRANT ALL ON FUNCTION public.app_user_id() TO autoinvest_api;
GRANT ALL ON FUNCTION public.app_user_id() TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.approved_proposal_ids(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.approved_proposal_ids(p_limit integer) TO autoinvest_trader;
REVOKE ALL ON FUNCTION public.audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text, p_details jsonb, p_once boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text, p_details jsonb, p_once boolean) TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text, p_details jsonb, p_once boolean) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.audit_record(p_user_id uuid, p_actor text, p_action text, p_subject_type text, p_subject_id text, p_details jsonb, p_once boolean) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.capital_account_locked(p_profile_id uuid, p_exclusive boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.capital_account_locked(p_profile_id uuid, p_exclusive boolean) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.capital_account_locked(p_profile_id uuid, p_exclusive boolean) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.claim_scan_jobs(p_worker text, p_batch integer, p_lease_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_scan_jobs(p_worker text, p_batch integer, p_lease_seconds integer) TO autoinvest_scanner;
REVOKE ALL ON FUNCTION public.credential_user_ids(p_purpose text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.credential_user_ids(p_purpose text) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.due_scan_job_count() FROM PUBLIC;
GRANT ALL ON FUNCTION public.due_scan_job_count() TO autoinvest_scanner;
REVOKE ALL ON FUNCTION public.execution_ids_in_state(p_state text, p_older_than_seconds integer, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.execution_ids_in_state(p_state text, p_older_than_seconds integer, p_limit integer) TO autoinvest_trader;
REVOKE ALL ON FUNCTION public.execution_state_counts() FROM PUBLIC;
GRANT ALL ON FUNCTION public.execution_state_counts() TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.execution_state_counts() TO autoinvest_trader;
GRANT ALL ON FUNCTION public.execution_state_counts() TO autoinvest_api;
GRANT ALL ON FUNCTION public.execution_state_counts() TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.expire_overdue_proposals(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.expire_overdue_proposals(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.expire_overdue_proposals(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.failing_reconciliations(p_runs integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.failing_reconciliations(p_runs integer) TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.failing_reconciliations(p_runs integer) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.failing_reconciliations(p_runs integer) TO autoinvest_api;
GRANT ALL ON FUNCTION public.failing_reconciliations(p_runs integer) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.in_flight_execution_ids(p_within_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.in_flight_execution_ids(p_within_seconds integer) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.in_flight_execution_ids(p_within_seconds integer) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.lease_approved_proposal(p_worker text, p_hint uuid, p_skip uuid[], p_lease_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lease_approved_proposal(p_worker text, p_hint uuid, p_skip uuid[], p_lease_seconds integer) TO autoinvest_trader;
REVOKE ALL ON FUNCTION public.ledger_difference_ids(p_active_only boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.ledger_difference_ids(p_active_only boolean) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.ledger_difference_ids(p_active_only boolean) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.ledger_entries_move_account() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.lock_profile(p_profile_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lock_profile(p_profile_id uuid) TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.lock_profile(p_profile_id uuid) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.lock_profile(p_profile_id uuid) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.owner_of(p_kind text, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.owner_of(p_kind text, p_id uuid) TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.owner_of(p_kind text, p_id uuid) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.owner_of(p_kind text, p_id uuid) TO autoinvest_api;
GRANT ALL ON FUNCTION public.owner_of(p_kind text, p_id uuid) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.pause_profile(p_profile_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.pause_profile(p_profile_id uuid) TO autoinvest_trader;
GRANT ALL ON FUNCTION public.pause_profile(p_profile_id uuid) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.profile_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION public.profile_ids() TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.profile_ids() TO autoinvest_trader;
GRANT ALL ON FUNCTION public.profile_ids() TO autoinvest_api;
GRANT ALL ON FUNCTION public.profile_ids() TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.propose(p_id uuid, p_profile_id uuid, p_market text, p_side text, p_amount_eur numeric, p_amount_base numeric, p_confidence integer, p_rationale text, p_source text, p_policy_snapshot jsonb, p_ttl_seconds integer, p_scan_window timestamp with time zone, p_job uuid, p_token bigint, p_worker text, p_override_cooldown boolean, p_override_anti_flip boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.propose(p_id uuid, p_profile_id uuid, p_market text, p_side text, p_amount_eur numeric, p_amount_base numeric, p_confidence integer, p_rationale text, p_source text, p_policy_snapshot jsonb, p_ttl_seconds integer, p_scan_window timestamp with time zone, p_job uuid, p_token bigint, p_worker text, p_override_cooldown boolean, p_override_anti_flip boolean) TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.propose(p_id uuid, p_profile_id uuid, p_market text, p_side text, p_amount_eur numeric, p_amount_base numeric, p_confidence integer, p_rationale text, p_source text, p_policy_snapshot jsonb, p_ttl_seconds integer, p_scan_window timestamp with time zone, p_job uuid, p_token bigint, p_worker text, p_override_cooldown boolean, p_override_anti_flip boolean) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.quarantined_item_summary() FROM PUBLIC;
GRANT ALL ON FUNCTION public.quarantined_item_summary() TO autoinvest_scanner;
GRANT ALL ON FUNCTION public.quarantined_item_summary() TO autoinvest_trader;
GRANT ALL ON FUNCTION public.quarantined_item_summary() TO autoinvest_api;
GRANT ALL ON FUNCTION public.quarantined_item_summary() TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.release_executor_lease(p_proposal_id uuid, p_worker text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.release_executor_lease(p_proposal_id uuid, p_worker text) TO autoinvest_trader;
REVOKE ALL ON FUNCTION public.restate_capital_account(p_profile_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.restate_capital_account(p_profile_id uuid) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.scan_fence_holds(p_profile_id uuid, p_job uuid, p_token bigint, p_worker text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.sendable_account_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION public.sendable_account_ids() TO autoinvest_trader;
REVOKE ALL ON FUNCTION public.set_global_kill_switch(p_on boolean, p_actor text, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.set_global_kill_switch(p_on boolean, p_actor text, p_reason text) TO autoinvest_operator;
REVOKE ALL ON FUNCTION public.unconfirmed_not_placed_ids(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.unconfirmed_not_placed_ids(p_limit integer) TO autoinvest_trader;
GRANT SELECT ON TABLE public.audit_log TO autoinvest_scanner;
GRANT SELECT ON TABLE public.audit_log TO autoinvest_trader;
GRANT SELECT ON TABLE public.audit_log TO autoinvest_api;
GRANT SELECT ON TABLE public.audit_log TO autoinvest_operator;
GRANT SELECT ON TABLE public.capital_accounts TO autoinvest_scanner;
GRANT SELECT ON TABLE public.capital_accounts TO autoinvest_trader;
GRANT SELECT ON TABLE public.capital_accounts TO autoinvest_api;
GRANT SELECT ON TABLE public.capital_accounts TO autoinvest_operator;
GRANT INSERT(profile_id) ON TABLE public.capital_accounts TO autoinvest_operator;
GRANT INSERT(user_id) ON TABLE public.capital_accounts TO autoinvest_operator;
GRANT SELECT ON TABLE public.exchange_clock_skew TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.exchange_clock_skew TO autoinvest_trader;
GRANT SELECT ON TABLE public.exchange_clock_skew TO autoinvest_api;
GRANT SELECT ON TABLE public.exchange_clock_skew TO autoinvest_operator;
GRANT SELECT ON TABLE public.exchange_credentials TO autoinvest_scanner;
GRANT SELECT ON TABLE public.exchange_credentials TO autoinvest_trader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.exchange_credentials TO autoinvest_operator;
GRANT SELECT(id) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT SELECT(user_id) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT SELECT(purpose) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT SELECT(api_key) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT SELECT(exchange_url) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT SELECT(created_at) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT SELECT(verified_at) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT UPDATE(verified_at) ON TABLE public.exchange_credentials TO autoinvest_trader;
GRANT SELECT(verification_checks) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT UPDATE(verification_checks) ON TABLE public.exchange_credentials TO autoinvest_trader;
GRANT SELECT(verification_reason) ON TABLE public.exchange_credentials TO autoinvest_api;
GRANT UPDATE(verification_reason) ON TABLE public.exchange_credentials TO autoinvest_trader;
GRANT SELECT ON TABLE public.exchange_orders TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.exchange_orders TO autoinvest_trader;
GRANT SELECT ON TABLE public.exchange_orders TO autoinvest_api;
GRANT SELECT ON TABLE public.exchange_orders TO autoinvest_operator;
GRANT SELECT ON TABLE public.executions TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.executions TO autoinvest_trader;
GRANT SELECT ON TABLE public.executions TO autoinvest_api;
GRANT SELECT ON TABLE public.executions TO autoinvest_operator;
GRANT SELECT ON TABLE public.fills TO autoinvest_scanner;
GRANT SELECT,INSERT ON TABLE public.fills TO autoinvest_trader;
GRANT SELECT ON TABLE public.fills TO autoinvest_api;
GRANT SELECT ON TABLE public.fills TO autoinvest_operator;
GRANT SELECT ON TABLE public.global_settings TO autoinvest_scanner;
GRANT SELECT ON TABLE public.global_settings TO autoinvest_trader;
GRANT SELECT ON TABLE public.global_settings TO autoinvest_api;
GRANT SELECT ON TABLE public.global_settings TO autoinvest_operator;
GRANT SELECT ON TABLE public.ledger_entries TO autoinvest_scanner;
GRANT SELECT,INSERT ON TABLE public.ledger_entries TO autoinvest_trader;
GRANT SELECT ON TABLE public.ledger_entries TO autoinvest_api;
GRANT SELECT,INSERT ON TABLE public.ledger_entries TO autoinvest_operator;
GRANT SELECT,INSERT,UPDATE ON TABLE public.llm_usage TO autoinvest_scanner;
GRANT SELECT ON TABLE public.llm_usage TO autoinvest_trader;
GRANT SELECT ON TABLE public.llm_usage TO autoinvest_api;
GRANT SELECT ON TABLE public.llm_usage TO autoinvest_operator;
GRANT SELECT,INSERT,UPDATE ON TABLE public.loop_heartbeats TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.loop_heartbeats TO autoinvest_trader;
GRANT SELECT ON TABLE public.loop_heartbeats TO autoinvest_api;
GRANT SELECT ON TABLE public.loop_heartbeats TO autoinvest_operator;
GRANT SELECT,INSERT,UPDATE ON TABLE public.market_metadata TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.market_metadata TO autoinvest_trader;
GRANT SELECT ON TABLE public.market_metadata TO autoinvest_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.market_metadata TO autoinvest_operator;
GRANT SELECT,INSERT ON TABLE public.outbox_events TO autoinvest_scanner;
GRANT SELECT,INSERT ON TABLE public.outbox_events TO autoinvest_trader;
GRANT SELECT ON TABLE public.outbox_events TO autoinvest_api;
GRANT SELECT,INSERT ON TABLE public.outbox_events TO autoinvest_operator;
GRANT SELECT ON TABLE public.positions TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.positions TO autoinvest_trader;
GRANT SELECT ON TABLE public.positions TO autoinvest_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.positions TO autoinvest_operator;
GRANT SELECT ON TABLE public.profile_policies TO autoinvest_scanner;
GRANT SELECT ON TABLE public.profile_policies TO autoinvest_trader;
GRANT SELECT ON TABLE public.profile_policies TO autoinvest_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.profile_policies TO autoinvest_operator;
GRANT SELECT ON TABLE public.profiles TO autoinvest_scanner;
GRANT SELECT ON TABLE public.profiles TO autoinvest_trader;
GRANT SELECT ON TABLE public.profiles TO autoinvest_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.profiles TO autoinvest_operator;
GRANT SELECT,INSERT,UPDATE ON TABLE public.quarantined_items TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.quarantined_items TO autoinvest_trader;
GRANT SELECT ON TABLE public.quarantined_items TO autoinvest_api;
GRANT SELECT ON TABLE public.quarantined_items TO autoinvest_operator;
GRANT SELECT ON TABLE public.reconcile_adjustments TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.reconcile_adjustments TO autoinvest_trader;
GRANT SELECT ON TABLE public.reconcile_adjustments TO autoinvest_api;
GRANT SELECT,UPDATE ON TABLE public.reconcile_adjustments TO autoinvest_operator;
GRANT SELECT ON TABLE public.reconciliation_runs TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.reconciliation_runs TO autoinvest_trader;
GRANT SELECT ON TABLE public.reconciliation_runs TO autoinvest_api;
GRANT SELECT ON TABLE public.reconciliation_runs TO autoinvest_operator;
GRANT SELECT,UPDATE ON TABLE public.scan_jobs TO autoinvest_scanner;
GRANT SELECT ON TABLE public.scan_jobs TO autoinvest_trader;
GRANT SELECT ON TABLE public.scan_jobs TO autoinvest_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.scan_jobs TO autoinvest_operator;
GRANT SELECT ON TABLE public.trade_history TO autoinvest_scanner;
GRANT SELECT,INSERT ON TABLE public.trade_history TO autoinvest_trader;
GRANT SELECT ON TABLE public.trade_history TO autoinvest_api;
GRANT SELECT ON TABLE public.trade_history TO autoinvest_operator;
GRANT SELECT ON TABLE public.trade_proposals TO autoinvest_scanner;
GRANT SELECT ON TABLE public.trade_proposals TO autoinvest_trader;
GRANT SELECT ON TABLE public.trade_proposals TO autoinvest_api;
GRANT SELECT ON TABLE public.trade_proposals TO autoinvest_operator;
GRANT UPDATE(status) ON TABLE public.trade_proposals TO autoinvest_operator;
GRANT UPDATE(decided_at) ON TABLE public.trade_proposals TO autoinvest_operator;
GRANT UPDATE(decided_by) ON TABLE public.trade_proposals TO autoinvest_operator;
GRANT SELECT ON TABLE public.unmanaged_holdings TO autoinvest_scanner;
GRANT SELECT,INSERT,UPDATE ON TABLE public.unmanaged_holdings TO autoinvest_trader;
GRANT SELECT ON TABLE public.unmanaged_holdings TO autoinvest_api;
GRANT SELECT ON TABLE public.unmanaged_holdings TO autoinvest_operator;
GRANT SELECT ON TABLE public.users TO autoinvest_scanner;
GRANT SELECT ON TABLE public.users TO autoinvest_trader;
GRANT SELECT ON TABLE public.users TO autoinvest_api;
GRANT SELECT,INSERT,UPDATE ON TABLE public.users TO autoinvest_operator;
