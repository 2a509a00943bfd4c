"""The only package that imports psycopg: server, URLs, migrations, transactions."""
