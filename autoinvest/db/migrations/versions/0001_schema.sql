-- The whole product schema. Runs as role autoinvest_owner (see env.py), so that
-- autoinvest_owner owns every object and the application role owns nothing.
-- Money is NUMERIC, time is timestamptz. Tenant tables carry user_id and are
-- FORCE ROW LEVEL SECURITY with a policy on the transaction-local app.user_id.

CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

-- ---------------------------------------------------------------- global
CREATE TABLE global_settings (
    id                 smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    kill_switch        boolean NOT NULL DEFAULT false,
    kill_switch_reason text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO global_settings (id) VALUES (1);

CREATE TABLE market_metadata (
    market            text PRIMARY KEY,
    base              text NOT NULL,
    quote             text NOT NULL,
    status            text NOT NULL,
    min_order_base    numeric NOT NULL CHECK (min_order_base >= 0),
    min_order_quote   numeric NOT NULL CHECK (min_order_quote >= 0),
    max_order_base    numeric CHECK (max_order_base > 0),
    tick_size         numeric NOT NULL CHECK (tick_size > 0),
    quantity_decimals smallint NOT NULL CHECK (quantity_decimals >= 0),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE loop_heartbeats (
    loop_name       text NOT NULL,
    instance        text NOT NULL,
    last_success_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    PRIMARY KEY (loop_name, instance)
);

-- ---------------------------------------------------------------- tenants
CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    email              text NOT NULL UNIQUE CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    kill_switch        boolean NOT NULL DEFAULT false,   -- the per-user kill switch
    kill_switch_reason text,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE profiles (
    id                     uuid PRIMARY KEY,
    user_id                uuid NOT NULL REFERENCES users(id),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
    quote_currency         text NOT NULL DEFAULT 'EUR' CHECK (quote_currency = 'EUR'),
    scan_interval_seconds  integer NOT NULL DEFAULT 300 CHECK (scan_interval_seconds BETWEEN 5 AND 86400),
    strategy               text NOT NULL DEFAULT 'momentum'
                           CHECK (strategy IN ('dca', 'momentum', 'mean_reversion', 'llm')),
    risk_preset            text NOT NULL DEFAULT 'observer'
                           CHECK (risk_preset IN ('observer', 'hunter', 'semiauto', 'custom')),
    auto_approve_threshold smallint CHECK (auto_approve_threshold IN (0, 25, 50, 75, 100)),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name),
    UNIQUE (id, user_id)
);

CREATE TABLE profile_policies (
    profile_id           uuid PRIMARY KEY,
    user_id              uuid NOT NULL,
    trading_enabled      boolean NOT NULL DEFAULT true,   -- the profile kill switch (false = off)
    allowlist            text[] NOT NULL DEFAULT '{}',   -- empty = deny everything
    min_order_eur        numeric NOT NULL DEFAULT 5 CHECK (min_order_eur > 0),
    max_order_eur        numeric NOT NULL DEFAULT 100,
    allowed_confidences  smallint[] NOT NULL DEFAULT '{50,75,100}'
                         CHECK (allowed_confidences <@ ARRAY[0, 25, 50, 75, 100]::smallint[]),
    min_confidence       smallint NOT NULL DEFAULT 50 CHECK (min_confidence IN (0, 25, 50, 75, 100)),
    cooldown_minutes     integer NOT NULL DEFAULT 60 CHECK (cooldown_minutes >= 0),
    anti_flip_minutes    integer NOT NULL DEFAULT 240 CHECK (anti_flip_minutes >= 0),
    max_trades_per_day   integer NOT NULL DEFAULT 10 CHECK (max_trades_per_day >= 0),
    max_trades_per_hour  integer NOT NULL DEFAULT 3 CHECK (max_trades_per_hour >= 0),
    llm_calls_per_day    integer NOT NULL DEFAULT 48 CHECK (llm_calls_per_day >= 0),
    llm_calls_per_hour   integer NOT NULL DEFAULT 6 CHECK (llm_calls_per_hour >= 0),
    proposal_ttl_seconds integer NOT NULL DEFAULT 900 CHECK (proposal_ttl_seconds > 0),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (max_order_eur >= min_order_eur),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);

CREATE TABLE exchange_credentials (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES users(id),
    purpose          text NOT NULL CHECK (purpose IN ('readonly', 'trade')),
    api_key          text NOT NULL,
    secret_encrypted text NOT NULL,   -- Fernet token, key per purpose (settings)
    exchange_url     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, purpose)
);

CREATE TABLE scan_jobs (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL,
    profile_id    uuid NOT NULL UNIQUE,
    next_run_at   timestamptz NOT NULL DEFAULT now(),
    locked_by     text,
    locked_until  timestamptz,
    fencing_token bigint NOT NULL DEFAULT 0,
    last_run_at   timestamptz,
    last_error    text,
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);
CREATE INDEX scan_jobs_due ON scan_jobs (next_run_at);

CREATE TABLE trade_proposals (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL,
    profile_id         uuid NOT NULL,
    market             text NOT NULL CHECK (market ~ '^[A-Z0-9]+-[A-Z0-9]+$'),
    side               text NOT NULL CHECK (side IN ('buy', 'sell')),
    amount_eur         numeric CHECK (amount_eur > 0),
    amount_base        numeric CHECK (amount_base > 0),
    confidence         smallint NOT NULL CHECK (confidence IN (0, 25, 50, 75, 100)),
    rationale          text NOT NULL DEFAULT '',
    source             text NOT NULL CHECK (source IN ('rules', 'llm', 'manual')),
    status             text NOT NULL DEFAULT 'PENDING'
                       CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'EXECUTED')),
    policy_snapshot    jsonb NOT NULL DEFAULT '{}',
    scan_window        timestamptz,   -- dedup key of scanner proposals
    scan_fencing_token bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    decided_at         timestamptz,
    decided_by         text CHECK (decided_by IN ('user', 'auto')),
    override_cooldown  boolean NOT NULL DEFAULT false,
    override_anti_flip boolean NOT NULL DEFAULT false,
    CHECK ((amount_eur IS NULL) <> (amount_base IS NULL)),
    CHECK (expires_at > created_at),
    UNIQUE (profile_id, market, scan_window),
    UNIQUE (id, user_id),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);
CREATE INDEX trade_proposals_status ON trade_proposals (status, created_at);

CREATE TABLE executions (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL,
    profile_id        uuid NOT NULL,
    proposal_id       uuid NOT NULL,
    market            text NOT NULL,
    side              text NOT NULL CHECK (side IN ('buy', 'sell')),
    state             text NOT NULL CHECK (state IN ('CLAIMED', 'SUBMITTING', 'SUBMITTED', 'FILLED',
                                                     'CANCELED', 'REJECTED', 'NOT_PLACED')),
    client_order_id   uuid NOT NULL UNIQUE,
    amount_eur        numeric CHECK (amount_eur > 0),
    amount_base       numeric CHECK (amount_base > 0),
    reserved_eur      numeric NOT NULL DEFAULT 0 CHECK (reserved_eur >= 0),
    reasons           text[] NOT NULL DEFAULT '{}',
    preflight         jsonb NOT NULL DEFAULT '{}',
    request           jsonb,
    response          jsonb,
    exchange_order_id text,
    submit_ts         timestamptz,
    not_found_count   integer NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_until       timestamptz,
    lease_token       bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, proposal_id),
    CHECK (state IN ('CLAIMED', 'REJECTED') OR submit_ts IS NOT NULL),
    FOREIGN KEY (proposal_id, user_id) REFERENCES trade_proposals(id, user_id),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);
-- At most one live entry per profile+market: the second waits, it is never sent.
CREATE UNIQUE INDEX executions_one_live_per_market ON executions (profile_id, market)
    WHERE state IN ('CLAIMED', 'SUBMITTING', 'SUBMITTED');
CREATE INDEX executions_state ON executions (state, updated_at);

CREATE TABLE exchange_orders (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL,
    profile_id          uuid NOT NULL,
    execution_id        uuid REFERENCES executions(id),
    exchange_order_id   text NOT NULL UNIQUE,
    client_order_id     uuid,
    market              text NOT NULL,
    side                text NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type          text NOT NULL,
    status              text NOT NULL,
    amount              numeric,
    amount_quote        numeric,
    filled_amount       numeric NOT NULL DEFAULT 0 CHECK (filled_amount >= 0),
    filled_amount_quote numeric NOT NULL DEFAULT 0 CHECK (filled_amount_quote >= 0),
    fee_paid            numeric NOT NULL DEFAULT 0 CHECK (fee_paid >= 0),
    fee_currency        text,
    raw                 jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);

CREATE TABLE fills (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL,
    profile_id        uuid NOT NULL,
    execution_id      uuid REFERENCES executions(id),
    exchange_order_id text NOT NULL,
    exchange_fill_id  text NOT NULL UNIQUE,
    market            text NOT NULL,
    side              text NOT NULL CHECK (side IN ('buy', 'sell')),
    amount            numeric NOT NULL CHECK (amount > 0),
    price             numeric NOT NULL CHECK (price > 0),
    fee               numeric NOT NULL DEFAULT 0 CHECK (fee >= 0),
    fee_currency      text NOT NULL DEFAULT 'EUR',
    taker             boolean NOT NULL DEFAULT true,
    filled_at         timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);
CREATE INDEX fills_profile_market ON fills (profile_id, market, filled_at);

CREATE TABLE trade_history (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    profile_id       uuid NOT NULL,
    fill_id          uuid NOT NULL UNIQUE REFERENCES fills(id),
    market           text NOT NULL,
    side             text NOT NULL CHECK (side IN ('buy', 'sell')),
    amount_base      numeric NOT NULL CHECK (amount_base > 0),
    price            numeric NOT NULL CHECK (price > 0),
    amount_eur       numeric NOT NULL CHECK (amount_eur > 0),
    fee_eur          numeric NOT NULL DEFAULT 0 CHECK (fee_eur >= 0),
    realized_pnl_eur numeric NOT NULL DEFAULT 0,
    executed_at      timestamptz NOT NULL,
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);

CREATE TABLE positions (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    profile_id       uuid NOT NULL,
    market           text NOT NULL,
    quantity         numeric NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    cost_basis_eur   numeric NOT NULL DEFAULT 0 CHECK (cost_basis_eur >= 0),
    realized_pnl_eur numeric NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (profile_id, market),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);

CREATE TABLE capital_accounts (
    profile_id             uuid PRIMARY KEY,
    user_id                uuid NOT NULL,
    currency               text NOT NULL DEFAULT 'EUR' CHECK (currency = 'EUR'),
    allocated              numeric NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    reserved_for_orders    numeric NOT NULL DEFAULT 0 CHECK (reserved_for_orders >= 0),
    reserved_for_positions numeric NOT NULL DEFAULT 0 CHECK (reserved_for_positions >= 0),
    realized_pnl           numeric NOT NULL DEFAULT 0,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT capital_invariant
        CHECK (allocated - reserved_for_orders - reserved_for_positions + realized_pnl >= 0),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);

-- Append-only: each entry moves the account by its deltas in the same transaction.
CREATE TABLE ledger_entries (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                  uuid NOT NULL,
    profile_id               uuid NOT NULL REFERENCES capital_accounts(profile_id),
    kind                     text NOT NULL CHECK (kind IN ('ALLOCATE', 'DEALLOCATE', 'RESERVE', 'RELEASE',
                                                           'FILL', 'FEE', 'EXIT', 'ADJUST')),
    reference                text NOT NULL,
    d_allocated              numeric NOT NULL DEFAULT 0,
    d_reserved_for_orders    numeric NOT NULL DEFAULT 0,
    d_reserved_for_positions numeric NOT NULL DEFAULT 0,
    d_realized_pnl           numeric NOT NULL DEFAULT 0,
    memo                     jsonb NOT NULL DEFAULT '{}',
    created_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, reference)
);
CREATE INDEX ledger_entries_profile ON ledger_entries (profile_id, id);

CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();

CREATE TABLE llm_usage (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL,
    profile_id        uuid NOT NULL,
    status            text NOT NULL DEFAULT 'reserved' CHECK (status IN ('reserved', 'completed', 'failed')),
    reserved_at       timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    prompt_tokens     integer CHECK (prompt_tokens >= 0),
    completion_tokens integer CHECK (completion_tokens >= 0),
    latency_ms        integer CHECK (latency_ms >= 0),
    outcome           text,
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);
CREATE INDEX llm_usage_window ON llm_usage (profile_id, reserved_at);

CREATE TABLE outbox_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users(id),
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid,   -- NULL only for global actions, written by a SECURITY DEFINER function
    actor        text NOT NULL,
    action       text NOT NULL,
    subject_type text NOT NULL,
    subject_id   text,
    details      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reconciliation_runs (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL,
    profile_id  uuid NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'repaired', 'failed')),
    mismatches  jsonb NOT NULL DEFAULT '{}',
    report      jsonb NOT NULL DEFAULT '{}',
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);

-- Wake executors when a proposal becomes APPROVED. The payload is empty: NOTIFY is visible to every role.
CREATE FUNCTION notify_proposal_approved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('autoinvest_approved', '');
    RETURN NULL;
END $$;
CREATE TRIGGER trade_proposals_approved AFTER INSERT OR UPDATE OF status ON trade_proposals
    FOR EACH ROW WHEN (NEW.status = 'APPROVED') EXECUTE FUNCTION notify_proposal_approved();

-- ---------------------------------------------------------------- row-level security
DO $$
DECLARE
    t text;
    col text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'profiles', 'profile_policies', 'exchange_credentials', 'scan_jobs',
                             'trade_proposals', 'executions', 'exchange_orders', 'fills', 'trade_history',
                             'positions', 'capital_accounts', 'ledger_entries', 'llm_usage', 'outbox_events',
                             'audit_log', 'reconciliation_runs']
    LOOP
        col := CASE WHEN t = 'users' THEN 'id' ELSE 'user_id' END;
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I FOR ALL TO autoinvest_app '
                       'USING (%I = (SELECT app_user_id())) WITH CHECK (%I = (SELECT app_user_id()))', t, col, col);
        -- The owner runs only migrations and the narrow SECURITY DEFINER functions below.
        EXECUTE format('CREATE POLICY owner_functions ON %I FOR ALL TO autoinvest_owner USING (true) WITH CHECK (true)', t);
    END LOOP;
END $$;

-- ---------------------------------------------------------------- privileges of the application role
GRANT USAGE ON SCHEMA public TO autoinvest_app;
GRANT SELECT ON global_settings, market_metadata TO autoinvest_app;
GRANT INSERT, UPDATE ON market_metadata TO autoinvest_app;
GRANT SELECT, INSERT, UPDATE ON loop_heartbeats TO autoinvest_app;
GRANT SELECT, INSERT, UPDATE ON users, profiles, profile_policies, exchange_credentials, scan_jobs,
    trade_proposals, executions, exchange_orders, fills, trade_history, positions, capital_accounts,
    llm_usage, outbox_events, reconciliation_runs TO autoinvest_app;
GRANT DELETE ON exchange_credentials TO autoinvest_app;
GRANT SELECT, INSERT ON ledger_entries, audit_log TO autoinvest_app;

-- ---------------------------------------------------------------- cross-tenant work, ids only
-- Each function is SECURITY DEFINER (runs as autoinvest_owner) and returns only ids and
-- scheduling facts, never tenant data; a caller then opens a transaction as that user.

CREATE FUNCTION claim_scan_jobs(p_worker text, p_batch integer, p_lease_seconds integer)
RETURNS TABLE (job_id uuid, profile_id uuid, user_id uuid, fencing_token bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
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

-- For the contention metric: due jobs nobody holds (a short claim while this is > 0 met rows locked by another
-- instance). A count only, no tenant data.
CREATE FUNCTION due_scan_job_count()
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT count(*) FROM scan_jobs j JOIN profiles p ON p.id = j.profile_id
     WHERE p.status = 'active' AND j.next_run_at <= now() AND (j.locked_until IS NULL OR j.locked_until < now())
$$;

CREATE FUNCTION active_profile_ids()
RETURNS TABLE (profile_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT id, user_id FROM profiles WHERE status = 'active' ORDER BY id
$$;

CREATE FUNCTION profile_ids()
RETURNS TABLE (profile_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT id, user_id FROM profiles ORDER BY id
$$;

CREATE FUNCTION approved_proposal_ids(p_limit integer)
RETURNS TABLE (proposal_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT p.id, p.user_id FROM trade_proposals p
     WHERE p.status = 'APPROVED'
       AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)
     ORDER BY p.created_at
     LIMIT p_limit
$$;

CREATE FUNCTION execution_ids_in_state(p_state text, p_older_than_seconds integer, p_limit integer)
RETURNS TABLE (execution_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT e.id, e.user_id FROM executions e
     WHERE e.state = p_state AND e.updated_at <= now() - make_interval(secs => p_older_than_seconds)
     ORDER BY e.updated_at
     LIMIT p_limit
$$;

-- Aggregates for /internal/health: counts only, no tenant data.
CREATE FUNCTION execution_state_counts()
RETURNS TABLE (state text, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT state, count(*) FROM executions GROUP BY state ORDER BY state
$$;

-- Who owns an object, for the operator CLI and workers that start from an id alone.
CREATE FUNCTION owner_of(p_kind text, p_id uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT CASE p_kind
        WHEN 'user' THEN (SELECT id FROM users WHERE id = p_id)
        WHEN 'profile' THEN (SELECT user_id FROM profiles WHERE id = p_id)
        WHEN 'proposal' THEN (SELECT user_id FROM trade_proposals WHERE id = p_id)
        WHEN 'execution' THEN (SELECT user_id FROM executions WHERE id = p_id)
    END
$$;

CREATE FUNCTION set_global_kill_switch(p_on boolean, p_actor text, p_reason text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE global_settings SET kill_switch = p_on, kill_switch_reason = p_reason, updated_at = now() WHERE id = 1;
    INSERT INTO audit_log (user_id, actor, action, subject_type, subject_id, details)
    VALUES (NULL, p_actor, CASE WHEN p_on THEN 'kill_switch.on' ELSE 'kill_switch.off' END, 'global', NULL,
            jsonb_build_object('reason', p_reason));
$$;

REVOKE ALL ON FUNCTION claim_scan_jobs(text, integer, integer), active_profile_ids(), owner_of(text, uuid), profile_ids(),
    due_scan_job_count(),
    execution_state_counts(),
    approved_proposal_ids(integer), execution_ids_in_state(text, integer, integer),
    set_global_kill_switch(boolean, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_scan_jobs(text, integer, integer), active_profile_ids(), owner_of(text, uuid), profile_ids(),
    due_scan_job_count(),
    execution_state_counts(),
    approved_proposal_ids(integer), execution_ids_in_state(text, integer, integer),
    set_global_kill_switch(boolean, text, text), app_user_id() TO autoinvest_app;
