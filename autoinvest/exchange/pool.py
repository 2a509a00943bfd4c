"""Exchange sessions that live as long as the process.

One aiohttp connection pool per exchange host, one SSL context per pool (made only for https), and one ccxt
session per owner and key purpose, kept in a bounded least-recently-used cache. A session is rebuilt when the
credential it was built from changes (a new key, a new secret, another exchange): the caller hands the
credential it just loaded from the vault on every use, so a cached session never outlives its key. Closing a
client borrowed from the pool releases it and keeps the session for the next use; ``SessionPool.close`` (at
shutdown) closes them all.

ccxt would otherwise build an SSL context (about 22 ms of CPU, even for http://), open a new TCP connection
and, on close, sleep 250 ms for every client: that was most of an order's latency.
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl
from collections import OrderedDict
from urllib.parse import urlsplit

import aiohttp
import certifi

from autoinvest.exchange._session import Session
from autoinvest.exchange.budget import DEFAULT_BUDGETS, BudgetRegistry
from autoinvest.exchange.credentials import Credential

#: Sessions kept per process: about 35 KB each; a miss costs about 1 ms of CPU to build a new one.
DEFAULT_MAX_SESSIONS = 1024


class SessionPool:
    def __init__(self, *, max_sessions: int = DEFAULT_MAX_SESSIONS, budgets: BudgetRegistry = DEFAULT_BUDGETS) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self._max = max_sessions
        self._budgets = budgets
        self._http: dict[str, aiohttp.ClientSession] = {}
        self._ssl: ssl.SSLContext | None = None
        self._sessions: OrderedDict[tuple[str, str], tuple[str, Session]] = OrderedDict()
        self.built = 0  #: sessions built so far (a cache miss each)

    def session(self, credential: Credential, *, owner: str, timeout_ms: int, access_window_ms: int) -> Session:
        """The session of ``owner``'s ``credential``: the cached one while it was built from this very credential
        and these settings, else a new one (the old one is closed)."""
        key = (owner, credential.purpose.value)
        fingerprint = _fingerprint(credential, timeout_ms, access_window_ms)
        cached = self._sessions.get(key)
        if cached is not None and cached[0] == fingerprint:
            self._sessions.move_to_end(key)
            return cached[1]
        if cached is not None:
            cached[1].discard()
        session = Session(credential, budget=self._budgets.for_key(credential.api_key), timeout_ms=timeout_ms,
                          access_window_ms=access_window_ms, http=self._http_for(credential.host_url),
                          ssl_context=self._ssl_for(credential.host_url))
        self._sessions[key] = (fingerprint, session)
        self._sessions.move_to_end(key)
        self.built += 1
        while len(self._sessions) > self._max:
            _, (_, evicted) = self._sessions.popitem(last=False)
            evicted.discard()
        return session

    def __len__(self) -> int:
        return len(self._sessions)

    async def close(self) -> None:
        for _, session in self._sessions.values():
            session.discard()
        self._sessions.clear()
        for http in self._http.values():
            with contextlib.suppress(Exception):
                await http.close()
        self._http.clear()

    def _http_for(self, host_url: str) -> aiohttp.ClientSession:
        parts = urlsplit(host_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        http = self._http.get(origin)
        if http is None or http.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl_for(host_url) or False, enable_cleanup_closed=True)
            http = self._http[origin] = aiohttp.ClientSession(connector=connector)
        return http

    def _ssl_for(self, host_url: str) -> ssl.SSLContext | None:
        if not host_url.startswith("https://"):
            return None
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl


def _fingerprint(credential: Credential, timeout_ms: int, access_window_ms: int) -> str:
    # A digest, so that the cache's keys hold no key material.
    text = "\0".join((credential.api_key, credential.api_secret, credential.base_url, str(timeout_ms),
                      str(access_window_ms)))
    return hashlib.sha256(text.encode()).hexdigest()


def borrow(credential: Credential, pool: SessionPool | None, *, owner: str, timeout_ms: int, access_window_ms: int,
           budgets: BudgetRegistry) -> tuple[Session, SessionPool | None]:
    """A session from ``pool``; without one, from a private pool of its own, returned second for the client
    to close (``budgets`` applies only then: a shared pool has its own)."""
    if pool is not None:
        return pool.session(credential, owner=owner, timeout_ms=timeout_ms, access_window_ms=access_window_ms), None
    private = SessionPool(max_sessions=1, budgets=budgets)
    return private.session(credential, owner=owner, timeout_ms=timeout_ms, access_window_ms=access_window_ms), private
