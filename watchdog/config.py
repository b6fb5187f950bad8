"""Configuration: a TOML file plus environment variables for secrets.

``load_config(path, environ)`` parses the file once into frozen objects and fails
with ``ConfigError`` listing **every** problem (file, key, reason), so
``watchdog config check`` can show them all at once. This is the only module that
reads ``os.environ``; secrets are named by ``*_env`` keys and travel as ``Secret``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from watchdog.config_reader import Problem, Reader
from watchdog.durations import parse_duration
from watchdog.secret import Secret

__all__ = [
    "KNOWN_KEYS",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "EmailConfig",
    "IntegrationConfig",
    "MagentoConfig",
    "Problem",
    "ScheduleConfig",
    "ServerConfig",
    "SlackConfig",
    "StoklyConfig",
    "SyncConfig",
    "load_config",
    "parse_duration",
]

TEAMS = ("finance", "operations", "ecommerce", "platform")

#: Every key the loader accepts, per table ("" is the top level). docs/configuration.md documents
#: each one, and tests/config/test_docs.py keeps the two in step. ``integrations.checks.<id>``
#: and ``integrations.routes`` take free keys (check ids with their settings; teams).
KNOWN_KEYS: Mapping[str, frozenset[str]] = MappingProxyType({
    "": frozenset({"server", "database", "integrations", "slack", "email", "schedule"}),
    "server": frozenset({"listen", "source_down_grace"}),
    "database": frozenset({"url"}),
    "integrations": frozenset({"name", "currency", "timezone", "magento", "stokly", "sync", "checks", "routes"}),
    "integrations.magento": frozenset({
        "base_url", "auth", "source_code", "stock_id", "timeout_s", "concurrency", "rate_per_s", "token_env",
        "consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env", "username",
        "password_env"}),
    "integrations.stokly": frozenset({
        "base_url", "account_key_env", "client_id_env", "client_secret_env", "channel_id", "location_id",
        "timeout_s", "concurrency", "rate_per_s"}),
    "integrations.sync": frozenset({
        "import_states", "attach_tracking_to_existing_shipment", "overlap", "settle", "max_attempts",
        "refund_before_fulfilment"}),
    "slack": frozenset({"token_env", "base_url"}),
    "email": frozenset({"smtp_host", "smtp_port", "starttls", "ssl", "username_env", "password_env", "from", "to"}),
    "schedule": frozenset({"orders", "stock", "fulfilment", "refunds", "checks", "dispatch", "full_stock_push",
                           "slack_digest", "email_digest"}),
})
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class ConfigError(Exception):
    """The configuration has one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------- config objects


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:9464"
    source_down_grace: timedelta = timedelta(minutes=10)  # /healthz answers 503 once a source is down longer

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///watchdog.db"


@dataclass(frozen=True)
class MagentoConfig:
    base_url: str
    auth: str  # "oauth1" | "bearer" | "admin"
    source_code: str
    stock_id: int = 1
    bearer_token: Secret | None = None
    username: str | None = None  # admin: the admin user who signs in for a token
    password: Secret | None = None
    consumer_key: Secret | None = None
    consumer_secret: Secret | None = None
    access_token: Secret | None = None
    access_token_secret: Secret | None = None
    timeout_s: float = 15.0
    concurrency: int = 8
    rate_per_s: float = 0.0


@dataclass(frozen=True)
class StoklyConfig:
    base_url: str
    account_key: Secret
    client_id: Secret
    client_secret: Secret
    channel_id: str
    location_id: str | None = None  # the designated location; None = take the channel's own
    timeout_s: float = 15.0
    concurrency: int = 8
    rate_per_s: float = 2.0


@dataclass(frozen=True)
class SyncConfig:
    import_states: tuple[str, ...] = ("processing",)
    attach_tracking_to_existing_shipment: bool = False
    overlap: timedelta = timedelta(minutes=5)
    settle: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    refund_before_fulfilment: str = "amend_order"  # or "hold"


@dataclass(frozen=True)
class IntegrationConfig:
    name: str
    currency: str
    timezone: str
    magento: MagentoConfig
    stokly: StoklyConfig
    sync: SyncConfig = field(default_factory=SyncConfig)
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    routes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class SlackConfig:
    token: Secret | None = None
    base_url: str = "https://slack.com/api/"


@dataclass(frozen=True)
class EmailConfig:
    smtp_host: str = ""
    smtp_port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: Secret | None = None
    password: Secret | None = None
    sender: str = "watchdog@localhost"
    to: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleConfig:
    orders: timedelta = timedelta(seconds=60)
    stock: timedelta = timedelta(seconds=60)
    fulfilment: timedelta = timedelta(seconds=60)
    refunds: timedelta = timedelta(minutes=5)
    checks: timedelta = timedelta(minutes=5)
    dispatch: timedelta = timedelta(seconds=10)
    full_stock_push: str = "02:00"
    slack_digest: tuple[str, ...] = ("08:00", "16:00")
    email_digest: str = "07:30"


@dataclass(frozen=True)
class Config:
    source: str
    integrations: tuple[IntegrationConfig, ...]
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    def integration(self, name: str) -> IntegrationConfig:
        """The integration called ``name``. Raises KeyError."""
        for integration in self.integrations:
            if integration.name == name:
                return integration
        raise KeyError(name)


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the TOML file at ``path``. Raises ConfigError with every problem."""
    env = os.environ if environ is None else environ
    file = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([Problem(file, "-", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(file, "-", f"cannot read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(file, "-", f"not valid TOML: {exc}")]) from None
    return config_from_mapping(raw, file, env)


def config_from_mapping(raw: Mapping[str, Any], file: str, env: Mapping[str, str]) -> Config:
    """Validate an already-parsed TOML document. Raises ConfigError with every problem."""
    r = Reader(file, env)
    r.unknown_keys(raw, "", KNOWN_KEYS[""])
    integrations = tuple(
        _integration(r, item, f"integrations[{i}]") for i, item in enumerate(r.list_of_tables(raw, "integrations"))
    )
    if not integrations and "integrations" in raw:
        r.problem("integrations", "at least one [[integrations]] table is needed")
    elif "integrations" not in raw:
        r.problem("integrations", "missing: at least one [[integrations]] table is needed")
    names = [i.name for i in integrations if i is not None]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        r.problem("integrations", f"the name {dup!r} is used more than once")
    config = Config(
        source=file,
        integrations=tuple(i for i in integrations if i is not None),
        server=_server(r, r.table(raw, "server")),
        database=_database(r, r.table(raw, "database")),
        slack=_slack(r, r.table(raw, "slack")),
        email=_email(r, r.table(raw, "email")),
        schedule=_schedule(r, r.table(raw, "schedule")),
    )
    if r.problems:
        raise ConfigError(r.problems)
    return config


def _server(r: Reader, t: Mapping[str, Any]) -> ServerConfig:
    r.unknown_keys(t, "server", KNOWN_KEYS["server"])
    listen = r.text(t, "server.listen", "127.0.0.1:9464")
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        r.problem("server.listen", f"{listen!r} is not HOST:PORT")
        listen = "127.0.0.1:9464"
    grace = r.duration(t, "server.source_down_grace", "10m")
    if grace <= timedelta(0):
        r.problem("server.source_down_grace", "must be longer than zero")
        grace = timedelta(minutes=10)
    return ServerConfig(listen=listen, source_down_grace=grace)


def _database(r: Reader, t: Mapping[str, Any]) -> DatabaseConfig:
    r.unknown_keys(t, "database", KNOWN_KEYS["database"])
    url = r.text(t, "database.url", "sqlite:///watchdog.db")
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        r.problem("database.url", f"{url.split('://')[0]!r} databases are not supported: use sqlite:/// or "
                  "postgresql+psycopg://")
    return DatabaseConfig(url=url)


def _integration(r: Reader, t: Mapping[str, Any], key: str) -> IntegrationConfig | None:
    r.unknown_keys(t, key, KNOWN_KEYS["integrations"])
    name = r.text(t, f"{key}.name", None)
    if name is not None and not NAME_RE.match(name):
        r.problem(f"{key}.name", f"{name!r} must be lowercase letters, digits, '-' or '_' (max 63)")
    currency = r.text(t, f"{key}.currency", "GBP")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        r.problem(f"{key}.currency", f"{currency!r} is not an ISO 4217 code like 'GBP'")
    timezone = r.text(t, f"{key}.timezone", "Europe/London")
    r.timezone(timezone, f"{key}.timezone")
    magento = _magento(r, r.table(t, "magento", required=f"{key}.magento"), f"{key}.magento")
    stokly = _stokly(r, r.table(t, "stokly", required=f"{key}.stokly"), f"{key}.stokly")
    sync = _sync(r, r.table(t, "sync"), f"{key}.sync")
    checks = r.table(t, "checks")
    for check_id, value in checks.items():
        if not isinstance(value, Mapping):
            r.problem(f"{key}.checks.{check_id}", "must be a table")
    routes = _routes(r, r.table(t, "routes"), f"{key}.routes")
    if name is None or magento is None or stokly is None:
        return None
    frozen_checks = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in checks.items()
                                      if isinstance(v, Mapping)})
    return IntegrationConfig(name=name, currency=currency, timezone=timezone, magento=magento, stokly=stokly,
                             sync=sync, checks=frozen_checks, routes=routes)


def _magento(r: Reader, t: Mapping[str, Any], key: str) -> MagentoConfig | None:
    secrets = ("token_env", "consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env")
    r.unknown_keys(t, key, KNOWN_KEYS["integrations.magento"])
    base_url = r.url(t, f"{key}.base_url")
    auth = r.text(t, f"{key}.auth", "oauth1")
    values: dict[str, Any] = {}
    if auth == "bearer":
        values["bearer_token"] = r.secret(t, f"{key}.token_env")
    elif auth == "oauth1":
        for name in secrets[1:]:
            values[name.removesuffix("_env")] = r.secret(t, f"{key}.{name}")
    elif auth == "admin":
        values.update(username=r.text(t, f"{key}.username", None), password=r.secret(t, f"{key}.password_env"))
    else:
        r.problem(f"{key}.auth", f"{auth!r} must be 'oauth1', 'bearer' or 'admin'")
    source_code = r.text(t, f"{key}.source_code", None)
    if base_url is None or source_code is None:
        return None
    return MagentoConfig(
        base_url=base_url, auth=auth, source_code=source_code, stock_id=r.integer(t, f"{key}.stock_id", 1, minimum=1),
        timeout_s=r.number(t, f"{key}.timeout_s", 15.0), concurrency=r.integer(t, f"{key}.concurrency", 8, minimum=1),
        rate_per_s=r.number(t, f"{key}.rate_per_s", 0.0), **values,
    )


def _stokly(r: Reader, t: Mapping[str, Any], key: str) -> StoklyConfig | None:
    r.unknown_keys(t, key, KNOWN_KEYS["integrations.stokly"])
    base_url = r.url(t, f"{key}.base_url")
    account = r.secret(t, f"{key}.account_key_env")
    client_id = r.secret(t, f"{key}.client_id_env")
    client_secret = r.secret(t, f"{key}.client_secret_env")
    channel_id = r.text(t, f"{key}.channel_id", None)
    location_id = r.text(t, f"{key}.location_id", "") or None
    if base_url is None or account is None or client_id is None or client_secret is None or channel_id is None:
        return None
    return StoklyConfig(
        base_url=base_url, account_key=account, client_id=client_id, client_secret=client_secret,
        channel_id=channel_id, location_id=location_id, timeout_s=r.number(t, f"{key}.timeout_s", 15.0),
        concurrency=r.integer(t, f"{key}.concurrency", 8, minimum=1), rate_per_s=r.number(t, f"{key}.rate_per_s", 2.0),
    )


def _sync(r: Reader, t: Mapping[str, Any], key: str) -> SyncConfig:
    r.unknown_keys(t, key, KNOWN_KEYS["integrations.sync"])
    states = r.str_list(t, f"{key}.import_states", ["processing"])
    refund_mode = r.text(t, f"{key}.refund_before_fulfilment", "amend_order")
    if refund_mode not in ("amend_order", "hold"):
        r.problem(f"{key}.refund_before_fulfilment", f"{refund_mode!r} must be 'amend_order' or 'hold'")
    return SyncConfig(
        import_states=tuple(states),
        attach_tracking_to_existing_shipment=r.flag(t, f"{key}.attach_tracking_to_existing_shipment", False),
        overlap=r.duration(t, f"{key}.overlap", "5m"), settle=r.duration(t, f"{key}.settle", "60s"),
        max_attempts=r.integer(t, f"{key}.max_attempts", 8, minimum=1), refund_before_fulfilment=refund_mode,
    )


def _routes(r: Reader, t: Mapping[str, Any], key: str) -> Mapping[str, str]:
    routes: dict[str, str] = {}
    for team, channel in t.items():
        if team not in TEAMS:
            r.problem(f"{key}.{team}", f"unknown team; expected one of {', '.join(TEAMS)}")
        elif not isinstance(channel, str) or not channel:
            r.problem(f"{key}.{team}", "must be a Slack channel name or id")
        else:
            routes[team] = channel
    return MappingProxyType(routes)


def _slack(r: Reader, t: Mapping[str, Any]) -> SlackConfig:
    r.unknown_keys(t, "slack", KNOWN_KEYS["slack"])
    token = r.secret(t, "slack.token_env") if "token_env" in t else None
    return SlackConfig(token=token, base_url=r.text(t, "slack.base_url", "https://slack.com/api/"))


def _email(r: Reader, t: Mapping[str, Any]) -> EmailConfig:
    r.unknown_keys(t, "email", KNOWN_KEYS["email"])
    return EmailConfig(
        smtp_host=r.text(t, "email.smtp_host", ""), smtp_port=r.integer(t, "email.smtp_port", 587, minimum=1),
        starttls=r.flag(t, "email.starttls", True), ssl=r.flag(t, "email.ssl", False),
        username=r.secret(t, "email.username_env") if "username_env" in t else None,
        password=r.secret(t, "email.password_env") if "password_env" in t else None,
        sender=r.text(t, "email.from", "watchdog@localhost"), to=tuple(r.str_list(t, "email.to", [])),
    )


def _schedule(r: Reader, t: Mapping[str, Any]) -> ScheduleConfig:
    r.unknown_keys(t, "schedule", KNOWN_KEYS["schedule"])
    defaults = {"orders": "60s", "stock": "60s", "fulfilment": "60s", "refunds": "5m", "checks": "5m",
                "dispatch": "10s"}
    intervals = {name: r.duration(t, f"schedule.{name}", default) for name, default in defaults.items()}
    for name, interval in intervals.items():
        seconds = interval.total_seconds()
        if seconds < 1 or seconds != int(seconds):
            r.problem(f"schedule.{name}", f"{seconds:g}s: intervals are whole seconds, at least 1s")
            intervals[name] = parse_duration(defaults[name])
    return ScheduleConfig(
        **intervals,
        full_stock_push=r.clock_time(t, "schedule.full_stock_push", r.text(t, "schedule.full_stock_push", "02:00")),
        slack_digest=tuple(r.clock_time(t, "schedule.slack_digest", x) for x in
                           r.str_list(t, "schedule.slack_digest", ["08:00", "16:00"])),
        email_digest=r.clock_time(t, "schedule.email_digest", r.text(t, "schedule.email_digest", "07:30")),
    )
