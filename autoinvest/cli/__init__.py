"""The command line: parse, call one function of the layers below, print, exit with a meaningful code."""

from autoinvest.cli.app import app

__all__ = ["app"]
