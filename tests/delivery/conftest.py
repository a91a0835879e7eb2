"""Fixtures for delivery tests: the local Slack API and an outbox on each database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery.harness import DeliveringOutbox
from tests.fakes.slack_api import TEST_TOKEN, SlackAPI


@pytest.fixture
def slack() -> Iterator[SlackAPI]:
    with SlackAPI() as api:
        yield api


@pytest.fixture
def slack_settings(make_settings, database_url, slack):
    """Settings pointing at the local Slack API, with short timeouts and a fast pace."""

    def make(**overrides):
        values = dict(
            slack_bot_token=TEST_TOKEN,
            slack_api_url=slack.url,
            # Generous for loopback on a slow machine, so only the tests that stall Slack on
            # purpose see a timeout; those set a short one and never count attempts exactly.
            slack_timeout=5.0,
            slack_channel_rate=50.0,
            slack_channel_burst=5,
            slack_retry_base=0.05,
            slack_retry_max=0.5,
            scheduler_tick_seconds=0.2,
        )
        values.update(overrides)
        return make_settings(database_url, **values)

    return make


@pytest.fixture
def outbox(slack_settings) -> Iterator[DeliveringOutbox]:
    box = DeliveringOutbox(slack_settings())
    yield box
    box.close()
