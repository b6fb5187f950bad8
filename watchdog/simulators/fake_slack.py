"""A fake Slack Web API over real HTTP: enough of it for the watchdog's notifier, faithful in how it fails.

``FakeSlack(token=...)`` is an ASGI app; ``serve()`` runs it on loopback
(``ServedApp``) and ``api_url`` is what ``WebClient(base_url=...)`` needs. Methods
(``POST /api/<method>``, JSON or form body, ``Authorization: Bearer <token>``):

- ``auth.test``;
- ``chat.postMessage`` (channel by ``#name`` or id; answers the channel id and a ``ts``;
  ``thread_ts`` makes a thread reply);
- ``chat.update`` (channel id and ``ts`` of an existing message, else ``channel_not_found``
  / ``message_not_found``).

Like Slack it answers HTTP 200 with ``{"ok": false, "error": ...}`` for API errors
(``invalid_auth``, ``channel_not_found``, ``invalid_blocks`` beyond 50 blocks or
3,000 characters in a section, ``msg_too_long``), HTTP 429 with ``Retry-After`` when
rate limited. ``fail(kind, times=n)`` scripts the next answers: ``ratelimited``,
``server_error`` (500, plain text), ``unavailable`` (503), ``invalid_auth``,
``channel_not_found``, ``echo_token`` (500 whose body repeats the caller's token: a
hostile server, for redaction tests). ``unknown_channels`` always answer
``channel_not_found``.

Every request is recorded (``requests``) without its token; ``write_requests(dir)``
saves them as numbered JSON files. Control endpoints live under ``/_sim/``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from watchdog.simulators.serve import ServedApp

__all__ = ["FakeSlack", "SlackCall", "SlackPost"]

FAULTS = frozenset({"ratelimited", "server_error", "unavailable", "invalid_auth", "channel_not_found", "echo_token"})
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_TEXT = 40000


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received and what it answered (the token is never kept)."""

    seq: int
    method: str
    auth: str  # ok | invalid | missing
    params: dict[str, Any]
    status: int
    response: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "method": self.method, "auth": self.auth, "params": self.params,
                "status": self.status, "response": self.response}


@dataclass
class SlackPost:
    """A message as the fake channel holds it."""

    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None = None
    broadcast: bool = False
    edits: int = 0


@dataclass
class _Fault:
    kind: str
    method: str | None
    times: int
    retry_after: int


@dataclass
class _State:
    channels: dict[str, str] = field(default_factory=dict)  # name -> id
    posts: dict[tuple[str, str], SlackPost] = field(default_factory=dict)  # (channel id, ts) -> post
    calls: list[SlackCall] = field(default_factory=list)
    faults: deque[_Fault] = field(default_factory=deque)


class FakeSlack:
    """The fake Web API; thread-safe to inspect and control while it serves."""

    def __init__(self, *, token: str = "xoxb-fake-token", unknown_channels: Iterable[str] = ()) -> None:  # noqa: S107
        self.token = token
        self.unknown_channels = set(unknown_channels)
        self._state = _State()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/api/{method}", self._api, methods=["POST", "GET"]),
            Route("/_sim/requests", self._sim_requests, methods=["GET"]),
            Route("/_sim/fault", self._sim_fault, methods=["POST"]),
        ])

    # ------------------------------------------------------------------ control

    def serve(self, port: int = 0) -> ServedApp:
        """Start serving on 127.0.0.1 (``port`` 0 picks one). The caller stops it."""
        return ServedApp(self.app, port=port, name="fake-slack").start()

    @staticmethod
    def api_url(served: ServedApp) -> str:
        """The ``base_url`` for ``WebClient``."""
        return f"{served.url}/api/"

    def fail(self, kind: str, *, times: int = 1, method: str | None = None, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls (of ``method``, or any) with fault ``kind``. Raises ValueError."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULTS)}")
        with self._lock:
            self._state.faults.append(_Fault(kind, method, times, retry_after))

    @property
    def requests(self) -> list[SlackCall]:
        with self._lock:
            return list(self._state.calls)

    def posts(self, channel: str | None = None) -> list[SlackPost]:
        """Messages held, in the order they were posted (``channel``: a name or id)."""
        with self._lock:
            wanted = self._state.channels.get(channel, channel) if channel else None
            return [p for p in self._state.posts.values() if wanted is None or p.channel == wanted]

    def channel_id(self, name: str) -> str | None:
        with self._lock:
            return self._state.channels.get(name)

    def write_requests(self, directory: Path) -> int:
        """Save every request as ``NNNN-<method>.json`` in ``directory``; returns how many."""
        directory.mkdir(parents=True, exist_ok=True)
        calls = self.requests
        for call in calls:
            path = directory / f"{call.seq:04d}-{call.method}.json"
            path.write_text(json.dumps(call.as_json(), indent=2, sort_keys=True, default=str), encoding="utf-8")
        return len(calls)

    # ------------------------------------------------------------------ HTTP

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await _params(request)
        auth = self._auth(request.headers.get("authorization", ""))
        with self._lock:
            status, body, headers = self._answer(method, params, auth, request.headers.get("authorization", ""))
            recorded = body if isinstance(body, dict) else {"body": "(plain text)"}
            self._state.calls.append(SlackCall(len(self._state.calls) + 1, method, auth, params, status, recorded))
        if isinstance(body, str):
            return PlainTextResponse(body, status_code=status, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    def _auth(self, header: str) -> str:
        if not header:
            return "missing"
        return "ok" if header == f"Bearer {self.token}" else "invalid"

    def _answer(self, method: str, params: dict[str, Any], auth: str,
                header: str) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        fault = self._take_fault(method)
        if fault is not None:
            return _fault_answer(fault, header)
        if auth != "ok":
            return 200, {"ok": False, "error": "not_authed" if auth == "missing" else "invalid_auth"}, {}
        handler = {"auth.test": self._auth_test, "chat.postMessage": self._post,
                   "chat.update": self._update}.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        return 200, handler(params), {}

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._state.faults:
            if fault.method in (None, method):
                fault.times -= 1
                if fault.times <= 0:
                    self._state.faults.remove(fault)
                return fault
        return None

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "watchdog",
                "team_id": "T0FAKE", "user_id": "U0WATCHDOG", "bot_id": "B0WATCHDOG"}

    def _channel(self, ref: str, *, by_id_only: bool = False) -> str | None:
        if ref in self.unknown_channels or f"#{ref}" in self.unknown_channels:
            return None
        if ref in self._state.channels.values():
            return ref
        if by_id_only or not ref:
            return None
        name = ref if ref.startswith("#") else f"#{ref}"
        if name not in self._state.channels:
            self._state.channels[name] = f"C{next(self._ids):08d}"
        return self._state.channels[name]

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = _validate(params)
        if problem:
            return {"ok": False, "error": problem}
        n = next(self._ts)
        ts = f"{1700000000 + n}.{n:06d}"
        post = SlackPost(channel, ts, str(params.get("text", "")), list(params.get("blocks") or []),
                         params.get("thread_ts"), bool(params.get("reply_broadcast", False)))
        self._state.posts[(channel, ts)] = post
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": post.text, "ts": ts}}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel", "")), by_id_only=True)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        post = self._state.posts.get((channel, str(params.get("ts", ""))))
        if post is None:
            return {"ok": False, "error": "message_not_found"}
        problem = _validate(params)
        if problem:
            return {"ok": False, "error": problem}
        post.text, post.blocks, post.edits = str(params.get("text", "")), list(params.get("blocks") or []), \
            post.edits + 1
        return {"ok": True, "channel": channel, "ts": post.ts, "text": post.text}

    async def _sim_requests(self, request: Request) -> Response:
        return JSONResponse([call.as_json() for call in self.requests])

    async def _sim_fault(self, request: Request) -> Response:
        body = await request.json()
        try:
            self.fail(str(body.get("kind")), times=int(body.get("times", 1)), method=body.get("method"),
                      retry_after=int(body.get("retry_after", 1)))
        except ValueError as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})


async def _params(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            loaded = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    params: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8", "replace")))
    if isinstance(params.get("blocks"), str):
        try:
            params["blocks"] = json.loads(params["blocks"])
        except json.JSONDecodeError:
            params["blocks"] = None
    return params


def _validate(params: dict[str, Any]) -> str | None:
    """Slack's own refusals of a message body, or None."""
    text = str(params.get("text") or "")
    blocks = params.get("blocks") or []
    if not text and not blocks:
        return "no_text"
    if len(text) > MAX_TEXT:
        return "msg_too_long"
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        section = block.get("text") if isinstance(block, dict) else None
        if isinstance(section, dict) and len(str(section.get("text", ""))) > MAX_SECTION:
            return "invalid_blocks"
    return None


def _fault_answer(fault: _Fault, header: str) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
    if fault.kind == "ratelimited":
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
    if fault.kind == "server_error":
        return 500, "Internal Server Error", {}
    if fault.kind == "unavailable":
        return 503, "Service Unavailable", {}
    if fault.kind == "echo_token":
        return 500, f"upstream failed for request with {header}", {}
    return 200, {"ok": False, "error": fault.kind}, {}
