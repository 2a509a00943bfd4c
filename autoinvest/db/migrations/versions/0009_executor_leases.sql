-- Executors share the work (issue 13). An executor leases one approved proposal at a time before it executes
-- it, so that N executors walk N different proposals instead of all walking the same list. The lease is only
-- an efficiency device: the claim's profile lock and UNIQUE(user_id, proposal_id) still make a second claim
-- of a proposal a no-op, whoever holds a lease. Written only by the two functions below (execution/leases.py).

CREATE TABLE executor_leases (
    proposal_id  uuid PRIMARY KEY REFERENCES trade_proposals(id) ON DELETE CASCADE,
    worker       text NOT NULL,
    leased_until timestamptz NOT NULL
);
CREATE INDEX executor_leases_until ON executor_leases (leased_until);
-- No tenant data (ids and worker names), and no role is granted anything on it: only the functions touch it.

-- The next approved proposal that has no execution and no live lease, leased to p_worker: p_hint first (the
-- proposal a wake-up named), never one of p_skip (tried in this pass already). Two callers never lease the same
-- proposal: the second one's insert waits for the first's commit, then finds the live lease and moves on.
CREATE FUNCTION lease_approved_proposal(p_worker text, p_hint uuid, p_skip uuid[], p_lease_seconds integer)
RETURNS TABLE (proposal_id uuid, user_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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

-- Tried without an execution coming of it (waiting for a live entry, or failed): another executor, or this
-- one's next pass, may take it again. An executed proposal's lease simply runs out.
CREATE FUNCTION release_executor_lease(p_proposal_id uuid, p_worker text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM executor_leases WHERE proposal_id = p_proposal_id AND worker = p_worker
$$;

REVOKE ALL ON FUNCTION lease_approved_proposal(text, uuid, uuid[], integer), release_executor_lease(uuid, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lease_approved_proposal(text, uuid, uuid[], integer), release_executor_lease(uuid, text)
    TO autoinvest_trader;

-- The wake-up names the proposal, so that the executor that takes it needs no search. An id tells a listener
-- that some proposal was approved and nothing else: every read of the proposal is still row-level secured.
CREATE OR REPLACE FUNCTION notify_proposal_approved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('autoinvest_approved', NEW.id::text);
    RETURN NULL;
END $$;
