-- Credential verification and measured clock skew.

-- ---------------------------------------------------------------- key verification (accounts/vault.py)
-- The last verification of the user's key pair against the exchange, on both rows of the pair: when it ran
-- (database time), the outcome per check, and the refusing reason (NULL: every check passed). Storing either key
-- clears both rows' verification: the pair changed. The executor sends only with a pair verified without reason.
ALTER TABLE exchange_credentials
    ADD COLUMN verified_at         timestamptz,
    ADD COLUMN verification_checks jsonb,
    ADD COLUMN verification_reason text,
    ADD CONSTRAINT exchange_credentials_verification_complete
        CHECK ((verified_at IS NULL) = (verification_checks IS NULL)
               AND (verification_reason IS NULL OR verified_at IS NOT NULL));

-- ---------------------------------------------------------------- clock skew (observability/clock_skew.py)
-- The last measurement of an exchange's clock against the database's: skew_ms = exchange time minus database
-- time at the moment the exchange answered (estimated as the middle of the round trip). Not tenant data.
CREATE TABLE exchange_clock_skew (
    exchange_url  text PRIMARY KEY,
    skew_ms       bigint NOT NULL,
    round_trip_ms bigint NOT NULL CHECK (round_trip_ms >= 0),
    measured_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON exchange_clock_skew TO autoinvest_app;
