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
