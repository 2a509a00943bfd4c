-- Vault binding (issue 12, item 6). The stored text itself changes format (v2:<key id>:<token>, written by
-- accounts/vault.py); the schema only gains the listing that key rotation walks.

COMMENT ON COLUMN exchange_credentials.secret_encrypted IS
    'v2:<vault key id>:<Fernet token of {user, purpose, kid, secret}>; key per purpose (settings)';

-- The users holding a key of one purpose: ids only, so rotation can open each user's own user_tx.
CREATE FUNCTION credential_user_ids(p_purpose text)
RETURNS TABLE (user_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT user_id FROM exchange_credentials WHERE purpose = p_purpose ORDER BY user_id
$$;

REVOKE ALL ON FUNCTION credential_user_ids(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION credential_user_ids(text) TO autoinvest_operator;  -- rotate-vault-key
