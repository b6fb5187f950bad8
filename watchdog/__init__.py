"""stokly-magento-watchdog: the sync worker and watchdog between Magento 2 and Stokly."""

__version__ = "0.1.0"
