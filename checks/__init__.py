"""Built-in check modules. Each registers through the ``watchdog.checks`` entry-point group,
exactly as a third-party check would (see pyproject.toml); ``BUILTIN`` lists their ids."""

BUILTIN: tuple[str, ...] = ("stock_divergence",)
