"""The hardened path from an approved proposal to at most one exchange order."""
