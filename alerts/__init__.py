"""Notifiers: Slack and email (they import only watchdog.notify and their templates)."""
