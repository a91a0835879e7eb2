"""The daily digest: who gets one and when, what goes in it, and how it looks.

Use cases live in `service.pipeline.digest`; SMTP and outbox files in `service.delivery.email`.
"""
