-- Exchange items quarantined at the edge: an item the exchange sent that fails validation (an absurd, negative
-- or zero amount, ...) is kept here instead of being applied, one row per distinct item, counted each time the
-- exchange sends it again. The raw item carries no secrets (responses never echo keys or signatures).
CREATE TABLE quarantined_items (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users(id),
    exchange_url text NOT NULL,
    endpoint     text NOT NULL,                 -- "GET /order", "GET /trades", ...
    reason       text NOT NULL,                 -- a code of autoinvest/reasons.py
    detail       text NOT NULL DEFAULT '',      -- which field, and why
    item         jsonb NOT NULL,
    item_digest  text NOT NULL,                 -- sha256 of the canonical item: the same item is one row
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    seen_count   bigint NOT NULL DEFAULT 1 CHECK (seen_count >= 1),
    UNIQUE (user_id, exchange_url, endpoint, item_digest)
);
CREATE INDEX quarantined_items_last_seen ON quarantined_items (last_seen);

ALTER TABLE quarantined_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE quarantined_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON quarantined_items FOR ALL TO autoinvest_app
    USING (user_id = (SELECT app_user_id())) WITH CHECK (user_id = (SELECT app_user_id()));
CREATE POLICY owner_functions ON quarantined_items FOR ALL TO autoinvest_owner USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON quarantined_items TO autoinvest_app;

-- The operator's list across tenants: ids, codes and counts only (the items themselves are read per user).
CREATE FUNCTION quarantined_item_summary()
RETURNS TABLE (id uuid, user_id uuid, endpoint text, reason text, first_seen timestamptz, last_seen timestamptz,
               seen_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT q.id, q.user_id, q.endpoint, q.reason, q.first_seen, q.last_seen, q.seen_count
      FROM quarantined_items q ORDER BY q.last_seen DESC
$$;
REVOKE ALL ON FUNCTION quarantined_item_summary() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quarantined_item_summary() TO autoinvest_app;
