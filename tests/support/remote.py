"""A "remote exchange" that only counts who connected: a TCP listener on this machine's non-loopback address.

Without AUTOINVEST_LIVE that address is not local, so nothing may connect to it; the kernel completes a client's
handshake into the listen backlog even though nothing accepts, so after the fact every attempt can be counted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


def non_loopback_address() -> str | None:
    """The address this machine would reach the world from (a UDP connect sends no packet), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


@dataclass(frozen=True)
class RemoteListener:
    sock: socket.socket
    url: str

    def connections(self) -> int:
        """How many connections arrived so far (each is accepted and closed)."""
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@contextmanager
def remote_listener() -> Iterator[RemoteListener]:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to stand in for a remote exchange")
    with socket.create_server((address, 0), backlog=64) as sock:
        sock.setblocking(False)
        yield RemoteListener(sock, f"http://{address}:{sock.getsockname()[1]}/v2")
