"""The scanner: a claimed scan job's body, through the READ-ONLY exchange client only.

``market_cache``  public market data fetched once per market per scan window and shared across profiles.
``runs``          the scanner role's pass: claim a batch of due jobs, run them while a keeper renews their leases.
``snapshot``      the profile's facts (database) + market data + balances → a proposer Snapshot.
``write``         the fenced write: proposals (deduplicated per profile, market and window; auto-approval),
                  expiry of the profile's overdue proposals, the job's completion.
``service``       run one job: start → snapshot → proposer → write.

Nothing here can place or cancel an order: it never imports the trade side (import-linter contract), and a
process without the executor role never decrypts a trade key.
"""
