"""The deployment files agree with the code and with each other (no Docker daemon needed).

Checked here: every host path compose.yaml mounts or builds from exists, the services it
promises are there, the configuration it mounts loads, its Prometheus configuration passes
``promtool check config`` (skipped without promtool; CI has it), the Dockerfile copies what
exists and runs ``watchdog run`` with a stop signal it handles, and the systemd unit runs the
same command with a stop timeout longer than the service's drain (``systemd-analyze verify``
when available). ``docker build`` and ``docker compose up`` are not run.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from watchdog.commands.run import register
from watchdog.config import load_config
from watchdog.durations import parse_duration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "compose.yaml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SIM_ENV = {"SIM_MAGENTO_TOKEN": "t", "SIM_STOKLY_ACCOUNT": "acme", "SIM_STOKLY_CLIENT_ID": "c",
           "SIM_STOKLY_CLIENT_SECRET": "s"}


def _default_drain() -> float:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["run", "--config", "x"])
    return parse_duration(args.drain).total_seconds()


def test_compose_mounts_and_builds_only_paths_that_exist() -> None:
    paths = re.findall(r"^\s*-\s*(\./[^:\s]+):", COMPOSE, re.MULTILINE)
    assert {"./deploy/compose/watchdog.toml", "./grafana/provisioning", "./grafana/dashboards",
            "./grafana/prometheus/rules.yml", "./deploy/compose/prometheus.yml"} <= set(paths)
    for path in paths:
        assert (ROOT / path).exists(), path
    assert re.search(r"^\s*build: \.$", COMPOSE, re.MULTILINE)


def test_compose_runs_the_service_with_postgres_prometheus_and_grafana() -> None:
    services = set(re.findall(r"^  ([a-z]+):$", COMPOSE.split("\nservices:\n")[1].split("\nvolumes:\n")[0],
                              re.MULTILINE))
    assert services == {"db", "migrate", "watchdog", "simulate", "prometheus", "grafana"}
    assert 'command: ["run", "--config", "/etc/watchdog/watchdog.toml"]' in COMPOSE
    assert 'command: ["db", "upgrade", "--config", "/etc/watchdog/watchdog.toml"]' in COMPOSE
    assert "condition: service_completed_successfully" in COMPOSE  # migrations before the service


def test_the_compose_configuration_loads_listens_on_all_interfaces_and_holds_no_password() -> None:
    config = load_config(ROOT / "deploy/compose/watchdog.toml", SIM_ENV)
    assert config.server.listen == "0.0.0.0:9464"
    assert config.database.url.startswith("postgresql+psycopg://watchdog@db")  # password: PGPASSWORD


def test_the_compose_prometheus_configuration_is_valid(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus); CI has it")
    text = (ROOT / "deploy/compose/prometheus.yml").read_text()
    assert "/etc/prometheus/watchdog/rules.yml" in text
    local = tmp_path / "prometheus.yml"
    local.write_text(text.replace("/etc/prometheus/watchdog/rules.yml", str(ROOT / "grafana/prometheus/rules.yml")))
    result = subprocess.run([promtool, "check", "config", str(local)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "job_name: watchdog" in text  # the rules expect this job name


def test_the_dockerfile_copies_what_exists_and_runs_the_service() -> None:
    for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.MULTILINE):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source
    assert 'ENTRYPOINT ["watchdog"]' in DOCKERFILE
    assert 'CMD ["run", "--config", "/etc/watchdog/watchdog.toml"]' in DOCKERFILE
    assert "STOPSIGNAL SIGTERM" in DOCKERFILE
    assert '".[postgres]"' in DOCKERFILE
    assert _default_drain() + 2 < 10  # docker stop waits 10 s


def test_the_systemd_unit_runs_the_service_and_waits_long_enough_to_stop() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy/watchdog.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("/watchdog run --config /etc/watchdog/watchdog.toml")
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) >= _default_drain() + 5
    assert service["Restart"] == "on-failure"
    assert service["User"] == "watchdog"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    text = (ROOT / "deploy/watchdog.service").read_text()
    # this machine has neither the installed service nor its user: point at stand-ins
    text = text.replace("/opt/watchdog/bin/watchdog", "/bin/true")
    text = re.sub(r"^(User|Group)=.*$", "", text, flags=re.MULTILINE)
    text = text.replace("EnvironmentFile=/etc", "EnvironmentFile=-/etc")
    unit = tmp_path / "watchdog.service"
    unit.write_text(text)
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
