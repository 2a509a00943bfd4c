-- NOT_PLACED is provisional until a later look confirms it (execution).
--
-- An order may be processed after the lookups that called it NOT_PLACED (Bitvavo 107/108/109: "may still have
-- succeeded"). So a NOT_PLACED decided by lookup keeps its reservation and counts as live until a look at the
-- account's orders, at or after confirm_after (decision + access window + skew, database time), confirms it
-- (confirmed_at); found then, it goes back to SUBMITTED. last_not_found_at spaces the "not found" lookups.
ALTER TABLE executions
    ADD COLUMN confirm_after     timestamptz,
    ADD COLUMN confirmed_at      timestamptz,
    ADD COLUMN last_not_found_at timestamptz;

-- Rows ended before this revision released their reservation already: they count as confirmed.
UPDATE executions SET confirmed_at = updated_at WHERE state = 'NOT_PLACED';

ALTER TABLE executions ADD CONSTRAINT executions_not_placed_confirmable
    CHECK (state <> 'NOT_PLACED' OR confirm_after IS NOT NULL OR confirmed_at IS NOT NULL);

-- At most one live entry per profile+market, an unconfirmed NOT_PLACED included: the second waits.
DROP INDEX executions_one_live_per_market;
CREATE UNIQUE INDEX executions_one_live_per_market ON executions (profile_id, market)
    WHERE state IN ('CLAIMED', 'SUBMITTING', 'SUBMITTED') OR (state = 'NOT_PLACED' AND confirmed_at IS NULL);

-- The NOT_PLACED executions due for their confirming look, for the resolver (no tenant set yet).
CREATE FUNCTION unconfirmed_not_placed_ids(p_limit integer)
RETURNS TABLE (execution_id uuid, user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT e.id, e.user_id FROM executions e
     WHERE e.state = 'NOT_PLACED' AND e.confirmed_at IS NULL AND e.confirm_after <= now()
     ORDER BY e.confirm_after
     LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION unconfirmed_not_placed_ids(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION unconfirmed_not_placed_ids(integer) TO autoinvest_app;

-- Executions that may be sending right now (CLAIMED or SUBMITTING, moved in the last p_within_seconds), for
-- `kill-switch on` to report and wait for; older ones are the resolver's or are re-checked at their send.
CREATE FUNCTION in_flight_execution_ids(p_within_seconds integer)
RETURNS TABLE (execution_id uuid, user_id uuid, profile_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT e.id, e.user_id, e.profile_id FROM executions e
     WHERE e.state IN ('CLAIMED', 'SUBMITTING') AND e.updated_at > now() - make_interval(secs => p_within_seconds)
     ORDER BY e.updated_at
$$;
REVOKE ALL ON FUNCTION in_flight_execution_ids(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION in_flight_execution_ids(integer) TO autoinvest_app;
