-- Unmanaged holdings and ADJUST acknowledgements (reconciliation).
--
-- What an exchange account holds beyond the positions our own fills built is the user's, not a profile's:
-- reconciliation records it per (user, asset) and never books it. A coin shortfall worth more than a small
-- threshold is not booked either until an operator acknowledges it (`autoinvest reconcile ack`).

CREATE TABLE unmanaged_holdings (
    user_id       uuid NOT NULL REFERENCES users(id),
    asset         text NOT NULL CHECK (asset <> ''),
    amount        numeric NOT NULL CHECK (amount >= 0),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, asset)
);

CREATE TABLE reconcile_adjustments (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL,
    profile_id   uuid NOT NULL,
    market       text NOT NULL,
    d_quantity   numeric NOT NULL CHECK (d_quantity < 0),
    value_eur    numeric NOT NULL CHECK (value_eur >= 0),
    -- booked: an operator acknowledged it and the ADJUST entry exists; cleared: the coins came back first.
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'booked', 'cleared')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    acked_at     timestamptz,
    acked_by     text,
    CHECK (status <> 'booked' OR (acked_at IS NOT NULL AND acked_by IS NOT NULL)),
    FOREIGN KEY (profile_id, user_id) REFERENCES profiles(id, user_id)
);
-- One open item per profile and market: each run refreshes it rather than stacking copies.
CREATE UNIQUE INDEX reconcile_adjustments_one_pending ON reconcile_adjustments (profile_id, market)
    WHERE status = 'pending';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['unmanaged_holdings', 'reconcile_adjustments']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I FOR ALL TO autoinvest_app '
                       'USING (user_id = (SELECT app_user_id())) WITH CHECK (user_id = (SELECT app_user_id()))', t);
        EXECUTE format('CREATE POLICY owner_functions ON %I FOR ALL TO autoinvest_owner USING (true) WITH CHECK (true)', t);
    END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE ON unmanaged_holdings, reconcile_adjustments TO autoinvest_app;

-- For /internal/health: profiles whose last p_runs finished reconciliation runs all ended with an error (ids and
-- counts only). Runs that only report an unrepaired mismatch (a shortfall waiting for an ack) have their own alert.
CREATE FUNCTION failing_reconciliations(p_runs integer)
RETURNS TABLE (profile_id uuid, failed bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT r.profile_id, count(*)
      FROM (SELECT rr.profile_id, jsonb_array_length(coalesce(rr.report->'errors', '[]')) > 0 AS errored,
                   row_number() OVER (PARTITION BY rr.profile_id ORDER BY rr.started_at DESC, rr.id) AS k
              FROM reconciliation_runs rr WHERE rr.finished_at IS NOT NULL) r
     WHERE r.k <= p_runs
     GROUP BY r.profile_id
    HAVING count(*) = p_runs AND bool_and(r.errored)
     ORDER BY r.profile_id
$$;
REVOKE ALL ON FUNCTION failing_reconciliations(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION failing_reconciliations(integer) TO autoinvest_app;
