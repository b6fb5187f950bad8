"""Helpers shared by the Magento tests: contract validators, a recording transport, the test shop.

Contract validation uses Adobe's schema subset (``schema/``) with two corrections applied at load
time, both documented Magento behaviour the Swagger cannot express:

1. required scalar properties may be ``null``: Magento renders non-nullable getters that hold
   null as ``null`` (``DataObjectProcessor``; e.g. ``tracks[].weight``, ``payment.cc_last4``);
2. ``error-parameters`` is an array *or* an object: positional phrases send a list of strings,
   named ones an object (``Rest\\Response::_renderMessages``); the schema's array-of-objects
   matches neither.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from watchdog.connectors.http import RetryPolicy
from watchdog.connectors.magento import BearerToken, MagentoClient, OAuth1Credentials
from watchdog.secret import Secret
from watchdog.simulators.magento import (
    BundleOptionSpec,
    IntegrationCredentials,
    MagentoState,
)

SCHEMA_FILE = Path(__file__).parent / "schema" / "admin-schema-2.4.8.erp-subset.json"
START = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)
SCALARS = {"string", "number", "integer", "boolean"}


# ------------------------------------------------------------------ schema


def _patched_definitions(definitions: dict[str, Any]) -> dict[str, Any]:
    defs = copy.deepcopy(definitions)
    for definition in defs.values():
        props = definition.get("properties", {})
        for name in definition.get("required", []):
            prop = props.get(name, {})
            if prop.get("type") in SCALARS:
                prop["type"] = [prop["type"], "null"]
    defs["error-parameters"] = {"type": ["array", "object"]}
    return defs


@dataclass
class Operation:
    method: str
    path: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]


class Contract:
    """Validators for every operation of the schema subset."""

    def __init__(self) -> None:
        doc = json.loads(SCHEMA_FILE.read_text())
        self.definitions = _patched_definitions(doc["definitions"])
        self.operations: list[Operation] = []
        for path, ops in doc["paths"].items():
            regex = "^" + re.sub(r"\{[^}]+\}", "[^/]+", path.rstrip("/")) + "/?$"
            for method, spec in ops.items():
                if isinstance(spec, dict) and "responses" in spec:
                    self.operations.append(Operation(method.upper(), path, re.compile(regex), spec))
        # static paths first so /V1/orders/items is not taken for /V1/orders/{id}
        self.operations.sort(key=lambda op: op.path.count("{"))

    def operation(self, method: str, v1_path: str) -> Operation | None:
        return next((op for op in self.operations if op.method == method and op.pattern.match(v1_path)), None)

    def _validate(self, schema: dict[str, Any], instance: Any, where: str, *, partial: bool = False) -> None:
        definitions = self.definitions
        if partial:  # a ?fields= answer holds only what was asked for: what it holds must still conform
            schema, definitions = _without_required(schema), _without_required(definitions)
        root = {"definitions": definitions, **schema}
        errors = sorted(jsonschema.Draft4Validator(root).iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            raise AssertionError(f"{where}: {first.message} at {list(first.absolute_path)}")

    def check_response(self, method: str, v1_path: str, status: int, body: Any, *, partial: bool = False) -> str:
        """Validate ``body`` (``partial``: trimmed by ``?fields=``); returns the operation id. Raises AssertionError."""
        op = self.operation(method, v1_path)
        assert op is not None, f"{method} {v1_path} is not in the schema subset"
        responses = op.spec["responses"]
        if 200 <= status < 300 and str(status) not in responses:
            assert body == [], f"{op.spec['operationId']}: a void answer renders as []"  # no 200 schema: void
            return str(op.spec["operationId"])
        response = responses.get(str(status)) or responses.get("default")
        assert response is not None, f"{op.spec['operationId']}: no schema for HTTP {status}"
        self._validate(response["schema"], body, f"{op.spec['operationId']} HTTP {status}",
                       partial=partial and 200 <= status < 300)
        return str(op.spec["operationId"])

    def check_request(self, method: str, v1_path: str, body: Any) -> str:
        """Validate a request body against the operation's body parameter."""
        op = self.operation(method, v1_path)
        assert op is not None, f"{method} {v1_path} is not in the schema subset"
        params = [p for p in op.spec.get("parameters", []) if p.get("in") == "body"]
        assert params, f"{op.spec['operationId']} takes no body"
        self._validate(params[0]["schema"], body, f"{op.spec['operationId']} request")
        return str(op.spec["operationId"])


def _without_required(schema: Any) -> Any:
    """``schema`` with every ``required`` list dropped, at every depth."""
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


def v1_path(url: httpx.URL) -> str | None:
    """``/V1/...`` of a REST URL (store code stripped); None for async or non-REST URLs."""
    raw = url.raw_path.decode().split("?")[0]
    match = re.match(r"^/rest/(?:(?:default|all)/)?(V1/.*)$", raw)
    return "/" + match.group(1) if match else None


# ------------------------------------------------------------------ recording transport


@dataclass
class Exchange:
    method: str
    url: httpx.URL
    request_body: Any
    status: int
    response_body: Any


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Wraps a transport and keeps every request and response (a fake at the seam, not a mock)."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.exchanges.append(Exchange(request.method, request.url, _json(request.content), response.status_code,
                                       _json(content)))
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


# ------------------------------------------------------------------ the store


def seed_catalog(state: MagentoState) -> None:
    """A small shop: simples, a configurable tee, a dynamic-SKU bundle, two warehouses."""
    state.add_source("wh1", "Warehouse 1")
    state.link_source(1, "wh1")
    for sku, price in [("TEE-S", 20), ("TEE-M", 20), ("MUG", 8), ("RAM-12GB", 25), ("RAM-24GB", 50),
                       ("MONITOR-15", 100), ("CABLE", 5)]:
        state.add_simple(sku, price=Decimal(price))
        state.set_source_item(sku, "wh1", 50)
    state.add_configurable("TEE", ["TEE-S", "TEE-M"], "Radiant Tee", price=Decimal(20))
    state.add_bundle("DESKTOP", [BundleOptionSpec("RAM", ("RAM-12GB", "RAM-24GB")),
                                 BundleOptionSpec("Monitor", ("MONITOR-15",))], "Desktop Computer")


FAST_RETRY = RetryPolicy(attempts=4, base_s=0.001, cap_s=0.005, max_retry_after_s=5.0)


class SleepRecorder:
    """An injected ``sleep`` that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def bearer(creds: IntegrationCredentials) -> BearerToken:
    return BearerToken(Secret(creds.access_token))


def oauth(creds: IntegrationCredentials, *, consumer_secret: str | None = None) -> OAuth1Credentials:
    return OAuth1Credentials(Secret(creds.consumer_key), Secret(consumer_secret or creds.consumer_secret),
                             Secret(creds.access_token), Secret(creds.access_token_secret))


def make_client(base_url: str, auth: BearerToken | OAuth1Credentials, *,
                transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> MagentoClient:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("sleep", SleepRecorder())
    return MagentoClient(base_url, auth, transport=transport, **kwargs)
