"""Run the simulator under uvicorn: blocking, clean shutdown on SIGTERM/SIGINT, state saved on the way out."""

from __future__ import annotations

import logging
from pathlib import Path
from types import FrameType

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from autoinvest.simulator.app import CURRENT_TRANSPORT, SimulatorApp
from autoinvest.simulator.exchange import Exchange
from autoinvest.simulator.markets import MARKETS
from autoinvest.simulator.replay import ReplayError, load_candles
from autoinvest.simulator.state import load_file

log = logging.getLogger("autoinvest.simulator")


class _TransportAwareH11(H11Protocol):
    """uvicorn's h11 protocol, exposing the connection's transport to the app (for the drop-response fault)."""

    def data_received(self, data: bytes) -> None:
        # The request task is created inside this call and copies the current context, hence sees the transport.
        CURRENT_TRANSPORT.set(self.transport)
        super().data_received(data)


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after shutting down; a requested stop is a clean exit (status 0) here.
        self._captured_signals.clear()


def build_exchange(
    seed: int, state: Path | None, speed: float, rate_limit: int = 1000, candles: Path | None = None,
    replay_from: int | None = None,
) -> Exchange:
    """The exchange to serve; a bad candle file or replay option raises ReplayError before anything starts."""
    if replay_from is not None and candles is None:
        raise ReplayError("--replay-from needs --candles")
    candle_file = None if candles is None else load_candles(candles, MARKETS, replay_from)
    if state is not None and state.exists():
        log.info("simulator state loaded from %s", state)
        return load_file(state, speed, rate_limit, candle_file)
    return Exchange(seed=seed, speed=speed, rate_limit=rate_limit, candles=candle_file)


def serve(
    host: str = "127.0.0.1",
    port: int = 8899,
    seed: int = 1,
    admin: bool = False,
    state: Path | None = None,
    speed: float = 1.0,
    rate_limit: int = 1000,
    log_level: str = "warning",
    candles: Path | None = None,
    replay_from: int | None = None,
) -> None:
    """Serve the Bitvavo-compatible simulator until SIGTERM/SIGINT (blocking).

    Raises ReplayError (before listening) for a bad candle file or replay option."""
    exchange = build_exchange(seed, state, speed, rate_limit, candles, replay_from)
    app = SimulatorApp(exchange, admin_enabled=admin, state_path=state)
    config = uvicorn.Config(
        app, host=host, port=port, http=_TransportAwareH11, lifespan="on", log_level=log_level,
        timeout_graceful_shutdown=5, access_log=False,
    )
    _Server(config).run()
    app.save_now()  # also covers a shutdown where the lifespan did not complete
