"""One read through a connector's own plumbing, kept as a ``Probe`` whatever the answer.

A probe never raises for an upstream failure: the status and the error (``UpstreamError``'s
text, which never carries a secret) are kept, so each check can say what the server said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchdog.connectors.http import ApiClient, MalformedResponse, UpstreamError

__all__ = ["Probe", "read"]


@dataclass(frozen=True)
class Probe:
    """The outcome of one GET: ``body`` when it answered 200, else ``status`` (None: no answer) and ``error``."""

    route: str
    body: Any = None
    status: int | None = 200
    error: str = ""
    error_body: Any = None
    malformed: bool = False
    said: str = ""  # the server's message, rendered by the connector (Magento's placeholders filled in)
    failed_on: str = ""  # the route the error came from when not this one (a token request on the way)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def refused(self) -> bool:
        """Answered 401 or 403."""
        return self.status in (401, 403)

    def message(self) -> str:
        """What the server said, else the error text."""
        return self.said or self.error

    def failed(self, error: str) -> Probe:
        """This probe, turned into a failure (a body that answered 200 but does not parse)."""
        return Probe(self.route, None, self.status, error, None, True)


async def read(client: ApiClient, path: str, route: str, params: Any = None) -> Probe:
    """GET ``path`` once (with the client's timeouts and retries); never raises UpstreamError."""
    try:
        return Probe(route, await client.request("GET", path, route=route, params=params))
    except MalformedResponse as exc:
        return Probe(route, None, exc.status, str(exc), None, True)
    except UpstreamError as exc:
        return Probe(route, None, exc.status, str(exc), exc.body, said=exc.message,
                     failed_on=exc.route if exc.route != route else "")
