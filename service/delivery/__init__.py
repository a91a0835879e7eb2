"""Delivery: handing finished messages to the outside world (SMTP, files)."""
