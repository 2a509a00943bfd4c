"""Metrics (every Prometheus name in one place), health, logging."""
