"""Alerts on the terminal when no Slack token is set: what `make demo` and a fresh checkout show."""

from __future__ import annotations

import itertools
import time

from rich.console import Console

from service.alerts.console import render_console_notice
from service.delivery.notifier import Delivery, Posted

CONSOLE_CHANNEL_ID = "console"


class ConsoleNotifier:
    """Prints each alert in the layout of its Slack message and records it as sent to "console"."""

    name = "console"
    paced = False

    def __init__(self, console: Console):
        self.console = console
        self._sequence = itertools.count(1)

    async def post(self, delivery: Delivery) -> Posted:
        """Print the alert; a reply is marked as one, an update of an earlier alert too."""
        if delivery.edit:
            self.console.print(render_console_notice(delivery.alert, channel=delivery.channel, update=True))
            return Posted(channel_id=delivery.channel_id or CONSOLE_CHANNEL_ID, ts=delivery.thread_ts or "")
        self.console.print(render_console_notice(delivery.alert, channel=delivery.channel, reply=delivery.thread_ts is not None))
        # Slack-shaped, unique and increasing, so replies can name their parent like in Slack.
        return Posted(channel_id=CONSOLE_CHANNEL_ID, ts=f"{int(time.time())}.{next(self._sequence):06d}")

    async def find_posted(self, delivery: Delivery) -> Posted | None:
        """A terminal cannot be searched: an alert printed just before a crash prints again."""
        return None

    async def aclose(self) -> None:
        """Nothing to release."""
