"""Delivering the outbox, top to bottom: claim -> limit -> send -> record.

claim   lease due rows no other instance holds, a few per channel, and hand each to its
        channel's lane (a queue with one worker, so a channel's alerts go out in order)
limit   the lane waits for the channel's next slot: about one message per second, short
        bursts, one pace per channel shared by every instance (store/pace.py)
send    a reply whose parent is still on its way waits for it (handed back, unattempted); a
        row whose last attempt ended unknown (timeout, dropped connection, crash) is first
        looked for in the channel by its key; otherwise the attempt is noted, then posted (an
        update edits its story's first alert in place). A follow-up's moves are measured now,
        from the bars stored by its due time. Noting the attempt checks (and renews) the lease:
        a row another instance took over is left to it, unposted
record  sent with its ts only after Slack said ok; retried with back-off (429: after
        Retry-After, and the channel is held); failed with the reason, logged once

`drain_outbox` runs this until nothing is due (`reewatch run --once`, tests); `serve_outbox` runs
it until stopped, waking as soon as `rt.outbox_wakeup` is set (`reewatch run`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from service import metrics
from service.bootstrap import Runtime
from service.config import Settings
from service.delivery.notifier import Delivery, Posted
from service.delivery.retry import retry_delay
from service.domain.alerts import UPDATE, FollowUp, notice_from_row
from service.errors import DeliveryError, DeliveryRejected, SlackRateLimited
from service.logs import bind_log_context
from service.store.db import session as open_session
from service.store.outbox import (
    FAILED,
    PENDING,
    Claimed,
    begin_attempt,
    claim_due_alerts,
    known_channel_id,
    next_due_at,
    parent_of,
    record_failure,
    record_retry,
    record_sent,
    release_alerts,
)
from service.store.models import OutboxAlert
from service.store.pace import pause_channel, reserve_slot
from service.store.prices import load_reactions

log = logging.getLogger(__name__)

#: How long `drain_outbox` waits for retries that fall due soon (a 429's Retry-After, a back-off).
DEFAULT_PATIENCE = 30.0
#: The shortest sleep of the claim loop, so a row due "now" that another instance holds is no busy loop.
MIN_WAIT = 0.05
#: How long a stopping dispatcher lets posts in flight finish.
STOP_GRACE_SECONDS = 15.0
#: A lane holds its channel this much past Retry-After, so every held row is due when it lets go.
HOLD_MARGIN = 0.05


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the dispatcher may push."""

    rate: float = 1.0
    burst: int = 3
    retry_base: float = 2.0
    retry_cap: float = 600.0
    #: Rows a channel's lane holds at once (their leases are renewed by the heartbeat while they wait).
    per_channel: int = 5
    batch: int = 200
    #: Renewed by the heartbeat while the row is in flight (see pipeline/heartbeat.py).
    lease: timedelta = timedelta(seconds=30)
    #: How often an idle dispatcher looks for rows that another instance queued.
    idle_poll: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            rate=settings.slack_channel_rate,
            burst=settings.slack_channel_burst,
            retry_base=settings.slack_retry_base,
            retry_cap=settings.slack_retry_max,
            idle_poll=settings.scheduler_tick_seconds,
            lease=settings.lease,
        )


@dataclass
class DeliveryReport:
    """What a dispatcher did."""

    sent: int = 0
    #: Of those sent, how many an earlier attempt had already posted (found by their key).
    found: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0


@dataclass(frozen=True)
class Sent:
    posted: Posted
    found: bool


@dataclass(frozen=True)
class Waiting:
    """The row's parent is not posted yet: hand the row back, due again at `until`."""

    until: datetime


@dataclass(frozen=True)
class Lost:
    """The row's lease went to another instance before the post: left to it, unposted."""


@dataclass(frozen=True)
class Failed:
    error: DeliveryError
    #: Whether the post itself was attempted (else the failure came while looking it up).
    posted: bool


@dataclass
class Lane:
    """One channel's queue and pace."""

    channel: str
    #: Whether posts wait for the channel's shared pace (Slack; the console is not paced).
    paced: bool
    queue: deque[Claimed] = field(default_factory=deque)
    worker: asyncio.Task | None = None
    #: Seconds the lane must keep its channel after a 429 (no claims for it meanwhile).
    hold: float = 0.0
    holding: bool = False

    @property
    def busy(self) -> bool:
        return bool(self.queue) or (self.worker is not None and not self.worker.done())


class Dispatcher:
    """Drains the outbox through `rt.notifier`, one lane per channel."""

    def __init__(self, rt: Runtime, policy: DeliveryPolicy | None = None):
        self.rt = rt
        self.notifier = rt.notifier
        self.policy = policy or DeliveryPolicy.from_settings(rt.settings)
        self.report = DeliveryReport()
        self._lanes: dict[str, Lane] = {}

    async def run(self, stop: asyncio.Event | None = None, *, patience: float | None = None) -> DeliveryReport:
        """Deliver until `stop` is set or, with `patience`, until nothing falls due within it."""
        stop = stop or asyncio.Event()
        wakeup = self.rt.outbox_wakeup
        try:
            while not stop.is_set():
                wakeup.clear()
                try:
                    claimed = await self.rt.db(self._claim, self._busy_channels())
                    for item in claimed:
                        self.rt.leases.hold(OutboxAlert, item.lease_token)
                        self._lane(item.alert.channel).queue.append(item)
                    self._start_lanes()
                    if len(claimed) >= self.policy.batch:
                        continue
                    # One snapshot of the busy channels for both the query and the decision: a lane
                    # that finishes meanwhile has set the wakeup, and must not look like "all done".
                    busy = self._busy_channels()
                    next_due = await self.rt.db(self._next_due, busy)
                except Exception:
                    if patience is not None:
                        raise  # run --once reports it; the long-running service carries on
                    log.exception("cannot read the outbox; trying again in %ss", self.policy.idle_poll)
                    await first_of(stop, timeout=self.policy.idle_poll)
                    continue
                now = self.rt.clock()
                waiting = None if next_due is None else (next_due - now).total_seconds()
                idle = not busy and not wakeup.is_set()
                if patience is not None and idle and (waiting is None or waiting > patience):
                    break
                timeout = self.policy.idle_poll if waiting is None else min(self.policy.idle_poll, max(waiting, MIN_WAIT))
                await first_of(wakeup, stop, timeout=timeout)
        finally:
            await self._stop_lanes()
        return self.report

    # -- claim ---------------------------------------------------------------------------------

    def _claim(self, busy: list[str]) -> list[Claimed]:
        with open_session(self.rt.engine) as session:
            return claim_due_alerts(
                session,
                self.rt.instance,
                self.rt.clock(),
                self.policy.lease,
                per_channel=self.policy.per_channel,
                limit=self.policy.batch,
                busy_channels=busy,
            )

    def _next_due(self, busy: list[str]):
        with open_session(self.rt.engine) as session:
            return next_due_at(session, self.rt.clock(), busy)

    def _lane(self, channel: str) -> Lane:
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = Lane(channel, self.notifier.paced)
        return lane

    def _busy_channels(self) -> list[str]:
        return [lane.channel for lane in self._lanes.values() if lane.busy]

    def _start_lanes(self) -> None:
        for lane in self._lanes.values():
            if lane.queue and (lane.worker is None or lane.worker.done()):
                lane.worker = asyncio.create_task(self._work_lane(lane), name=f"outbox-lane:{lane.channel}")

    async def _work_lane(self, lane: Lane) -> None:
        try:
            while lane.queue:
                item = lane.queue.popleft()
                bind_log_context(alert_id=item.alert.id, article_id=item.alert.article_id)
                try:
                    await self._limit(lane)
                    outcome = await self._send(item)
                    await self._record(item, outcome, lane)
                except Exception:
                    # A bug or a database outage costs this row one lease period, not the lane.
                    log.exception("internal error delivering alert %s; it is retried when its lease ends", item.alert.key)
                finally:
                    self.rt.leases.let_go(OutboxAlert, item.lease_token)
            if lane.hold:
                # Rate limited: keep the channel (no claims for it) until Retry-After has passed,
                # so the held rows and newer ones go out together, in order.
                lane.holding = True
                await asyncio.sleep(lane.hold + HOLD_MARGIN)
        finally:
            lane.hold, lane.holding = 0.0, False
            self.rt.outbox_wakeup.set()

    # -- limit ---------------------------------------------------------------------------------

    async def _limit(self, lane: Lane) -> None:
        if not lane.paced:
            return
        now = self.rt.clock()
        slot = await self.rt.db(self._reserve, lane.channel, now)
        wait = (slot - now).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)

    def _reserve(self, channel: str, now: datetime) -> datetime:
        with open_session(self.rt.engine) as session:
            return reserve_slot(session, channel, now, rate=self.policy.rate, burst=self.policy.burst)

    def _pause(self, channel: str, until: datetime) -> None:
        with open_session(self.rt.engine) as session:
            pause_channel(session, channel, until, self.rt.clock(), rate=self.policy.rate, burst=self.policy.burst)

    # -- send ----------------------------------------------------------------------------------

    async def _send(self, item: Claimed) -> Sent | Failed | Waiting | Lost:
        row = item.alert
        try:
            alert = notice_from_row(row.kind, row.payload)
        except (KeyError, TypeError, ValueError) as exc:
            return Failed(DeliveryRejected(f"unreadable alert payload: {exc}"), posted=False)
        if row.parent_id is not None and (item.parent is None or item.parent.status == PENDING):
            # Claimed right behind its parent: by now this lane has posted it, or it is still due.
            item = replace(item, parent=await self.rt.db(self._parent, row))
            if item.parent is not None and item.parent.status == PENDING:
                return Waiting(max(item.parent.next_attempt_at, self.rt.clock()))
        edit = row.kind == UPDATE
        if isinstance(alert, FollowUp) or edit:
            if item.parent is None or item.parent.status == FAILED:
                # Nobody saw the alert: a reply about it, or an edit of it, makes no sense on its own.
                why = f"its alert failed: {item.parent.last_error}" if item.parent is not None else "its alert is gone"
                return Failed(DeliveryRejected(why), posted=False)
        if isinstance(alert, FollowUp):
            alert = await self.rt.db(self._measure, alert)
        thread = item.thread
        delivery = Delivery(
            key=row.key,
            alert=alert,
            channel=row.channel,
            channel_id=thread[0] if thread else row.channel_id,
            thread_ts=thread[1] if thread else None,
            queued_at=row.created_at,
            edit=edit,
        )
        if row.outcome_unknown and not edit:
            # An edit carries the whole message: making it twice changes nothing.
            if delivery.channel_id is None:
                delivery = replace(delivery, channel_id=await self.rt.db(self._known_channel_id, row.channel))
            try:
                found = await self.notifier.find_posted(delivery)
            except DeliveryError as exc:
                return Failed(exc, posted=False)
            if found is not None:
                return Sent(found, found=True)
        if not await self.rt.db(self._begin, row.id, item.lease_token, delivery):
            return Lost()
        try:
            return Sent(await self.notifier.post(delivery), found=False)
        except DeliveryError as exc:
            return Failed(exc, posted=True)

    def _parent(self, row) -> object:
        with open_session(self.rt.engine) as session:
            return parent_of(session, row)

    def _measure(self, follow_up: FollowUp) -> FollowUp:
        with open_session(self.rt.engine) as session:
            return load_reactions(
                session, follow_up, self.rt.clock(), intraday=self.rt.settings.price_intraday_interval
            )

    def _known_channel_id(self, channel: str) -> str | None:
        with open_session(self.rt.engine) as session:
            return known_channel_id(session, channel)

    def _begin(self, alert_id: int, token: str, delivery: Delivery) -> bool:
        with open_session(self.rt.engine) as session:
            return begin_attempt(
                session,
                alert_id,
                self.rt.clock(),
                token=token,
                lease=self.policy.lease,
                channel_id=delivery.channel_id,
                thread_ts=delivery.thread_ts,
            )

    # -- record --------------------------------------------------------------------------------

    async def _record(self, item: Claimed, outcome: Sent | Failed | Waiting | Lost, lane: Lane) -> None:
        row, token = item.alert, item.lease_token
        if isinstance(outcome, Lost):
            log.warning("alert %s: %s", row.key, "its lease was taken over by another instance; left to it, unposted")
            return
        if isinstance(outcome, Waiting):
            await self.rt.db(self._release, [row.id], outcome.until, token)
            return
        if isinstance(outcome, Sent):
            waiting = await self.rt.db(self._sent, row.id, token, outcome.posted)
            if waiting is None:
                # Posted, but another instance holds the row now: it finds the message by its key.
                log.warning(
                    "alert %s was posted (ts %s) after its lease was taken over; the new holder finds it by its key",
                    row.key,
                    outcome.posted.ts,
                )
                return
            metrics.record_delivery(row.kind, row.created_at, row.payload, self.rt.clock())
            self.report.sent += 1
            self.report.found += outcome.found
            how = "found already posted" if outcome.found else "sent"
            log.info("alert %s %s to %s (ts %s)", row.key, how, outcome.posted.channel_id, outcome.posted.ts)
            if waiting:
                self.rt.outbox_wakeup.set()  # its thread replies can go now
            return
        error = outcome.error
        if not error.retryable:
            if not await self.rt.db(self._failed, row.id, token, error.reason):
                log.warning("alert %s failed (%s) after its lease was taken over; left to the new holder", row.key, error.reason)
                return
            self.report.failed += 1
            log.error("alert %s to %s failed for good: %s", row.key, row.channel, error.reason)
            return
        # After a failed lookup the earlier attempt is still unaccounted for.
        unknown = error.maybe_delivered if outcome.posted else row.outcome_unknown
        retry_after = error.retry_after if isinstance(error, SlackRateLimited) else None
        delay = retry_delay(
            row.attempts + 1,
            base=self.policy.retry_base,
            cap=self.policy.retry_cap,
            jitter=self.rt.rng.random(),
            retry_after=retry_after,
        )
        now = self.rt.clock()
        await self.rt.db(self._retry, row.id, token, now + timedelta(seconds=delay), error.reason, unknown)
        self.report.retried += 1
        log.warning("alert %s to %s: %s; trying again in %.1fs", row.key, row.channel, error.reason, delay)
        if retry_after is not None:
            self.report.rate_limited += 1
            if lane.paced:
                # Every instance posting to this channel holds off until Retry-After has passed.
                await self.rt.db(self._pause, lane.channel, now + timedelta(seconds=retry_after))
            # Hand the channel's other rows back, due with this one, rather than sit on their leases.
            held = list(lane.queue)
            lane.queue.clear()
            lane.hold = max(lane.hold, delay)
            await self._hand_back(held, now + timedelta(seconds=delay))

    async def _hand_back(self, items: list[Claimed], next_at: datetime) -> None:
        """Release queued rows unattempted, each under its own claim's token, and stop renewing them."""
        by_token: dict[str, list[int]] = {}
        for item in items:
            by_token.setdefault(item.lease_token, []).append(item.alert.id)  # type: ignore[arg-type]
        try:
            for token, ids in by_token.items():
                await self.rt.db(self._release, ids, next_at, token)
        finally:
            for item in items:
                self.rt.leases.let_go(OutboxAlert, item.lease_token)

    def _sent(self, alert_id: int, token: str, posted: Posted) -> int | None:
        with open_session(self.rt.engine) as session:
            return record_sent(session, alert_id, self.rt.clock(), token=token, channel_id=posted.channel_id, ts=posted.ts)

    def _failed(self, alert_id: int, token: str, reason: str) -> bool:
        with open_session(self.rt.engine) as session:
            return record_failure(session, alert_id, reason, token=token)

    def _retry(self, alert_id: int, token: str, next_at, reason: str, unknown: bool) -> None:
        with open_session(self.rt.engine) as session:
            if not record_retry(session, alert_id, token=token, next_at=next_at, reason=reason, outcome_unknown=unknown):
                log.warning("alert %s: %s", alert_id, "its lease was taken over by another instance; its retry is left to it")

    def _release(self, alert_ids: list[int], next_at, token: str) -> None:
        with open_session(self.rt.engine) as session:
            release_alerts(session, alert_ids, next_at, token=token)

    # -- stopping ------------------------------------------------------------------------------

    async def _stop_lanes(self) -> None:
        """Hand queued rows back at once, let posts in flight finish, then cancel what is left."""
        queued = [item for lane in self._lanes.values() for item in lane.queue]
        for lane in self._lanes.values():
            lane.queue.clear()
        if queued:
            await self._hand_back(queued, self.rt.clock())
        for lane in self._lanes.values():
            if lane.holding and lane.worker is not None:
                lane.worker.cancel()  # only waiting out a 429: nothing in flight
        workers = [lane.worker for lane in self._lanes.values() if lane.worker is not None and not lane.worker.done()]
        if not workers:
            return
        _, pending = await asyncio.wait(workers, timeout=STOP_GRACE_SECONDS)
        for worker in pending:
            # Cancelled mid-post, the row keeps outcome_unknown and is looked up before any repost.
            worker.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)


async def drain_outbox(rt: Runtime, *, patience: float = DEFAULT_PATIENCE, policy: DeliveryPolicy | None = None) -> DeliveryReport:
    """Deliver everything due, waiting up to `patience` seconds for retries; return when done."""
    return await Dispatcher(rt, policy).run(patience=patience)


async def serve_outbox(rt: Runtime, stop: asyncio.Event, *, policy: DeliveryPolicy | None = None) -> DeliveryReport:
    """Deliver until `stop` is set, claiming as soon as `rt.outbox_wakeup` is set."""
    return await Dispatcher(rt, policy).run(stop)


async def first_of(*events: asyncio.Event, timeout: float) -> None:
    """Return when any of `events` is set, or after `timeout` seconds."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
