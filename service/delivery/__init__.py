"""Delivery: the dispatcher that drains the outbox to Slack (or the console) without losing or doubling an alert."""
