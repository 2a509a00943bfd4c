-- Market metadata keyed by exchange URL; definer functions safe from pg_temp.

-- ---------------------------------------------------------------- market data per exchange
-- The canonical form of an exchange base URL, the key of everything cached per exchange: lower case, no
-- trailing slash, no /v2 (a credential may name the API with or without it).
CREATE FUNCTION exchange_key(p_url text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT regexp_replace(rtrim(lower(btrim(p_url)), '/'), '/v2$', '') $$;

-- The rows were filled from whichever tenant's exchange answered first: drop them, the scheduler refills
-- them per exchange within one refresh.
DELETE FROM market_metadata;
ALTER TABLE market_metadata ADD COLUMN exchange_url text NOT NULL CHECK (exchange_url = exchange_key(exchange_url));
ALTER TABLE market_metadata DROP CONSTRAINT market_metadata_pkey;
ALTER TABLE market_metadata ADD PRIMARY KEY (exchange_url, market);

-- ---------------------------------------------------------------- definer functions immune to pg_temp
-- A definer function runs as the owner, which sees every tenant. With only `public` in its path, pg_temp is
-- searched FIRST for tables, so a caller's temporary `profiles` would be read as the owner. pg_temp goes last
-- (the form the PostgreSQL manual recommends; an empty path would put it first again for any name a later
-- edit forgets to qualify). The bootstrap also revokes TEMPORARY and CREATE ON SCHEMA public (db/migrate.py).
CREATE OR REPLACE FUNCTION claim_scan_jobs(p_worker text, p_batch integer, p_lease_seconds integer)
RETURNS TABLE (job_id uuid, profile_id uuid, user_id uuid, fencing_token bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
CREATE OR REPLACE FUNCTION due_scan_job_count()
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT count(*) FROM scan_jobs j JOIN profiles p ON p.id = j.profile_id
     WHERE p.status = 'active' AND j.next_run_at <= now() AND (j.locked_until IS NULL OR j.locked_until < now())
$$;

CREATE OR REPLACE FUNCTION active_profile_ids()
RETURNS TABLE (profile_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id, user_id FROM profiles WHERE status = 'active' ORDER BY id
$$;

CREATE OR REPLACE FUNCTION profile_ids()
RETURNS TABLE (profile_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id, user_id FROM profiles ORDER BY id
$$;

CREATE OR REPLACE FUNCTION approved_proposal_ids(p_limit integer)
RETURNS TABLE (proposal_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT p.id, p.user_id FROM trade_proposals p
     WHERE p.status = 'APPROVED'
       AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)
     ORDER BY p.created_at
     LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION execution_ids_in_state(p_state text, p_older_than_seconds integer, p_limit integer)
RETURNS TABLE (execution_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT e.id, e.user_id FROM executions e
     WHERE e.state = p_state AND e.updated_at <= now() - make_interval(secs => p_older_than_seconds)
     ORDER BY e.updated_at
     LIMIT p_limit
$$;

-- Aggregates for /internal/health: counts only, no tenant data.
CREATE OR REPLACE FUNCTION execution_state_counts()
RETURNS TABLE (state text, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT state, count(*) FROM executions GROUP BY state ORDER BY state
$$;

-- Who owns an object, for the operator CLI and workers that start from an id alone.
CREATE OR REPLACE FUNCTION owner_of(p_kind text, p_id uuid)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE p_kind
        WHEN 'user' THEN (SELECT id FROM users WHERE id = p_id)
        WHEN 'profile' THEN (SELECT user_id FROM profiles WHERE id = p_id)
        WHEN 'proposal' THEN (SELECT user_id FROM trade_proposals WHERE id = p_id)
        WHEN 'execution' THEN (SELECT user_id FROM executions WHERE id = p_id)
    END
$$;

CREATE OR REPLACE FUNCTION set_global_kill_switch(p_on boolean, p_actor text, p_reason text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE global_settings SET kill_switch = p_on, kill_switch_reason = p_reason, updated_at = now() WHERE id = 1;
    INSERT INTO audit_log (user_id, actor, action, subject_type, subject_id, details)
    VALUES (NULL, p_actor, CASE WHEN p_on THEN 'kill_switch.on' ELSE 'kill_switch.off' END, 'global', NULL,
            jsonb_build_object('reason', p_reason));
$$;
