"""Serve an ASGI app over real HTTP on loopback, in a background thread.

Used by ``watchdog simulate``, the demo and the tests. ``port=0`` picks a free port;
``ServedApp.url`` tells which.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

__all__ = ["ServedApp"]


class ServedApp:
    """A uvicorn server for one ASGI app, started and stopped from another thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, name: str = "app") -> None:
        self.app = app
        self.host = host
        self.name = name
        self._port = port
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"sim-{name}", daemon=True)

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def start(self, timeout: float = 10.0) -> ServedApp:
        """Start serving; returns once the socket is bound. Raises RuntimeError if it is not."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} simulator did not start on {self.host}:{self._port}")
            time.sleep(0.01)
        servers = getattr(self._server, "servers", [])
        if servers and servers[0].sockets:
            self._port = int(servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
