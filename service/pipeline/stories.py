"""Newly stored reports, top to bottom: sketch and sign each -> place it in its story -> its
novelty enters its score -> hold back what must not alert (a feed's backfill, old items) -> queue
what the desk is told about each story. Runs inside the transaction that stores the articles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from service.alerts.queue import Enrichment, NewsAlert, queue_news_alerts, rule_tickers
from service.domain.feeds import Entry
from service.domain.scoring import Assessment, Source
from service.events.novelty import with_novelty
from service.events.signature import distinctive_words, signature_of
from service.events.sketch import sketch
from service.events.stories import Told
from service.rules import Ruleset
from service.store.models import Article
from service.store.stories import NewReport, place_reports, report_time

#: Why an alert-worthy report was stored without alerting (the article's `quiet` column).
BACKFILL, TOO_OLD = "backfill", "too old"


@dataclass(frozen=True)
class StoriesTold:
    """What telling one batch did: each article's verdict with its novelty, and the rows queued."""

    verdicts: dict[int, Assessment]
    alerts: int


def quiet_reason(published: datetime | None, now: datetime, *, backfill: bool, max_age: timedelta | None) -> str | None:
    """Why an item must not alert: stored by a feed's first poll (quiet backfill), or published
    more than `max_age` ago. None when it may alert. An item without a date is taken as new."""
    if backfill:
        return BACKFILL
    if max_age is not None and published is not None and published < now - max_age:
        return TOO_OLD
    return None


_vocabularies: dict[int, tuple[Ruleset, frozenset[str]]] = {}


def rules_vocabulary(ruleset: Ruleset) -> frozenset[str]:
    """Every word the rules and watchlists look for, in every form they match: on a topic, such
    words are in every report, so they do not tell one event from another."""
    cached = _vocabularies.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    vocabulary = frozenset(word for phrase in ruleset.matcher.phrases for key in phrase.keys for word in key.split())
    _vocabularies.clear()  # one ruleset is in force at a time; a reload replaces it
    _vocabularies[id(ruleset)] = (ruleset, vocabulary)
    return vocabulary


def told_of(ruleset: Ruleset, title: str, summary: str, verdict: Assessment, at: datetime, link: str | None) -> Told:
    """A report as story grouping compares it: its text's sketch and its event signature."""
    text = f"{title}\n{summary}"
    named = ruleset.named_in(verdict.matched) if verdict.matched else ()
    return Told(
        at=at,
        sketch=sketch(text),
        signature=signature_of(verdict, named, distinctive_words(text, rules_vocabulary(ruleset))),
        canonical_link=link,
    )


def tell_stories(
    session: Session,
    ruleset: Ruleset,
    stored: Sequence[tuple[int, Entry, Assessment]],
    source: Source,
    *,
    now: datetime,
    backfill: bool,
    max_age: timedelta | None,
    default_channel: str,
    enrichment: Enrichment,
) -> StoriesTold:
    """Place stored articles in their stories and queue what the desk is told; no commit."""
    reports = []
    for article_id, entry, verdict in stored:
        told = told_of(ruleset, entry.title, entry.summary, verdict, report_time(entry.published, now), entry.canonical_link)
        reports.append(NewReport(article_id, entry.title, source.name, source.kind, told, verdict.severity))
    placements = place_reports(session, reports)
    verdicts: dict[int, Assessment] = {}
    news: list[NewsAlert] = []
    changes = []
    for article_id, entry, verdict in stored:
        placement = placements[article_id]
        verdict = with_novelty(verdict, placement.novelty)
        verdicts[article_id] = verdict
        quiet = quiet_reason(entry.published, now, backfill=backfill, max_age=max_age) if verdict.alert else None
        changes.append({"id": article_id, "score": verdict.score, "novelty": verdict.novelty, "quiet": quiet})
        news.append(NewsAlert(article_id, entry.title, entry.link, source, entry.published, verdict, placement, quiet))
    if changes:
        session.exec(update(Article), params=changes)  # type: ignore[call-overload]
    rows = queue_news_alerts(
        session,
        news,
        default_channel=default_channel,
        now=now,
        enrichment=enrichment,
        tickers=rule_tickers(ruleset),
    )
    return StoriesTold(verdicts, len(rows))
