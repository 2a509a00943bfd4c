"""Operator tooling: repositories for users, profiles, credentials, proposals and kill switches.

Repository functions are async, take a connection already inside the caller's ``user_tx``
(or ``system_tx`` for global actions) and know nothing of typer or rich, so the API can reuse
them; ``cli.py`` is the only module here that parses arguments and prints.
"""
