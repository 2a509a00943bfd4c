"""The HTTP surface: operator endpoints now (/metrics, /internal/health)."""
