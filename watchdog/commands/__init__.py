"""One module per ``watchdog`` sub-command; each exposes ``register(subparsers)``."""
