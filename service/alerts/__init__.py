"""Alerts: what a trader is told, queued in the outbox and rendered for Slack and the console."""
