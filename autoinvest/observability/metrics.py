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

# -- loops
LOOP_PASSES = Counter("autoinvest_loop_passes_total", "Loop passes by loop and result.", ["loop", "result"],
                      registry=REGISTRY)
LOOP_PASS_SECONDS = Histogram("autoinvest_loop_pass_seconds", "Duration of one loop pass.", ["loop"],
                              registry=REGISTRY)
LOOP_LAST_SUCCESS = Gauge("autoinvest_loop_last_success_timestamp_seconds", "Unix time of a loop's last success.",
                          ["loop"], registry=REGISTRY)

# -- reconciliation and recovery
RECONCILE_MISMATCHES = Gauge("autoinvest_reconcile_mismatches", "Mismatches the last reconciliation run found, by kind.",
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
