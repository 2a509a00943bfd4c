-- Credential verification and measured clock skew.
SELECT 1;
