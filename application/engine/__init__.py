"""The engine (SPEC section 7): feed → quotes → strategy → signal handler → orders,
with the paper broker, position monitors, the signal-expiry sweeper and periodic
reconciliation, all driving the application through its command API.

Modules, each small and named for what it holds:

- `strategy`, `crossover` — the `Strategy` protocol, its loader, the built-in
  moving-average crossover;
- `risk`, `handler`, `orders` — the pure risk rules, the signal handler that
  applies them (auto-accept or reject with the reason), the open-order book it
  consults;
- `log` — following the event log (catch-up, then live) from a position;
- `protection`, `expiry`, `market` — log-following policies: stops armed on
  opened positions, PENDING-signal expiry, latest prices and known positions
  (monitors themselves are evaluated by `application.policies.monitors`, in
  every deployment);
- `broker`, `feed` — the ports a broker adapter and a market-data feed implement;
- `runner` — the asyncio `Engine` (built by `interfaces.engine.build_engine`).
"""
