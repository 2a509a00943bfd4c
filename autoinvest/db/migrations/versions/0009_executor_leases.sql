-- placeholder (issue 13)
SELECT 1;
