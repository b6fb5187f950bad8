"""The database: typed tables, small query functions, Alembic migrations."""

from watchdog.store import models, models_alerts, models_sync

__all__ = ["models", "models_alerts", "models_sync"]
