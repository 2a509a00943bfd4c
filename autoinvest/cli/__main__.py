from autoinvest.cli.app import app

app()
