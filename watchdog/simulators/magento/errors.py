"""Magento's exceptions as the REST layer renders them (``ErrorProcessor`` + ``Rest\\Response``).

A handler raises ``MagentoError``; the app turns it into the status and body Magento sends:
``{"message": <raw phrase>, "parameters": [...] | {...}, "errors": [...]}`` where ``parameters``
appears only when the phrase has arguments and ``errors`` only for 2+ aggregated errors.
Texts are copied from the Magento sources named in ``reference/magento-api.md`` sections 3, 6, 9,
10 and 11.2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MagentoError",
    "Phrase",
    "bad_request",
    "not_found",
    "render_fault",
    "unauthorized",
]

Params = Sequence[Any] | Mapping[str, Any] | None

# --------------------------------------------------------------------- texts (raw phrases)
ROUTE_NOT_FOUND = "Request does not match any route."
GET_ON_ALL = "Cannot perform GET operation with store code 'all'"
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'
INPUT_EXCEPTIONS = "One or more input exceptions have occurred."
MAX_PAGE_SIZE = "Maximum SearchCriteria pageSize is %max"
MAX_ITEMS = 'Maximum items of type "%type" is %max'
TYPE_INVALID = 'The "{value}" value\'s type is invalid. The "{type}" type was expected. Verify and try again.'
ENTITY_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
ID_NEEDED = "An ID is needed. Set the ID and try again."
PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again."
ADMIN_SIGN_IN = ("The account sign-in was incorrect or your account is disabled temporarily. "
                 "Please wait and try again later.")
TFA_REQUIRED = "Please use the 2fa provider-specific endpoints to obtain a token."
INTERNAL = "Internal Error. Details are available in Magento log file. Report ID: webapi-{report}"
TOO_MANY = "Too Many Requests"
DECODING = "Decoding error: \n{detail}"

_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class Phrase:
    """A raw Magento phrase and its arguments (list = positional ``%1``, dict = named ``%name``)."""

    text: str
    params: Params = None

    def rendered(self) -> str:
        """The phrase with placeholders substituted (what ``__()`` casts to string)."""
        return render_phrase(self.text, self.params)

    def to_json(self) -> dict[str, Any]:
        """``{"message", "parameters"?}``: ``parameters`` only when there are arguments."""
        body: dict[str, Any] = {"message": self.text}
        if self.params:
            body["parameters"] = list(self.params) if _is_positional(self.params) else dict(self.params)
        return body


def _is_positional(params: Params) -> bool:
    return params is not None and not isinstance(params, Mapping)


def render_phrase(text: str, params: Params) -> str:
    """Substitute ``%1..%n`` (positional) or ``%name`` (named) the way Magento's renderer does."""
    if not params:
        return text
    if isinstance(params, Mapping):
        values = {str(k): v for k, v in params.items()}
    else:
        values = {str(i + 1): v for i, v in enumerate(params)}

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(values[key]) if key in values else match.group(0)

    return _PLACEHOLDER.sub(sub, text)


@dataclass(eq=False)
class MagentoError(Exception):
    """An exception that the REST layer renders. ``errors`` holds aggregated sub-errors."""

    status: int
    phrase: Phrase
    errors: list[Phrase] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.phrase.rendered())

    def body(self) -> dict[str, Any]:
        """The JSON error body (``errors`` only when 2 or more)."""
        body = self.phrase.to_json()
        if len(self.errors) >= 2:
            body["errors"] = [{**e.to_json(), "parameters": _params_or_empty(e)} for e in self.errors]
        return body


def _params_or_empty(phrase: Phrase) -> Any:
    if not phrase.params:
        return []
    return list(phrase.params) if _is_positional(phrase.params) else dict(phrase.params)


def bad_request(text: str, params: Params = None) -> MagentoError:
    """A ``LocalizedException``: HTTP 400."""
    return MagentoError(400, Phrase(text, params))


def not_found(text: str = ENTITY_NOT_FOUND, params: Params = None) -> MagentoError:
    """A ``NoSuchEntityException``: HTTP 404."""
    return MagentoError(404, Phrase(text, params))


def unauthorized(text: str, params: Params = None) -> MagentoError:
    """An ``AuthenticationException`` / ``AuthorizationException``: HTTP 401."""
    return MagentoError(401, Phrase(text, params))


def aggregate(status: int, errors: Sequence[Phrase], first_prefix: str | None = None) -> MagentoError:
    """An aggregate exception (``InputException``/``ValidationException``) holding ``errors``.

    With one error the body is that error; with more, the message is ``first_prefix`` followed by
    the first error rendered (``ValidationException``) or Magento's generic input message.
    """
    if len(errors) == 1:
        return MagentoError(status, errors[0], list(errors))
    head = first_prefix + errors[0].rendered() if first_prefix is not None else INPUT_EXCEPTIONS
    return MagentoError(status, Phrase(head), list(errors))


def render_fault(status: int, report: str = "6650f0c2a1b3e") -> tuple[bytes, str]:
    """The body Magento (or its web server) sends for an injected fault of ``status``.

    500 -> the masked production error; 429 -> the backpressure body; 503 -> the HTML maintenance
    page (Magento's is not JSON); 502/504 -> a proxy's HTML page; other 4xx -> a JSON message.
    """
    if status == 429:
        return json.dumps({"message": TOO_MANY, "trace": None}).encode(), "application/json"
    if status == 503:
        return _MAINTENANCE_HTML, "text/html; charset=UTF-8"
    if status in (502, 504):
        return f"<html><body><h1>{status} Gateway error</h1></body></html>".encode(), "text/html"
    if status >= 500:
        return json.dumps({"message": INTERNAL.format(report=report)}).encode(), "application/json"
    known = {401: Phrase(NOT_AUTHORIZED, {"resources": "Magento_Backend::all"}).to_json(),
             404: {"message": ROUTE_NOT_FOUND}}
    return json.dumps(known.get(status, {"message": f"HTTP {status}"})).encode(), "application/json"


_MAINTENANCE_HTML = (
    b"<!doctype html><html><head><title>Error 503: Service Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1><p>The server is temporarily unable to "
    b"service your request due to maintenance downtime or capacity problems. Please try again "
    b"later.</p></body></html>"
)
