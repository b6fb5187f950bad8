"""JSON log lines, and secrets masked in them whatever path they take."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from watchdog.config import config_from_mapping
from watchdog.logs import JsonFormatter, Masker, configure_logging, secrets_in
from watchdog.secret import MASK

TOKEN = "tok-9f8e7d6c5b4a"
QUOTED = 'pa"ss\\word-1234'


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """The root logger writing JSON to a buffer; the previous handlers come back afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("debug", stream=stream, secrets=[TOKEN, QUOTED, "abc"])
    yield stream
    root.handlers[:], root.level = saved


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_its_extra_fields(lines: io.StringIO) -> None:
    logging.getLogger("watchdog.test").info("slot %s done", "k1", extra={"event": "slot.done", "job": "a/checks",
                                                                      "seconds": 0.25})
    [record] = records(lines)
    assert (record["msg"], record["level"], record["logger"]) == ("slot k1 done", "info", "watchdog.test")
    assert (record["event"], record["job"], record["seconds"]) == ("slot.done", "a/checks", 0.25)
    assert str(record["ts"]).endswith("Z")


def test_secrets_are_masked_in_messages_fields_and_tracebacks(lines: io.StringIO) -> None:
    log = logging.getLogger("watchdog.test")
    log.warning("token %s", TOKEN, extra={"detail": {"header": f"Bearer {TOKEN}"}, "password": QUOTED})
    try:
        raise RuntimeError(f"refused {TOKEN} and {QUOTED}")
    except RuntimeError:
        log.exception("failed")
    text = lines.getvalue()
    for leaked in (TOKEN, QUOTED, json.dumps(QUOTED)[1:-1]):
        assert leaked not in text
    assert MASK in text
    assert "RuntimeError: refused" in text


def test_urls_bearer_tokens_and_jwts_are_masked_without_being_known() -> None:
    mask = Masker()
    assert mask("postgresql+psycopg://watchdog:s3cr3t@db/watchdog") == f"postgresql+psycopg://watchdog:{MASK}@db/watchdog"
    assert mask("Authorization: Bearer abc.def-ghi") == f"Authorization: Bearer {MASK}"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3YXRjaGRvZyJ9.c2lnbmF0dXJl"
    assert mask(f"token {jwt} expired") == f"token {MASK} expired"
    assert mask("an ordinary line about order 000000123") == "an ordinary line about order 000000123"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Masker(["abc"])("abc order") == "abc order"


def test_library_loggers_go_through_the_same_handler(lines: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("bind failed with %s", TOKEN)
    [record] = records(lines)
    assert (record["logger"], record["msg"]) == ("uvicorn.error", f"bind failed with {MASK}")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("loud", stream=io.StringIO())


def test_secrets_in_the_config_are_every_credential_and_the_database_password() -> None:
    raw = {
        "database": {"url": "postgresql+psycopg://watchdog:dbpass-1234@db/watchdog"},
        "slack": {"token_env": "SLACK"},
        "email": {"smtp_host": "smtp", "password_env": "SMTP_PASS"},
        "integrations": [{
            "name": "acme-uk",
            "magento": {"base_url": "https://shop.example.com", "auth": "bearer", "token_env": "M_TOKEN",
                        "source_code": "main"},
            "stokly": {"base_url": "https://api.stok.ly", "account_key_env": "S_ACC", "client_id_env": "S_ID",
                       "client_secret_env": "S_SECRET", "channel_id": "c"},
        }],
    }
    env = {"SLACK": "xoxb-1", "SMTP_PASS": "smtp-pass", "M_TOKEN": "magento-tok", "S_ACC": "account-key",
           "S_ID": "client-id", "S_SECRET": "client-secret"}
    config = config_from_mapping(raw, "test.toml", env)
    assert set(secrets_in(config)) == {*env.values(), "dbpass-1234"}


def test_the_formatter_alone_masks_with_the_masker_it_is_given() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", (TOKEN,), None)
    assert TOKEN not in JsonFormatter(Masker([TOKEN])).format(record)
