-- Unmanaged holdings and ADJUST acknowledgements (reconciliation).
SELECT 1;
