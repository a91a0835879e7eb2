"""Newly stored reports, top to bottom: sketch and sign each -> place it in its story -> its
novelty enters its score -> hold back what must not alert (a feed's backfill, old items) -> queue
what the desk is told about each story. Runs inside the transaction that stores the articles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from service.alerts.queue import Enrichment, NewsAlert, queue_news_alerts, rule_tickers
from service.domain.feeds import Entry
from service.domain.scoring import Assessment, Source
from service.events.novelty import with_novelty
from service.events.signature import distinctive_words, signature_of
from service.events.sketch import sketch, words
from service.events.stories import Told
from service.rules import Ruleset
from service.rules.frames import PROGRAMME
from service.rules.phrases import normalise
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


@dataclass(frozen=True)
class RulesLexicon:
    """What story grouping takes from a ruleset: the words the rules use (on a topic, every
    report has them, so they tell no event from another) and whom each agency acts for."""

    vocabulary: frozenset[str]
    #: Case-folded agency or country name -> the case-folded country it acts for ("mofcom" -> "china").
    actors: dict[str, str]
    #: A programme's name or alias as normalised text (" project vault ") -> the programme's name.
    #: Its words are rule vocabulary, so a named programme counts as a named thing instead.
    programmes: dict[str, str] = field(default_factory=dict)

    def programmes_in(self, text: str) -> list[str]:
        """The programmes `text` names, as entities ("programme:Project Vault")."""
        spaced = normalise(text)
        return list(dict.fromkeys(f"programme:{name}" for key, name in self.programmes.items() if key in spaced))


_lexicons: dict[int, tuple[Ruleset, RulesLexicon]] = {}


def rules_lexicon(ruleset: Ruleset) -> RulesLexicon:
    """The lexicon of `ruleset`, built once per ruleset (a reload brings a new one)."""
    cached = _lexicons.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    vocabulary = frozenset(word for phrase in ruleset.matcher.phrases for key in phrase.keys for word in key.split())
    actors: dict[str, str] = {}
    for entity in ruleset.catalogue.entities:
        if entity.kind == "country":
            actors[" ".join(words(entity.name))] = " ".join(words(entity.name))
        elif entity.kind == "agency":
            acts_for = entity.category or entity.name
            actors[" ".join(words(entity.name))] = " ".join(words(acts_for))
    programmes: dict[str, str] = {}
    if ruleset.frames is not None:
        for key, values in ruleset.frames.lexicon.entries.items():
            for tag, value in values:
                if tag == PROGRAMME:
                    programmes[key] = value[1]
    lexicon = RulesLexicon(vocabulary, actors, programmes)
    _lexicons.clear()  # one ruleset is in force at a time
    _lexicons[id(ruleset)] = (ruleset, lexicon)
    return lexicon


def told_of(
    ruleset: Ruleset,
    title: str,
    summary: str,
    verdict: Assessment,
    at: datetime,
    link: str | None,
    *,
    official: bool = False,
) -> Told:
    """A report as story grouping compares it: its text's sketch and its event signature."""
    text = f"{title}\n{summary}"
    lexicon = rules_lexicon(ruleset)
    named = [*(ruleset.named_in(verdict.matched) if verdict.matched else ()), *lexicon.programmes_in(text)]
    return Told(
        at=at,
        sketch=sketch(text),
        signature=signature_of(verdict, named, distinctive_words(text, lexicon.vocabulary), lexicon.actors),
        canonical_link=link,
        official=official,
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
        told = told_of(
            ruleset,
            entry.title,
            entry.summary,
            verdict,
            report_time(entry.published, now),
            entry.canonical_link,
            official=source.kind == "official",
        )
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
