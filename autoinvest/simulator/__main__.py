"""python -m autoinvest.simulator: run the Bitvavo-compatible simulator (same options as `autoinvest exchange-sim`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autoinvest.simulator.replay import ReplayError
from autoinvest.simulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autoinvest.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8899, help="port to listen on")
    parser.add_argument("--seed", type=int, default=1, help="seed of the deterministic price model")
    parser.add_argument("--admin", action="store_true", help="serve the /_sim admin API (tests and demos only)")
    parser.add_argument("--state", type=Path, default=None, help="keep the exchange state in this JSON file")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated clock speed (1 = real time, 0 = paused)")
    parser.add_argument("--rate-limit", type=int, default=1000, help="weight points per minute per key or IP")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    parser.add_argument("--candles", type=Path, default=None,
                        help="replay this CSV of candles (market,timestamp,open,high,low,close,volume) "
                             "for the markets it has; the others walk")
    parser.add_argument("--replay-from", type=int, default=None,
                        help="CSV time (epoch ms) at which the replay starts "
                             "(default: the last candle at most 3 days after the file's first candle)")
    args = parser.parse_args(argv)
    try:
        serve(
            host=args.host, port=args.port, seed=args.seed, admin=args.admin, state=args.state, speed=args.speed,
            rate_limit=args.rate_limit, log_level=args.log_level, candles=args.candles, replay_from=args.replay_from,
        )
    except ReplayError as exc:  # refused at start, before listening: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
