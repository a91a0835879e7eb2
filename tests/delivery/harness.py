"""The real dispatcher over an outbox on a real database."""

from __future__ import annotations

import asyncio

from service.bootstrap import open_runtime
from service.delivery.dispatcher import DeliveryPolicy, DeliveryReport, drain_outbox
from service.delivery.notifier import Notifier
from service.store.db import make_engine
from tests.store.outbox import Outbox, assessment

__all__ = ["DeliveringOutbox", "assessment"]


class DeliveringOutbox(Outbox):
    """An outbox that can also be drained by the real dispatcher, as `reewatch run --once` will."""

    def drain(self, *, patience: float = 10.0, policy: DeliveryPolicy | None = None, notifier: Notifier | None = None) -> DeliveryReport:
        async def run() -> DeliveryReport:
            async with open_runtime(self.settings, engine=make_engine(self.settings.database_url), notifier=notifier) as rt:
                return await drain_outbox(rt, patience=patience, policy=policy)

        return asyncio.run(run())
