"""A compiled ruleset, and the verdict it gives on one article.

Per article: split off the first sentence, normalise, run the one automaton over headline, first
sentence and rest, resolve entity mentions, test only the rules whose required phrases were
found, then score, merge the impacts and explain. No I/O: the pipeline, `scan` and the benchmark
all call `Ruleset.assess`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from service.domain.feeds import Entry
from service.domain.scoring import Assessment, Direction, Source
from service.rules.conditions import ANYWHERE, HEADLINE, Condition, Evidence
from service.rules.entities import EntityCatalogue, relevance
from service.rules.phrases import PhraseMatcher, normalise, split_lead
from service.rules.score import SEVERITY_RANK, rule_score, unmatched_score
from service.rules.schema import DEFAULT_THROTTLE_SECONDS

#: Words between the headline and the body, so `near` never pairs a headline word with the text.
_HEADLINE_GAP = 1000


@dataclass(frozen=True)
class Rule:
    """One alert rule, compiled."""

    id: str
    description: str
    order: int
    where: str  # file:line, for messages
    condition: Condition
    event_types: tuple[str, ...]
    severity: str
    min_score: int
    channel: str | None
    throttle: int
    #: ticker -> direction from the rule's groups and named tickers (tickers win over groups).
    fixed_impact: Mapping[str, Direction]
    #: Direction for the tickers the article names (`mentioned:` in the rule), if any.
    mentioned_impact: Direction | None
    #: Tickers the rule names itself: `mentioned` does not override them.
    named_tickers: frozenset[str] = frozenset()
    #: Phrase ids the rule looks for (not those under `none`), to tell a headline match.
    positive_phrases: frozenset[int] = frozenset()

    @property
    def clauses(self) -> tuple[frozenset[int], ...]:
        return self.condition.clauses

    def impact_on(self, mentioned: Sequence[str]) -> dict[str, Direction]:
        impact = dict(self.fixed_impact)
        if self.mentioned_impact is not None:
            for ticker in mentioned:
                if ticker not in self.named_tickers:
                    impact[ticker] = self.mentioned_impact
        return impact


@dataclass
class Ruleset:
    """Every rule and watchlist of a rules folder, compiled into one matcher."""

    matcher: PhraseMatcher
    catalogue: EntityCatalogue
    rules: list[Rule]
    #: Phrase ids whose positions are recorded (entity names and `near` terms).
    tracked: frozenset[int]
    files: list[str] = field(default_factory=list)
    alert_files: int = 0
    #: Articles matching this (opinion, explainers, recaps) fire no rule at all.
    ignore: Condition | None = None

    def __post_init__(self) -> None:
        self._by_phrase: dict[int, list[int]] = {}
        self._always: list[int] = []
        for index, rule in enumerate(self.rules):
            if not rule.clauses:
                self._always.append(index)
                continue
            # Index each rule under its rarest-looking required clause (the smallest set).
            anchor = min(rule.clauses, key=len)
            for phrase_id in anchor:
                self._by_phrase.setdefault(phrase_id, []).append(index)
        self._alias_phrases = frozenset(self.catalogue.aliases)
        self._ticker_entities = {
            i: e.name for i, e in enumerate(self.catalogue.entities) if e.kind == "ticker"
        }
        matcher = self.matcher
        self._key_lengths = [len(k) for k in matcher.keys]
        self._tracked_keys = [
            any(p in self.tracked for p in matcher.plain[k]) or any(p in self.tracked for p, _ in matcher.checked[k])
            for k in range(len(matcher.keys))
        ]

    def assess(self, title: str, summary: str, source: Source) -> Assessment:
        """The rules' verdict on one article."""
        evidence, relevance_by_ticker, mentioned_tickers = self.evidence(title, summary, source)
        fired = [self.rules[i] for i in self._candidates(evidence) if self.rules[i].condition.test(evidence)]
        if fired and self.ignore is not None and self.ignore.test(evidence):
            fired = []
        return self._verdict(evidence, fired, source, relevance_by_ticker, mentioned_tickers)

    def evidence(self, title: str, summary: str, source: Source) -> tuple[Evidence, dict[str, int], list[str]]:
        """Everything the rules test: phrases found per scope, positions, mentions, relevance."""
        lead, rest = split_lead(summary)
        raw = (title, lead, rest)
        texts = (normalise(title), normalise(lead), normalise(rest))
        first_seen: dict[int, int] = {}
        where: dict[int, list[tuple[int, int, int]]] = {}
        snapshots: list[set[int]] = []
        matcher = self.matcher
        plain, checked, key_lengths, tracked_keys = matcher.plain, matcher.checked, self._key_lengths, self._tracked_keys
        for segment in range(3):
            text = texts[segment]
            if len(text) > 2 and matcher.keys:
                confirmed: dict = {}
                for end, key_id in matcher.automaton.iter(text):
                    found = plain[key_id]
                    if checked[key_id]:
                        found = found + tuple(
                            p for p, pattern in checked[key_id] if _confirm(confirmed, pattern, raw[segment])
                        )
                    for phrase_id in found:
                        if phrase_id not in first_seen:
                            first_seen[phrase_id] = segment
                    if tracked_keys[key_id]:
                        start = end - key_lengths[key_id] + 1
                        for phrase_id in found:
                            where.setdefault(phrase_id, []).append((segment, start, end))
            snapshots.append(set(first_seen))
        words = [t.count(" ") - 1 for t in texts]
        offsets = (0, max(words[0], 0) + _HEADLINE_GAP, max(words[0], 0) + _HEADLINE_GAP + max(words[1], 0))
        mentioned, counts = self._mentions(snapshots[ANYWHERE], where, raw)
        kinds: dict[str, int] = {}
        entities = self.catalogue.entities
        for entity_id, segment in mentioned.items():
            kind = entities[entity_id].kind
            if segment < kinds.get(kind, 9):
                kinds[kind] = segment
        relevance_by_ticker: dict[str, int] = {}
        for entity_id, segment in mentioned.items():
            ticker = self._ticker_entities.get(entity_id)
            if ticker is not None:
                relevance_by_ticker[ticker] = relevance(segment, counts[entity_id])
        mentioned_tickers = sorted(relevance_by_ticker, key=lambda t: (-relevance_by_ticker[t], t))
        evidence = Evidence(
            (snapshots[0], snapshots[1], snapshots[2]), where, texts, raw, offsets, mentioned, kinds,
            source.kind, source.name,
        )
        return evidence, relevance_by_ticker, mentioned_tickers

    def _mentions(self, found: set[int], where, raw) -> tuple[dict[int, int], dict[int, int]]:
        catalogue = self.catalogue
        aliases = found & self._alias_phrases
        if not aliases:
            return {}, {}
        in_context = not catalogue.context.isdisjoint(found)
        places: dict[int, set[tuple[int, int]]] = {}
        for phrase_id in aliases:
            occurrences = where.get(phrase_id, ())
            for use in catalogue.aliases[phrase_id]:
                kept = occurrences
                if use.ticker_form_only or (use.ambiguous and not in_context):
                    if use.ticker_form is None:
                        continue
                    kept = [o for o in occurrences if use.ticker_form.search(raw[o[0]])]
                if kept:
                    places.setdefault(use.entity, set()).update(kept)
        mentioned = {entity: min(spot[0] for spot in spots) for entity, spots in places.items()}
        counts = {entity: _distinct_mentions(spots) for entity, spots in places.items()}
        return mentioned, counts

    def _candidates(self, ev: Evidence) -> list[int]:
        found = ev.hits[ANYWHERE]
        picked: set[int] = set(self._always)
        by_phrase = self._by_phrase
        for phrase_id in found:
            indexes = by_phrase.get(phrase_id)
            if indexes:
                picked.update(indexes)
        rules = self.rules
        return [
            i for i in sorted(picked) if all(not clause.isdisjoint(found) for clause in rules[i].clauses)
        ]

    def _verdict(
        self,
        ev: Evidence,
        fired: list[Rule],
        source: Source,
        relevance_by_ticker: dict[str, int],
        mentioned_tickers: list[str],
    ) -> Assessment:
        top_relevance = max(relevance_by_ticker.values(), default=0)
        if not fired:
            return Assessment(
                event_types=(),
                score=unmatched_score(top_relevance, source.weight),
                severity=None,
                alert=False,
                rules=(),
                matched=(),
                relevance=relevance_by_ticker,
            )
        headline = ev.hits[HEADLINE]
        # Strongest first: severity, then whether the rule's own phrases are in the headline.
        ordered = sorted(
            fired,
            key=lambda r: (-SEVERITY_RANK[r.severity], r.positive_phrases.isdisjoint(headline), r.order),
        )
        scores = {r.id: rule_score(r.severity, top_relevance, source.weight) for r in ordered}
        alerting = [r for r in ordered if scores[r.id] >= r.min_score]
        impacts: dict[str, Direction] = {}
        for rule in ordered:
            for ticker, direction in rule.impact_on(mentioned_tickers).items():
                current = impacts.get(ticker)
                if current is None or (current == "neutral" and direction != "neutral"):
                    impacts[ticker] = direction
        event_types = tuple(dict.fromkeys(t for r in ordered for t in r.event_types))
        matched = tuple(dict.fromkeys(self._explain(ev, ordered)))
        channels = tuple(dict.fromkeys(r.channel for r in alerting if r.channel))
        return Assessment(
            event_types=event_types,
            score=max(scores.values()),
            severity=ordered[0].severity,
            alert=bool(alerting),
            rules=tuple(r.id for r in ordered),
            matched=matched,
            impacts=impacts,
            relevance=relevance_by_ticker,
            channels=channels,
            throttle_seconds=alerting[0].throttle if alerting else DEFAULT_THROTTLE_SECONDS,
        )

    def _explain(self, ev: Evidence, rules: list[Rule]) -> list[str]:
        phrases = _PhraseNames(self.matcher, ev)
        out: list[str] = []
        for rule in rules:
            rule.condition.explain(ev, out, phrases)  # type: ignore[arg-type]
        return out

    def describe(self) -> str:
        """One line for `rules check`: what was loaded."""
        tickers = len(self.catalogue.tickers)
        return (
            f"{len(self.rules)} rules in {self.alert_files} files, {len(self.catalogue.groups)} watchlist groups "
            f"({tickers} tickers), {len(self.matcher)} phrases"
        )


def score_entry(ruleset: Ruleset, entry: Entry, source: Source) -> Assessment:
    """The verdict on a feed entry: its headline and its text."""
    return ruleset.assess(entry.title, entry.summary, source)


class _PhraseNames:
    """phrase id -> the words as the article wrote them (lower-cased), for `matched`."""

    def __init__(self, matcher: PhraseMatcher, ev: Evidence):
        self.matcher = matcher
        self.ev = ev

    def __getitem__(self, phrase_id: int) -> str:
        phrase = self.matcher.phrases[phrase_id]
        if phrase.capitals:
            return phrase.text
        for text in self.ev.texts:
            for key in sorted(phrase.keys, key=len, reverse=True):
                if key in text:
                    return key.strip()
        return phrase.text


def _distinct_mentions(spots: set[tuple[int, int, int]]) -> int:
    """Occurrences of one entity, counting overlapping names once ("MP Materials (MP)" is one)."""
    count = 0
    last_segment, last_end = -1, -1
    for segment, start, end in sorted(spots):
        if segment != last_segment or start > last_end:
            count += 1
        last_segment, last_end = segment, max(end, last_end) if segment == last_segment else end
    return count


def _confirm(cache: dict, pattern, text: str) -> bool:
    """Whether a phrase with capitals (US, MP) is in the text in capitals; once per segment."""
    found = cache.get(pattern)
    if found is None:
        found = cache[pattern] = pattern.search(text) is not None
    return found
