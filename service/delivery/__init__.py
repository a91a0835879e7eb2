"""Delivery: handing finished messages to the outside world: Slack alerts from the outbox (or the
console without a token), and digests by SMTP (or as files)."""
