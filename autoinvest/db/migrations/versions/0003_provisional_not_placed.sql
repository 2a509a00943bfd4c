-- NOT_PLACED is provisional until a later look confirms it (execution).
SELECT 1;
