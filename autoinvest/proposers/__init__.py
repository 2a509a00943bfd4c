"""Proposers: a market snapshot in, trade proposal drafts out.

``base``   the Proposer protocol and the value types (pure).
``rules``  rule-based strategies: DCA, momentum (SMA crossover), mean reversion (z-score). Pure, deterministic.
``llm``    the LLM proposer (official ``openai`` SDK, JSON-schema output, strict validation); the one place where
           openai errors become ``LLMError``.
``budget`` the per-profile LLM call budget: reserve (counted and serialised in one transaction), then complete.

Nothing here can trade: proposers see the read-only side only (an import-linter contract enforces it).
"""
