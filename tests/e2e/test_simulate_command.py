"""``watchdog simulate`` serves both simulators over HTTP and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_simulate_serves_both_apis_until_sigterm() -> None:
    magento, stokly = _free_port(), _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "watchdog.cli", "simulate", "--magento-port", str(magento),
                             "--stokly-port", str(stokly)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(4)]
        assert f"127.0.0.1:{magento}" in banner[0]
        assert "sim-magento-access-token" not in "".join(banner)
        headers = {"Authorization": "Bearer sim-magento-access-token"}
        r = httpx.get(f"http://127.0.0.1:{magento}/rest/V1/inventory/sources", headers=headers,
                      params={"searchCriteria[pageSize]": 10}, timeout=5)
        assert r.status_code == 200
        assert "stokly_main" in {s["source_code"] for s in r.json()["items"]}
        unauthenticated = httpx.get(f"http://127.0.0.1:{stokly}/v0/items", timeout=5)
        assert unauthenticated.status_code == 401
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout is not None:
            proc.stdout.close()
