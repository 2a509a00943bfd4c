-- Exchange items quarantined at the edge.
SELECT 1;
