-- Market metadata keyed by exchange URL; definer functions safe from pg_temp.
SELECT 1;
