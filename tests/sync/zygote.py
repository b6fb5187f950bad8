"""A fork server for the crash test: imports the worker once, then forks a fresh worker per request.

Started as ``python tests/sync/zygote.py LOGFILE``. Each line ``spawn <json argv>`` on stdin
forks a child that runs ``watchdog.cli.main(argv)`` (a real ``watchdog sync`` process, killable
with SIGKILL at any point) and answers ``<pid>`` on stdout. Forking from this single-threaded,
pre-imported process takes milliseconds, where a fresh interpreter takes most of a second, so
the test can afford many kills. Children are reaped automatically (SIGCHLD ignored); their output
goes to LOGFILE. EOF on stdin ends the server.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def main() -> None:
    sys.path.insert(0, os.getcwd())
    import watchdog.cli  # noqa: F401 - import everything before forking: children start warm
    from watchdog.cli import build_parser
    from watchdog.cli import main as cli_main

    build_parser()  # imports every command module
    from watchdog.clients import tls_context

    tls_context()  # children inherit the process's TLS context instead of building their own
    log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for raw in sys.stdin:
        command, _, payload = raw.strip().partition(" ")
        if command != "spawn":
            continue
        argv = json.loads(payload)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.dup2(log, 1)
            os.dup2(log, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            try:
                code = cli_main(argv)
            except BaseException:  # pragma: no cover - reported in the log
                import traceback

                traceback.print_exc()
                code = 70
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
