"""reewatch: rare-earth policy news and price alerts for trading desks."""

__version__ = "0.1.0"
