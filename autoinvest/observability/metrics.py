"""Every Prometheus metric of the product, named in one place."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# -- execution
EXECUTIONS = Counter("autoinvest_executions_total", "Executions by final outcome of the call.", ["outcome"],
                     registry=REGISTRY)
ORDERS_SENT = Counter("autoinvest_orders_sent_total", "Orders sent to the exchange.", registry=REGISTRY)
OUTCOME_UNKNOWN = Counter("autoinvest_order_outcome_unknown_total", "Order sends whose outcome was unknown.",
                          registry=REGISTRY)
RESOLVED = Counter("autoinvest_resolved_total", "Unknown outcomes resolved, by result.", ["result"],
                   registry=REGISTRY)
LATE_ORDERS_FOUND = Counter("autoinvest_late_orders_found_total",
                            "Orders found on the exchange after their execution was called NOT_PLACED.",
                            registry=REGISTRY)
ORDERS_FOUND_BEFORE_SEND = Counter("autoinvest_orders_found_before_send_total",
                                   "Sends not made: the clientOrderId was already on the exchange (restored "
                                   "database?).", registry=REGISTRY)

# -- loops
LOOP_PASSES = Counter("autoinvest_loop_passes_total", "Loop passes by loop and result.", ["loop", "result"],
                      registry=REGISTRY)
LOOP_PASS_SECONDS = Histogram("autoinvest_loop_pass_seconds", "Duration of one loop pass.", ["loop"],
                              registry=REGISTRY)
LOOP_LAST_SUCCESS = Gauge("autoinvest_loop_last_success_timestamp_seconds", "Unix time of a loop's last success.",
                          ["loop"], registry=REGISTRY)

# -- reconciliation and recovery
RECONCILE_MISMATCHES = Gauge("autoinvest_reconcile_mismatches", "Mismatches the last reconciliation pass found.",
                             ["kind"], registry=REGISTRY)
RECONCILE_RUNS = Counter("autoinvest_reconcile_runs_total", "Reconciliation runs by result.", ["result"],
                         registry=REGISTRY)
RECONCILE_LAST_RUN = Gauge("autoinvest_reconcile_last_run_timestamp_seconds", "Unix time of the last finished run.",
                           registry=REGISTRY)
LEDGER_CHECK_DIFFERENCES = Gauge("autoinvest_ledger_check_differences",
                                 "Capital accounts whose materialised row differs from their entries (last check).",
                                 registry=REGISTRY)
RECOVERY_PAUSED_PROFILES = Counter("autoinvest_recovery_paused_profiles_total",
                                   "Profiles paused at start-up because their ledger did not match.", registry=REGISTRY)

# -- scheduler and scanner (scan jobs: claim, lease, fencing)
SCAN_CLAIMED = Counter("autoinvest_scan_jobs_claimed_total", "Scan jobs claimed by this process.", registry=REGISTRY)
SCAN_CLAIM_SHORT = Counter("autoinvest_scan_claim_short_total",
                           "Claims that returned fewer jobs than asked (idle, or rows skipped as locked by another "
                           "instance).", registry=REGISTRY)
SCAN_CONTENTION = Counter("autoinvest_scan_claim_contention_total",
                          "Short claims while due jobs remained: rows skipped because another instance held them.",
                          registry=REGISTRY)
SCAN_LAG = Histogram("autoinvest_scan_lag_seconds", "Database now() - next_run_at of a job when its run starts.",
                     buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900), registry=REGISTRY)
SCAN_TAKEOVERS = Counter("autoinvest_scan_takeovers_total",
                         "Jobs claimed after another instance's lease expired before it completed the run.",
                         registry=REGISTRY)
SCAN_LEASE_LOST = Counter("autoinvest_scan_lease_lost_total",
                          "Runs that lost their lease (renewal or a fenced write refused), by where it was noticed.",
                          ["where"], registry=REGISTRY)
SCAN_RUNS = Counter("autoinvest_scan_runs_total", "Scan runs by outcome (ok, failed, fenced).", ["outcome"],
                    registry=REGISTRY)
PROPOSALS_WRITTEN = Counter("autoinvest_proposals_written_total", "Scanner proposals written, by source and status.",
                            ["source", "status"], registry=REGISTRY)
PROPOSALS_EXPIRED = Counter("autoinvest_proposals_expired_total", "Proposals marked EXPIRED.", registry=REGISTRY)
MARKET_DATA_REQUESTS = Counter("autoinvest_market_data_requests_total",
                               "Public market data requests of the scanner, by kind and cache result (hit, miss).",
                               ["kind", "result"], registry=REGISTRY)

# -- LLM proposer
LLM_CALLS = Counter("autoinvest_llm_calls_total", "LLM calls by outcome (ok, rejected, error).", ["outcome"],
                    registry=REGISTRY)
LLM_BUDGET_DENIED = Counter("autoinvest_llm_budget_denied_total", "LLM calls refused by the per-profile budget.",
                            registry=REGISTRY)
LLM_REJECTED = Counter("autoinvest_llm_output_rejected_total", "LLM outputs that made no proposal, by reason.",
                       ["reason"], registry=REGISTRY)
LLM_LATENCY = Histogram("autoinvest_llm_latency_seconds", "Latency of one LLM call.", registry=REGISTRY)

# -- exchange truth, round 2: the exchange edge
EXCHANGE_ITEMS_QUARANTINED = Counter("autoinvest_exchange_items_quarantined_total",
                                     "Exchange items refused at the edge and quarantined (each time seen), by "
                                     "endpoint and reason.", ["endpoint", "reason"], registry=REGISTRY)
ORDER_STATUS_UNKNOWN = Counter("autoinvest_order_status_unknown_total",
                               "Order reports with a status we do not know (treated as open).", registry=REGISTRY)

# -- exchange truth, round 2: reconciliation
RECONCILE_MISMATCHES_FOUND = Counter("autoinvest_reconcile_mismatches_found_total",
                                     "Mismatches found by reconciliation runs, by kind (every run, not the last).",
                                     ["kind"], registry=REGISTRY)
RECONCILE_FAILURES = Counter("autoinvest_reconcile_failures_total",
                             "Profile reconciliation runs that ended with an error.", registry=REGISTRY)
RECONCILE_SHORTFALL_PAUSES = Counter("autoinvest_reconcile_shortfall_pauses_total",
                                     "Profiles paused: the account holds fewer coins or less EUR than the books.",
                                     registry=REGISTRY)
LEDGER_CHECK_DIFFERENCES_FOUND = Counter("autoinvest_ledger_check_differences_found_total",
                                         "Capital accounts found differing from their entries, summed over checks.",
                                         registry=REGISTRY)
# -- the clock-skew fence (observability/clock_skew.py)
CLOCK_SKEW = Gauge("autoinvest_exchange_clock_skew_seconds",
                   "Last measured exchange clock minus database clock (negative: the exchange is behind).",
                   ["exchange"], registry=REGISTRY)
