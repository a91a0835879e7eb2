"""A compiled ruleset, and the verdict it gives on one article.

Per article: normalise the headline and the text, run the one automaton over each, pick the
rules whose required phrases were all found and test them; then, if a rule fired or a watchlist
company is named, work out relevance, score, merge the impacts and explain. The first sentence,
word positions and per-scope entity mentions are worked out only when something asks; articles
where no rule can fire and no company is named share one verdict. No I/O: the pipeline, `scan`
and the benchmark all call `Ruleset.assess`.

Nothing in a verdict follows the order a set iterates in: `relevance` lists the most relevant
ticker first, then watchlist order; `matched` shows each phrase in the form the article used
first, and a `near` pair in the order the ruleset registered its phrases. The same article gives the
same verdict in every process, whatever its hash seed."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Final, NamedTuple

from service.domain.feeds import Entry
from service.domain.scoring import RESTRICTIONS, Assessment, Direction, Source
from service.rules.conditions import ANYWHERE, HEADLINE, LEAD, AllOf, Condition, Evidence, Phrases
from service.rules.entities import AliasUse, EntityCatalogue, relevance
from service.rules.frames import CHINA, DESK_OBJECTS, FAMILIES, NO_READING, FrameFact, FrameReader, Reading, directions, event_types
from service.rules.official import OfficialDocument, read_official
from service.rules.phrases import PhraseMatcher, distinct, lower, normalise, rule_picker
from service.rules.price import PriceRule
from service.rules.score import SEVERITY_RANK, rule_score, unmatched_score
from service.rules.schema import DEFAULT_THROTTLE_SECONDS

#: The entity kinds `Ruleset.named_in` reads back from a verdict's `matched` phrases.
NAMED_KINDS: Final = ("country", "agency", "element")
#: How `explain` writes a `near` match: "truce ~ china".
_NEAR_PAIR: Final = " ~ "
#: China's title for new controls, "Announcement No. 10 of 2025 on Export Control Measures for
#: Tungsten ... Items": the document enacts them, though its title has no verb.
_CONTROLS_TITLE: Final = re.compile(r"\bon (?:implementing |the implementation of )?export controls?(?: measures)? "
                                    r"(?:on|for|of|over)\b", re.IGNORECASE)
#: Any verb that would say otherwise ("on Adjusting ...", "on Suspending ...").
_TITLE_VERB: Final = re.compile(r"\b(?:adjust|modif|optimi[sz]|suspend|lift|remov|cancel|terminat|stop|halt|resum|delay|"
                                r"postpon|exempt|relax|eas|repeal|abolish|revis|amend)", re.IGNORECASE)
#: One side's concession and the other's that together make a truce.
_CONCESSIONS: Final = {"export_control_eased": "tariff_down", "tariff_down": "export_control_eased"}
#: A headline that leads with the whole market's move ("Stocks tumble as ...", "Wall Street slides").
_MARKET_MOVE: Final = re.compile(
    r"\W*(?:(?:us|u\.s\.|global|world|asian|european|chinese|china|hong kong|japanese|australian) )?"
    r"(?:stocks|shares|markets|equities|wall street|indexes|indices|futures)\b",
    re.IGNORECASE,
)
#: Events of policy, whose share moves a headline may lead with as the story.
_POLICY: Final = frozenset({"export_control_new", "export_control_eased", "truce", "tariff_up", "tariff_down",
                            "partnership", "entity_list", "legal"})


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
    #: The rule tests frames: its event types stand in only when no frame decides.
    reads_frames: bool = False

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

    @property
    def directional_impact(self) -> dict[str, Direction]:
        return {t: d for t, d in self.fixed_impact.items() if d != "neutral"}

    @property
    def neutral_impact(self) -> dict[str, Direction]:
        return {t: d for t, d in self.fixed_impact.items() if d == "neutral"}


@dataclass
class Ruleset:
    """Every rule and watchlist of a rules folder, compiled into one matcher."""

    matcher: PhraseMatcher
    catalogue: EntityCatalogue
    rules: list[Rule]
    files: list[str] = field(default_factory=list)
    alert_files: int = 0
    #: Articles matching this (opinion, explainers, recaps) fire no rule at all.
    ignore: Condition | None = None
    #: `kind: price` rules: judged on the tickers' bars after each price cycle, never on articles.
    price_rules: list[PriceRule] = field(default_factory=list)
    #: Reads event frames; None leaves event types and directions to the rules' phrases alone.
    frames: FrameReader | None = None
    #: watchlists.yaml's `default_impact`: event type -> {group, ticker or "mentioned": direction}.
    default_impact: Mapping[str, Mapping[str, Direction]] = field(default_factory=dict)
    #: Per instrument, the phrase ids of the words that can start a frame of it: a sentence is
    #: read only when it has one of the instruments a fired rule's event type can come from.
    frame_words: Mapping[str, frozenset[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_phrase: dict[int, list[int]] = {}
        self._always: list[int] = []
        #: Per rule, the smallest of its required clauses other than the one it is indexed under
        #: (the likeliest to be missing: nine picked rules in ten fail on it), and the rest of
        #: them. A rule with no other clause gets its anchor, which holds whenever it is picked.
        self._second_clause: list[frozenset[int]] = []
        self._remaining_clauses: list[tuple[frozenset[int], ...]] = []
        for index, rule in enumerate(self.rules):
            if not rule.clauses:
                self._always.append(index)
                self._second_clause.append(frozenset())  # never picked through an anchor
                self._remaining_clauses.append(())
                continue
            # Index each rule under its rarest-looking required clause (the smallest set).
            anchor = min(rule.clauses, key=len)
            for phrase_id in anchor:
                by_phrase.setdefault(phrase_id, []).append(index)
            others = list(rule.clauses)
            others.remove(anchor)
            others.sort(key=len)
            self._second_clause.append(others[0] if others else anchor)
            self._remaining_clauses.append(tuple(others[1:]))
        self._by_phrase: dict[int, tuple[int, ...]] = {p: tuple(indexes) for p, indexes in by_phrase.items()}
        #: `_pick` in C where the engine is compiled (the same rules, from bitmaps of the phrases).
        self._picker = rule_picker(
            [tuple(tuple(sorted(clause)) for clause in rule.clauses) for rule in self.rules], len(self.matcher.phrases)
        )
        self._anchors = frozenset(self._by_phrase)
        self._by_phrase_get = self._by_phrase.__getitem__
        self._ticker_entities = {
            i: e.name for i, e in enumerate(self.catalogue.entities) if e.kind == "ticker"
        }
        matcher = self.matcher
        self._find = matcher.find
        self._check_ids = matcher.check_ids
        self._checks = matcher.checks
        self._ticker_alias_phrases = frozenset(
            p for p, uses in self.catalogue.aliases.items() if any(u.ticker for u in uses)
        )
        catalogue = self.catalogue
        # Names of countries, agencies and elements that count wherever they appear: resolved
        # with set operations; the other names (tickers, ambiguous ones) case by case.
        self._plain_alias: dict[int, tuple[int, ...]] = {}
        self._careful_alias: set[int] = set()
        for phrase_id, uses in catalogue.aliases.items():
            simple = tuple(u.entity for u in uses if not (u.ticker or u.ambiguous or u.ticker_form or u.ticker_form_only))
            if simple:
                self._plain_alias[phrase_id] = simple
            if len(simple) < len(uses):
                self._careful_alias.add(phrase_id)
        self._plain_alias_phrases = frozenset(self._plain_alias)
        self._entity_kind = [e.kind for e in catalogue.entities]
        self._ticker_order = catalogue.tickers
        self._ticker_rank = {ticker: rank for rank, ticker in enumerate(catalogue.tickers)}
        self._scores: dict[tuple[str, int, float], int] = {}
        #: Per phrase naming a watchlist ticker: (entity, code only in ticker form, ambiguous, form,
        #: the phrases a mention must not be inside).
        self._ticker_uses = {
            p: tuple(
                (u.entity, u.ticker_form_only, u.ambiguous, u.ticker_form, u.false_friends) for u in uses if u.ticker
            )
            for p, uses in catalogue.aliases.items()
        }
        #: Per phrase, how `matched` shows it: the text for phrases with capitals, else its forms
        #: longest first (each with its words) to find the one the article used, and the text.
        self._phrase_names: list = [
            phrase.text
            if phrase.capitals
            else (tuple((key, key.strip()) for key in matcher.phrase_keys[index]), phrase.text,
                  os.path.commonprefix(matcher.phrase_keys[index]))
            for index, phrase in enumerate(matcher.phrases)
        ]
        self._unmatched: dict[tuple[int, float], int] = {}
        self._tests = [_residual_test(rule.condition) for rule in self.rules]
        #: Per rule (by id()), the conditions whose explain adds something, in the order the
        #: rule's own explain would visit them: an `all` only visits its items in order, and
        #: none/source/feed add nothing.
        self._explainers = {id(rule): tuple(_explainers(rule.condition)) for rule in self.rules}
        self._event_types = [tuple(dict.fromkeys(rule.event_types)) for rule in self.rules]
        #: Each rule's impact when it fires alone and names no `mentioned` tickers, in watchlist order.
        self._own_impact = [
            {t: rule.fixed_impact[t] for t in self._ticker_order if t in rule.fixed_impact} for rule in self.rules
        ]
        self._directional = [r.directional_impact for r in self.rules]
        self._neutral = [r.neutral_impact for r in self.rules]
        self._index = {id(r): i for i, r in enumerate(self.rules)}
        #: (fired rules, their headline tests, best relevance, source weight) -> what the verdict
        #: takes from those rules alone; see `_verdict`.
        self._plans: dict[tuple, _Plan] = {}
        #: event types -> the phrase ids that can start a frame of their instruments.
        self._family_words: dict[tuple[str, ...], frozenset[int]] = {}

    def assess(self, title: str, summary: str, source: Source, *, link: str | None = None) -> Assessment:
        """The rules' verdict on one article (`link`, when known, tells official documents apart)."""
        head = normalise(title)
        headline_hits = self._scan(head, title)
        # A first sentence ends with punctuation and whitespace, so normalising the text in one
        # piece gives the first sentence's normalised words followed by the rest's; and a
        # capitals check matches the same whether the two are joined by the original whitespace
        # or by one space, so the text as written serves for both.
        body = normalise(summary)
        found = self._scan(body, summary)
        found |= headline_hits
        candidates = self._pick(found)
        names = None if self._ticker_alias_phrases.isdisjoint(found) else found & self._ticker_alias_phrases
        if not candidates and not names:
            # No rule can fire and no watchlist company is named: the same verdict every time.
            return _NOTHING
        ev = Evidence(self, title, summary, (head, body), headline_hits, found, source.kind, source.name)
        ev.link = link
        if candidates:
            tests = self._tests
            fired = [i for i in candidates if tests[i](ev)]
            if fired and self.ignore is not None and self.ignore.test(ev):
                fired = []
        else:
            fired = candidates
        relevance_by_ticker = self._ticker_relevance(ev, names) if names else {}
        if (link and "sec.gov" in link) or "8-K" in title:
            filer = self._filer(ev)
            if filer is not None:
                # A company's 8-K is about that company, though its entry may not name it.
                relevance_by_ticker = {**relevance_by_ticker, filer: 100}
        if fired:
            return self._verdict(ev, fired, source, relevance_by_ticker)
        if not relevance_by_ticker:
            return _NOTHING
        key = (max(relevance_by_ticker.values()), source.weight)
        score = self._unmatched.get(key)
        if score is None:
            score = self._unmatched[key] = unmatched_score(*key)
        return Assessment(
            event_types=(), score=score, severity=None, alert=False, rules=(), matched=(), relevance=relevance_by_ticker
        )

    def near_misses(self, title: str, summary: str, source: Source, *, link: str | None = None) -> list[str]:
        """The rules that nearly fired on an article, each with what stopped it: the one clause
        it found no phrase of, or the first of its conditions that does not hold (and where)."""
        ev = self._evidence(title, summary, source)
        ev.link = link
        found = ev.all_hits
        phrases = _PhraseNames(self._phrase_names, ev, self.matcher)
        ignored = self.ignore is not None and self.ignore.test(ev)
        out: list[str] = []
        for index, rule in enumerate(self.rules):
            missing = [clause for clause in rule.clauses if clause.isdisjoint(found)]
            # Nearly fired: every clause but one found (a rule of one clause found nothing).
            if len(missing) > 1 or (missing and len(rule.clauses) < 2):
                continue
            if missing:
                names = ", ".join(sorted({repr(phrases.name(i)) for i in missing[0]})[:8])
                out.append(f"{rule.id} ({rule.where}): found none of {names}")
                continue
            failed = _first_failing(rule.condition, ev)
            if failed is not None:
                out.append(f"{rule.id}: {failed.label()}: {failed.why_not(ev, phrases)}")
            elif ignored:
                out.append(f"{rule.id}: held, but the article matches ignore.yaml ({self.ignore.where})")  # type: ignore[union-attr]
        return out

    def evidence(self, title: str, summary: str, source: Source) -> tuple[Evidence, dict[str, int], list[str]]:
        """Everything the rules test: phrases found per scope, and ticker relevance."""
        evidence = self._evidence(title, summary, source)
        relevance_by_ticker = self._ticker_relevance(evidence, evidence.all_hits & self._ticker_alias_phrases)
        return evidence, relevance_by_ticker, _by_relevance(relevance_by_ticker)

    def _evidence(self, title: str, summary: str, source: Source) -> Evidence:
        """The phrases in the headline and in the whole text (as `assess` finds them)."""
        head = normalise(title)
        headline_hits = self._scan(head, title)
        body = normalise(summary)
        found = headline_hits | self._scan(body, summary)
        return Evidence(self, title, summary, (head, body), headline_hits, found, source.kind, source.name)

    def _scan(self, text: str, as_written: str) -> set[int]:
        """Phrase ids found in a normalised text; capitals are checked against `as_written`."""
        if len(text) < 3:
            return set()
        found = self._find(text)
        if not self._check_ids.isdisjoint(found):
            checked = found & self._check_ids
            found -= checked
            checks = self._checks
            for check_id in checked:
                for phrase_id, pattern, needle in checks[check_id]:
                    if needle in as_written and pattern.search(as_written):
                        found.add(phrase_id)
        return found

    def _lead_hits(self, ev: Evidence) -> set[int]:
        """Phrase ids in the first sentence (computed when a condition first asks)."""
        return self._scan(ev.lead_text, ev.raw[1])

    def _locate(self, ev: Evidence, phrase_id: int) -> list[tuple[int, int, int]]:
        """Every occurrence of a phrase (any of its forms) as (segment, start, end)."""
        spots = []
        head, body = ev.texts
        in_headline = phrase_id in ev.headline_hits
        for key in self.matcher.phrase_keys[phrase_id]:
            width = len(key) - 1
            start = head.find(key) if in_headline else -1
            while start >= 0:
                spots.append((0, start, start + width))
                start = head.find(key, start + 1)
            start = body.find(key)
            if start >= 0:
                lead_end = ev.lead_end  # only now is the first sentence needed
                while start >= 0:
                    end = start + width
                    spots.append((1 if end <= lead_end else 2, start, end))
                    start = body.find(key, start + 1)
        return spots

    def _ticker_relevance(self, ev: Evidence, names: set[int]) -> dict[str, int]:
        """Ticker -> relevance, from every counted mention of the company (`names` are the
        phrases found that name a watchlist ticker)."""
        if not names:
            return {}
        in_context = not self.catalogue.context.isdisjoint(ev.all_hits)
        headline = ev.headline_hits
        # entity -> its mentions, or _IN_HEADLINE once a name that needs no ticker-form check is
        # in the headline: the relevance is then 100 whatever else the article says, so its
        # positions (and the first sentence) need not be worked out.
        places: dict[int, set[tuple[int, int, int]]] = {}
        ticker_uses = self._ticker_uses
        found = ev.all_hits
        # "ASM raises A$50m" with "Australian Strategic Materials" in the text: a name that needs
        # context has it when the company is also named plainly.
        plainly = {use[0] for phrase_id in names for use in ticker_uses[phrase_id] if not use[1] and not use[2]}
        for phrase_id in names:
            in_headline = phrase_id in headline
            spots = None
            for entity, form_only, ambiguous, ticker_form, friends in ticker_uses[phrase_id]:
                misread = bool(friends) and not friends.isdisjoint(found)
                if form_only or (ambiguous and not in_context and entity not in plainly):
                    if ticker_form is None:
                        continue
                    if spots is None:
                        spots = ev.positions(phrase_id)
                    raw = ev.raw
                    kept = [o for o in spots if ticker_form.search(raw[o[0]])]
                elif in_headline and not misread:
                    places[entity] = _IN_HEADLINE
                    continue
                else:
                    # A phrase found has at least one occurrence: the entity is named.
                    if spots is None:
                        spots = ev.positions(phrase_id)
                    kept = spots
                if misread:
                    kept = _outside(ev, kept, friends)
                if not kept:
                    continue
                place = places.get(entity)
                if place is None:
                    places[entity] = set(kept)
                elif place is not _IN_HEADLINE:
                    place.update(kept)
        tickers = self._ticker_entities
        out = {}
        for entity, mentions in places.items():
            if mentions is _IN_HEADLINE:
                out[tickers[entity]] = 100
                continue
            first = min(mentions)[0]
            # A headline mention scores 100 however many mentions follow: no need to count them.
            out[tickers[entity]] = 100 if first == 0 else relevance(first, _distinct_mentions(mentions))
        if len(out) > 1:
            # Most relevant first, then in watchlist order: the same order on every run.
            rank = self._ticker_rank
            out = dict(sorted(out.items(), key=lambda item: (-item[1], rank[item[0]])))
        return out

    def _resolve_mentions(self, ev: Evidence) -> tuple[dict[int, int], dict[str, int]]:
        """Entity id -> first scope it is named in, and the same per entity kind."""
        first: dict[int, int] = {}
        plain_alias = self._plain_alias
        for scope in (ANYWHERE, LEAD, HEADLINE):
            # Wider scopes first, so a narrower one overwrites: first[e] is the earliest.
            names = ev.found(scope) & self._plain_alias_phrases
            if names:
                first.update(dict.fromkeys(frozenset().union(*map(plain_alias.__getitem__, names)), scope))
        found = ev.all_hits
        careful = found & self._careful_alias
        if careful:
            in_context = not self.catalogue.context.isdisjoint(found)
            plainly = set(first) | _plainly_named(self.catalogue.aliases, careful)
            for phrase_id in careful:
                scope = 0 if phrase_id in ev.headline_hits else 1 if phrase_id in ev.found(LEAD) else 2
                for use in self.catalogue.aliases[phrase_id]:
                    if not (use.ticker or use.ambiguous or use.ticker_form or use.ticker_form_only):
                        continue  # resolved above
                    seen_in = scope
                    spots = _careful_mentions(ev, phrase_id, use, in_context or use.entity in plainly)
                    if spots is not None:
                        if not spots:
                            continue
                        seen_in = min(o[0] for o in spots)
                    if seen_in < first.get(use.entity, 9):
                        first[use.entity] = seen_in
        kinds: dict[str, int] = {}
        entity_kind = self._entity_kind
        for entity_id, scope in first.items():
            kind = entity_kind[entity_id]
            if scope < kinds.get(kind, 9):
                kinds[kind] = scope
        return first, kinds

    def _candidates(self, ev: Evidence) -> list[int]:
        """Indexes of the rules whose every required clause has a phrase in the article, in order."""
        return self._pick(ev.all_hits)

    def _named_anywhere(self, ev: Evidence) -> tuple[set[int], set[str]]:
        """Entities named anywhere, and their kinds: the entities `_resolve_mentions` gives a
        scope to, found without working out which scope (so without the first sentence)."""
        found = ev.all_hits
        named: set[int] = set()
        plain = found & self._plain_alias_phrases
        if plain:
            named.update(*map(self._plain_alias.__getitem__, plain))
        careful = found & self._careful_alias
        if careful:
            in_context = not self.catalogue.context.isdisjoint(found)
            plainly = named | _plainly_named(self.catalogue.aliases, careful)
            for phrase_id in careful:
                for use in self.catalogue.aliases[phrase_id]:
                    if not (use.ticker or use.ambiguous or use.ticker_form or use.ticker_form_only):
                        continue  # among the plain names above
                    spots = _careful_mentions(ev, phrase_id, use, in_context or use.entity in plainly)
                    if spots is not None and not spots:
                        continue
                    named.add(use.entity)
        entity_kind = self._entity_kind
        return named, {entity_kind[e] for e in named}

    def _pick(self, found: set[int]) -> list[int]:
        if self._picker is not None:
            return self._picker(found)
        # The rules indexed under the phrases found.
        candidates = set(chain.from_iterable(map(self._by_phrase_get, found & self._anchors)))
        if not candidates:
            return self._always[:]
        # A picked rule's anchor clause holds; it stays a candidate if none of its other
        # clauses is disjoint from the phrases found. Most fail on the first (smallest) of
        # them, so that one is tested alone; map/any keep the rest of the test in C.
        disjoint = found.isdisjoint
        second = self._second_clause
        picked = [i for i in candidates if not disjoint(second[i])]
        if picked:
            rest = self._remaining_clauses
            picked = [i for i in picked if not any(map(disjoint, rest[i]))]
        picked.extend(self._always)
        picked.sort()
        return picked

    def _verdict(
        self, ev: Evidence, fired: list[int], source: Source, relevance_by_ticker: dict[str, int]
    ) -> Assessment:
        top_relevance = max(relevance_by_ticker.values()) if relevance_by_ticker else 0
        if len(fired) == 1:
            key: tuple = (fired[0], top_relevance, source.weight)
        else:
            # Rules in the same order need the same headline test as `_plan` sorts by.
            headline = ev.headline_hits
            rules = self.rules
            in_headline = tuple([rules[i].positive_phrases.isdisjoint(headline) for i in fired])
            key = (tuple(fired), in_headline, top_relevance, source.weight)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _MAX_PLANS:
                self._plans.clear()
            plan = self._plans[key] = self._plan(ev, fired, top_relevance, source.weight)
        impacts = dict(plan.impacts) if plan.impacts is not None else self._impacts(plan.ordered, relevance_by_ticker)
        types = plan.event_types
        matched = self._explain(ev, plan.ordered)
        frames: tuple = ()
        if self.frames is not None:
            reading = ev.reading
            # Reading is a verdict's costliest part: a sentence is read only if it has a word
            # that can start a frame of the fired rules' kind of event; the first sentence only
            # when the headline does not settle it.
            words = self._words_for(plan.all_types)
            decided = None
            read: tuple = ()
            clash = ""
            # An 8-K's headline is the form's item title ("Entry into a Material Definitive
            # Agreement"): what was agreed, and with whom, is in the first sentence.
            official = ev.official
            form_title = official is not None and official.kind == "sec_8k"
            if not form_title and not words.isdisjoint(ev.headline_hits):
                clash = reading.headline_contradiction
                read = reading.headline_facts
                if not clash:
                    # China's title for new controls (no verb) enacts them; a news headline naming
                    # a restriction and nothing done to it leaves the first sentence to say which way.
                    enacted = official is not None and official.country == CHINA and official.type == "announcement" \
                        and _CONTROLS_TITLE.search(ev.raw[0]) is not None and _TITLE_VERB.search(ev.raw[0]) is None
                    decided = self._frame_verdict(read, plan, relevance_by_ticker, settled_only=not enacted,
                                                  title=ev.raw[0])
                    if decided is not None and decided[2][0].instrument == "price" and decided[2][0].shares \
                            and not reading.contradiction:
                        # "Why is Critical Metals' stock soaring premarket?": a move the headline
                        # gives no cause for; the first sentence may ("The US is eyeing a stake").
                        cause = _cause_in_lead(decided[2][0], reading.lead_facts)
                        if cause is not None:
                            read = reading.facts
                            decided = self._frame_verdict((cause,), plan, relevance_by_ticker) or decided
            if decided is None and not clash and not words.isdisjoint(ev.found(LEAD)):
                clash = reading.contradiction
                if not clash:
                    read = reading.facts
                    decided = self._frame_verdict(read, plan, relevance_by_ticker, lead_first=form_title)
            if clash:
                matched.append(f"frame: contradictory ({clash}), so the rules' phrases decide")
            if decided is not None:
                types, frame_impacts, facts = decided
                if frame_impacts is not None:
                    impacts = frame_impacts
                matched.append(describe_frame(facts[0]))
                frames = tuple(fact.frame for fact in facts)
                moved = _share_moves(read)
                sector = _sector_moves(read, facts[0]) if facts[0].instrument != "price" else {}
                if sector:
                    # "... bloc with price floors; miners' shares fall": the way the headline says
                    # the sector's shares went is theirs, whatever the event's usual direction.
                    groups = self.catalogue.groups
                    impacts = {**impacts, **{ticker: way for group, way in sector.items()
                                             for ticker in groups.get(group, ()) if ticker in impacts}}
                if moved:
                    # "Critical Metals, USA Rare Earth climb as China delays curbs": the way the
                    # headline says a company's shares went is that company's direction.
                    impacts = {**impacts, **moved}
            if read:
                shown = frames
                frames += tuple(frame for frame in (f.frame for f in read) if frame not in shown)
        return Assessment(
            event_types=types,
            score=plan.score,
            severity=plan.ordered[0].severity,
            alert=plan.alert,
            rules=plan.rules,
            matched=distinct(matched),
            impacts=impacts,
            relevance=relevance_by_ticker,
            channels=plan.channels,
            throttle_seconds=plan.throttle_seconds,
            frames=frames,
        )

    def _words_for(self, types: tuple[str, ...]) -> frozenset[int]:
        """The phrase ids that can start a frame from which one of `types` could come."""
        found = self._family_words.get(types)
        if found is None:
            kinds: set[str] = set()
            for event_type in types:
                kinds |= FAMILIES.get(event_type, frozenset())
            if "corporate" in types or "price_move" in types:
                # a company's shares moving, restrictions on one company (`_frame_verdict`)
                kinds |= {"price", "company_restriction"}
            found = self._family_words[types] = frozenset().union(
                *(self.frame_words.get(kind, frozenset()) for kind in kinds)
            )
        return found

    def _frame_verdict(
        self,
        read: tuple[FrameFact, ...],
        plan: _Plan,
        relevance_by_ticker: dict[str, int],
        *,
        settled_only: bool = False,
        lead_first: bool = False,
        title: str = "",
    ) -> tuple[tuple[str, ...], dict[str, Direction] | None, list[FrameFact]] | None:
        """Event types and directions from the frames that tell what the fired rules are about.

        A frame decides when its instrument belongs to the family of a fired rule's event type
        (a frame on tariffs can correct a tariff rule, not turn it into a price story); the
        headline's main clause first. The rules' own impacts stay when the frame agrees with
        their event type; otherwise the impact map of the frame's event type applies."""
        families: set[str] = set()
        for event_type in plan.all_types:
            families |= FAMILIES.get(event_type, frozenset())
        legal = "legal" in plan.all_types
        # A company's news rule fired and the headline says how its shares went ("MP Materials
        # shares retreat"): the move is the news.
        company_news = "corporate" in plan.all_types
        # Background in the first sentence ("... while the tariff truce runs") never decides;
        # when a court rule fired, only a court's own frame does.
        deciding = [
            f for f in read
            if (f.instrument in families or (company_news and f.instrument == "price" and f.shares and f.companies)
                # "Malaysia lifts the conditions on Lynas's licence": a restriction on one company.
                or ((company_news or "price_move" in plan.all_types) and f.instrument == "export_control"
                    and event_types(f) == ("corporate",)))
            and (f.headline or f.main) and event_types(f)
            and (not legal or f.actor_kind == "court")
        ]
        if not deciding:
            return None
        if settled_only and not any(f.acted or f.instrument not in RESTRICTIONS for f in deciding):
            return None  # only a bare "Modifying Tariff Rates": the first sentence must say which way
        # A restriction named with nothing done to it ("Modifying Tariff Rates": which way?)
        # comes after any frame that says. Then the headline before the first sentence, main
        # clauses before background, a restriction merely kept in place after one acted on
        # ("suspends the October curbs but keeps April's in place"; "keeps its ban in place
        # despite the truce" is the news), and the point of "X, but Y" (Y) before X; otherwise
        # the order the headline tells it in.
        deciding.sort(key=lambda f: (not f.acted and not f.kept and f.instrument in RESTRICTIONS,
                                     f.headline if lead_first else not f.headline,
                                     f.instrument == "agreement" and f.polarity == "down", not f.main, not f.acted and f.instrument in RESTRICTIONS, not f.contrast))
        first = deciding[0]
        if first.instrument in RESTRICTIONS and CHINA not in first.countries:
            # "suspends the higher rates for partners that have not retaliated, and raises
            # China's to 125%": of one lever moved for several countries at once, the desk's
            # news is what happens to China's.
            first = next(
                (f for f in deciding[1:] if f.instrument == first.instrument and CHINA in f.countries and f.acted
                 and f.headline == first.headline and f.main == first.main),
                first,
            )
        moved = first if first.instrument == "price" and first.shares else None
        if moved is not None:
            # "MP soars as the Pentagon takes a stake": for shares, the cause is the news; but
            # moves caused by policy ("China Northern up 9%, JL Mag 12% as Beijing expands export
            # curbs", "US miners jump premarket as Beijing restricts exports") are a market story,
            # the policy their cause.
            cause = _cause_of(first, read)
            if cause is not None and (event_types(cause)[0] not in _POLICY or _one_governments_deal(cause)
                                      # "Stocks tumble as Trump vows tariffs": the whole market's move
                                      or _MARKET_MOVE.match(title) is not None):
                first = cause
        # One frame, one event: a second clause's event ("... and orders talks on price floors")
        # is more often background than a second event a desk would list.
        types = list(event_types(first))
        if types[0] in _CONCESSIONS and first.headline and any(
            f is not first and f.headline and event_types(f)[:1] == (_CONCESSIONS[types[0]],) for f in read
        ):
            # "China to defer export curbs for a year, 100% tariff off the table": each side's
            # concession in one headline is the truce.
            types = ["truce"]
        if moved is not None and first is not moved and _one_governments_deal(first) \
                and (moved.companies or moved.actor_kind == "company"):
            # "USA Rare Earth jumps after Pentagon deal talk": one government's deal that moves a
            # company's shares is its deal with that company, not a pact between governments.
            types = ["gov_funding"]
        used = [first]
        # Phrase rules written for this event type know its tickers best (a gallium rule names
        # AXTI); frame rules fire on any wording, so their impacts are only the map's.
        agreeing = [r for r in plan.ordered if not r.reads_frames and types[0] in r.event_types]
        if agreeing and not directions(first, tuple(types)):
            return tuple(types), self._impacts(agreeing, relevance_by_ticker), used
        cause = _cause_of(first, read) if types[0] == "price_move" else None
        impacts = self._frame_impacts(first, tuple(types), relevance_by_ticker, cause=cause)
        return tuple(types), impacts, used

    def _frame_impacts(
        self,
        fact: FrameFact,
        types: tuple[str, ...],
        relevance_by_ticker: dict[str, int],
        *,
        cause: FrameFact | None = None,
    ) -> dict[str, Direction]:
        """The impact map's directions for the frame's event types (the first wins), under the
        frame's own (the way a price or a named company moved), in watchlist order. A price
        move's `cause` adds the directions of its own event beneath."""
        wanted: dict[str, Direction] = {}
        if cause is not None:
            cause_types = event_types(cause)
            for target, direction in self.default_impact.get(cause_types[0], {}).items():
                wanted[target] = direction
            wanted.update(directions(cause, cause_types))  # type: ignore[arg-type]
        for event_type in types:
            for target, direction in self.default_impact.get(event_type, {}).items():
                wanted.setdefault(target, direction)
        wanted.update(directions(fact, types))  # type: ignore[arg-type]
        groups = self.catalogue.groups
        resolved: dict[str, Direction] = {}
        named = [t for t in _by_relevance(relevance_by_ticker)] if relevance_by_ticker else []
        for company in fact.companies:
            if company not in named:
                named.append(company)
        for target, direction in wanted.items():
            if target == "mentioned":
                for ticker in named:
                    resolved[ticker] = direction
            elif target.startswith("mentioned:"):
                group = set(groups.get(target.split(":", 1)[1], ()))
                for ticker in named:
                    if ticker in group:
                        resolved[ticker] = direction
            elif target in groups:
                for ticker in groups[target]:
                    resolved.setdefault(ticker, direction)
            else:
                resolved[target] = direction
        order = self._ticker_rank
        return {t: resolved[t] for t in sorted(resolved, key=lambda t: order.get(t, len(order)))}

    def _read(self, ev: Evidence) -> Reading:
        if self.frames is None:
            return NO_READING
        official = ev.official
        title, lead, _rest = ev.raw
        return self.frames.read(
            title,
            "",
            lead=lead,
            default_actor=official.actor if official else None,
            generic=official.instrument if official else None,
        )

    def _filer(self, ev: Evidence) -> str | None:
        """The watchlist ticker of an 8-K's filer: by its SEC CIK (watchlists.yaml `cik`), or by
        a per-company EDGAR feed named with the ticker ("sec-edgar-mp-8k")."""
        doc = ev.official
        if not doc or doc.kind != "sec_8k":
            return None
        if doc.filer_cik and doc.filer_cik in self.catalogue.ciks:
            return self.catalogue.ciks[doc.filer_cik]
        parts = set(re.split(r"[^a-z0-9]+", lower(ev.feed)))
        for ticker in self.catalogue.tickers:
            if lower(ticker.split(".", 1)[0]) in parts:
                return ticker
        return None

    def _official_document(self, ev: Evidence) -> OfficialDocument | None:
        return read_official(ev._title, ev._summary, ev.link, ev.feed, ev.source)

    def _plan(self, ev: Evidence, fired: list[int], top_relevance: int, weight: float) -> _Plan:
        """What a verdict takes from the rules that fired alone (given the best relevance and the
        source's weight): the same for every article these rules fire on together."""
        rules = self.rules
        if len(fired) == 1:
            ordered = [rules[fired[0]]]
        else:
            headline = ev.headline_hits
            # Strongest first: severity, then whether the rule's own phrases are in the headline.
            ordered = sorted(
                (rules[i] for i in fired),
                key=lambda r: (-SEVERITY_RANK[r.severity], r.positive_phrases.isdisjoint(headline), r.order),
            )
        scores = self._scores
        score = 0
        alerting = []
        for rule in ordered:
            key = (rule.severity, top_relevance, weight)
            rule_points = scores.get(key)
            if rule_points is None:
                rule_points = scores[key] = rule_score(*key)
            if rule_points > score:
                score = rule_points
            if rule_points >= rule.min_score:
                alerting.append(rule)
        # Impacts that do not depend on which tickers the article names are kept too: those of
        # rules without `mentioned`, and any rule's when the article names no watchlist company.
        fixed = not top_relevance or all(rule.mentioned_impact is None for rule in ordered)
        if len(ordered) == 1:
            event_types = self._event_types[fired[0]]
            impacts = self._own_impact[fired[0]] if fixed else None
        else:
            # Frame rules fire because a frame holds: that frame gives the event type. If no
            # frame decides (a court rule fired), the phrase rules' types are the better guess.
            typed = [r for r in ordered if not r.reads_frames] or ordered
            event_types = tuple(dict.fromkeys(t for r in typed for t in r.event_types))
            impacts = self._impacts(ordered, {}) if fixed else None
        all_types = tuple(dict.fromkeys(t for r in ordered for t in r.event_types))
        return _Plan(
            ordered=tuple(ordered),
            event_types=event_types,
            score=score,
            alert=bool(alerting),
            rules=tuple([r.id for r in ordered]),
            channels=tuple(dict.fromkeys([r.channel for r in alerting if r.channel])),
            throttle_seconds=alerting[0].throttle if alerting else DEFAULT_THROTTLE_SECONDS,
            impacts=impacts,
            all_types=all_types,
        )

    def _impacts(self, ordered: Sequence[Rule], relevance_by_ticker: dict[str, int]) -> dict[str, Direction]:
        """Per ticker, the direction of the strongest rule that gives one; neutral only where no
        rule gives a direction. Applied weakest first, so stronger rules overwrite."""
        neutral: dict[str, Direction] = {}
        directional: dict[str, Direction] = {}
        mentioned = None
        for rule in reversed(ordered):
            if rule.mentioned_impact is not None and relevance_by_ticker:
                if mentioned is None:
                    mentioned = _by_relevance(relevance_by_ticker)
                # Inside one rule the most specific target wins: ticker, then mentioned, then group.
                resolved = rule.impact_on(mentioned)
                neutral.update((t, d) for t, d in resolved.items() if d == "neutral")
                directional.update((t, d) for t, d in resolved.items() if d != "neutral")
            else:
                index = self._index[id(rule)]
                neutral.update(self._neutral[index])
                directional.update(self._directional[index])
        if not neutral and not directional:
            return {}
        # In watchlist order, so every verdict lists tickers the same way.
        return {
            t: directional.get(t) or neutral[t] for t in self._ticker_order if t in directional or t in neutral
        }

    def _explain(self, ev: Evidence, rules: Sequence[Rule]) -> list[str]:
        phrases = _PhraseNames(self._phrase_names, ev)
        out: list[str] = []
        explainers = self._explainers
        for rule in rules:
            for condition in explainers[id(rule)]:
                condition.explain(ev, out, phrases)
        return out

    def named_in(self, matched: Iterable[str]) -> frozenset[str]:
        """The countries, agencies and elements among a verdict's `matched` phrases, as "kind:name"
        (an agency that acts for a country is named as that country).

        Reads what was stored with an article ("beijing", "u s", "truce ~ china") back into the
        entities of the current watchlists, e.g. for telling whether two reports tell one event.
        """
        written, spoken = self._named_phrases
        found: set[str] = set()
        for item in matched:
            for part in item.split(_NEAR_PAIR):
                part = part.strip()
                found.update(written.get(part, ()))
                found.update(spoken.get(normalise(part).strip(), ()))
        return frozenset(found)

    @cached_property
    def _named_phrases(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        # `matched` holds a phrase with capitals as written ("US") and any other phrase in the
        # normalised form the article used ("u s" for "U.S."): look each kind up its own way.
        written: dict[str, set[str]] = {}
        spoken: dict[str, set[str]] = {}
        for index, entity in enumerate(self.catalogue.entities):
            if entity.kind not in NAMED_KINDS:
                continue
            # "MOFCOM said" and "China said" name one actor: an agency counts as its country.
            label = f"country:{entity.category}" if entity.kind == "agency" and entity.category else f"{entity.kind}:{entity.name}"
            for phrase_id in self.catalogue.phrases_of[index]:
                phrase = self.matcher.phrases[phrase_id]
                if phrase.capitals:
                    written.setdefault(phrase.text, set()).add(label)
                else:
                    for key in phrase.keys:
                        spoken.setdefault(key.strip(), set()).add(label)
        return written, spoken

    @property
    def watched_tickers(self) -> list[str]:
        """Every watchlist ticker, in watchlist order: what the price cycle and the stream follow."""
        return self.catalogue.tickers

    def describe(self) -> str:
        """One line for `rules check`: what was loaded."""
        tickers = len(self.catalogue.tickers)
        prices = f" and {len(self.price_rules)} price rules" if self.price_rules else ""
        return (
            f"{len(self.rules)} news rules{prices} in {self.alert_files} files, {len(self.catalogue.groups)} watchlist groups "
            f"({tickers} tickers), {len(self.matcher)} phrases"
        )


#: How many verdict plans a ruleset keeps before it starts over.
_MAX_PLANS: Final = 4096


class _Plan(NamedTuple):
    """The part of a verdict the fired rules decide alone (see `Ruleset._plan`)."""

    ordered: tuple[Rule, ...]  # strongest first
    event_types: tuple[str, ...]
    score: int
    alert: bool
    rules: tuple[str, ...]
    channels: tuple[str, ...]
    throttle_seconds: int
    #: Copied into each verdict; None when they depend on the tickers the article names.
    impacts: dict[str, Direction] | None
    #: Every fired rule's event types, frame rules' too: the kinds of event a frame may decide.
    all_types: tuple[str, ...] = ()


#: Marks a company named in the headline (relevance 100) in Ruleset._ticker_relevance.
_IN_HEADLINE: Final[set[tuple[int, int, int]]] = set()

#: The verdict on an article no rule fired on and that names no watchlist company: its score,
#: unmatched_score(0, any weight), is 0. Shared; Assessment is frozen and nothing edits its dicts.
_NOTHING: Final = Assessment(event_types=(), score=0, severity=None, alert=False, rules=(), matched=())


def _share_moves(read: tuple[FrameFact, ...]) -> dict[str, Direction]:
    """The companies whose share move the headline states, and which way."""
    moved: dict[str, Direction] = {}
    named: list[str] = []  # the companies earlier clauses of the headline name
    for fact in read:
        if _stated_move(fact):
            # "Syrah and Tesla push back the cure date again; shares slip": bare "shares" are
            # those of the companies the headline has named.
            for company in fact.companies or (named if not fact.labels & DESK_OBJECTS else ()):
                moved.setdefault(company, "bullish" if fact.polarity == "up" else "bearish")
        if fact.headline:
            named.extend(fact.companies)
    return moved


def _stated_move(fact: FrameFact) -> bool:
    """Whether a frame is a share move the headline states as done ("shares slip", not "could jump")."""
    return fact.headline and fact.instrument == "price" and fact.shares and fact.acted and not fact.hedged


def _sector_moves(read: tuple[FrameFact, ...], event: FrameFact) -> dict[str, Direction]:
    """The producer groups whose shares the headline says moved as a sector after telling the
    event ("... bloc with price floors; miners' shares fall"), and which way: China's own when
    it names China. A move told first ("Stocks tumble as Trump vows tariffs") may be the whole
    market's, with the sector named only to say how it differed."""
    after = False
    for fact in read:
        if fact is event:
            after = True
            continue
        if after and _stated_move(fact) and not fact.companies and fact.labels & DESK_OBJECTS:
            way: Direction = "bullish" if fact.polarity == "up" else "bearish"
            if CHINA in fact.countries:
                return {"china_producers": way}
            return {"us_allied_producers": way, "etf": way}
    return {}


def _one_governments_deal(fact: FrameFact) -> bool:
    """A "deal" only one government is party to: its deal with a company, not a pact."""
    return event_types(fact) == ("partnership",) and len(fact.countries) < 2


def _cause_in_lead(fact: FrameFact, lead: tuple[FrameFact, ...]) -> FrameFact | None:
    """The first sentence's frame that explains a share move the headline leaves unexplained: a
    policy or money event, or the moving company's own news."""
    movers = set(fact.companies) | ({fact.actor} if fact.actor_kind == "company" and fact.actor else set())
    for other in lead:
        if other.mood or other.instrument == "price":
            continue
        types = event_types(other)
        if not types or types[0] in ("price_move", "legal"):
            continue
        if types[0] == "corporate" and movers.isdisjoint(set(other.companies) | {other.actor}):
            continue  # another company's news
        return other
    return None


def _cause_of(fact: FrameFact, read: tuple[FrameFact, ...]) -> FrameFact | None:
    """The headline frame that explains a price move ("... as Beijing shuts exports"): a
    background clause of the headline, a policy or money event, or the company's own news
    ("Lynas shares fall as discounted raising weighs"), not another company's move."""
    movers = set(fact.companies) | ({fact.actor} if fact.actor_kind == "company" and fact.actor else set())
    before = True
    for other in read:
        if other is fact:
            before = False
            continue
        if not other.headline or other.mood:
            continue  # "truce hopes grow" is no event yet; "Commerce plans a stake" is news
        types = event_types(other)
        if not types or types[0] in ("price_move", "legal"):
            continue
        if other.main and not (before and fact.headline and (not fact.companies or types[0] in _POLICY)):
            # A background clause explains the move ("... as Beijing shuts exports"); so does a
            # main clause before a move that names no one ("Malaysia clears Lynas to keep
            # processing, shares jump"), or a policy told before the companies it moved ("China
            # widens rare earth controls; Northern Rare Earth jumps 9%").
            continue
        if types[0] == "corporate":
            # Named there, or the subject's own money or licence ("NioCorp shares fall after
            # offerings", "Perpetua soars on a record of decision"); not a flow or a mood carried
            # over from the subject ("as tungsten supply anxiety builds").
            own = set(other.companies) | (
                {other.actor}
                if other.instrument in ("funding", "permit") or (other.instrument == "supply" and other.polarity == "down")
                else set()
            )
            if not (movers or fact.actor_kind == "company") and other.main:
                movers = own  # "..., shares jump": the shares of the company just named
            if movers.isdisjoint(own):
                continue
        return other
    return None


def _residual_test(condition: Condition) -> Callable[[Evidence], bool]:
    """What a candidate rule still has to pass. `_pick` has found a phrase of each of the rule's
    clauses, which is the whole test of an `all` item that is a list of phrases looked for
    anywhere; the other items (`none`, `near`, `mentions`, scoped ones...) are tested here."""
    if isinstance(condition, Phrases) and condition.scope == ANYWHERE:
        return _passed
    if not isinstance(condition, AllOf):
        return condition.test
    rest = [item for item in condition.items if not (isinstance(item, Phrases) and item.scope == ANYWHERE)]
    if not rest:
        return _passed
    if len(rest) == 1:
        return rest[0].test
    return AllOf(rest).test


def _passed(ev: Evidence) -> bool:
    return True


def _first_failing(condition: Condition, ev: Evidence) -> Condition | None:
    """The innermost-but-one condition that stops a rule: an `all` names its failing item."""
    if condition.test(ev):
        return None
    if isinstance(condition, AllOf):
        item = condition.failing(ev)
        return _first_failing(item, ev) if isinstance(item, AllOf) else item
    return condition


def _explainers(condition: Condition) -> list[Condition]:
    if isinstance(condition, AllOf):
        return [leaf for item in condition.items for leaf in _explainers(item)]
    if type(condition).explain is Condition.explain:
        return []
    return [condition]


def _by_relevance(relevance_by_ticker: dict[str, int]) -> list[str]:
    """Tickers the article names, most relevant first."""
    return sorted(relevance_by_ticker, key=lambda t: (-relevance_by_ticker[t], t))


def score_entry(ruleset: Ruleset, entry: Entry, source: Source) -> Assessment:
    """The verdict on a feed entry: its headline, its text and its link."""
    return ruleset.assess(entry.title, entry.summary, source, link=entry.link)


def describe_frame(fact: FrameFact) -> str:
    """How `matched` shows the frame that decided: "frame: China suspend export_control (down) on gallium"."""
    actor = fact.actor or "someone"
    objects = f" on {', '.join(fact.objects)}" if fact.objects else ""
    return f"frame: {actor} {fact.action} {fact.instrument} ({fact.polarity}){objects}"


class _PhraseNames:
    """phrase id -> the words as the article wrote them (lower-cased), for `matched`."""

    __slots__ = ("names", "ev", "_text", "matcher")

    def __init__(self, names: list, ev: Evidence, matcher: PhraseMatcher | None = None):
        self.names = names  # Ruleset._phrase_names
        self.ev = ev
        self._text: str | None = None
        self.matcher = matcher

    def name(self, phrase_id: int) -> str:
        """The phrase as the rule or watchlist wrote it."""
        if self.matcher is not None:
            return self.matcher.phrases[phrase_id].text
        name = self.names[phrase_id]
        return name if name.__class__ is str else name[1]

    @property
    def text(self) -> str:
        # A key (" word ... ") cannot straddle the two texts (it would need two spaces in a
        # row), so it is in the headline or the text exactly when it is in the two joined.
        if self._text is None:
            self._text = "".join(self.ev.texts)
        return self._text

    def __getitem__(self, phrase_id: int) -> str:
        name = self.names[phrase_id]
        if name.__class__ is str:
            return name  # a phrase with capitals is shown as the rule wrote it
        forms = name[0]
        if len(forms) == 1:
            return forms[0][1]
        # The form the article used first (the headline before the text); of forms that start
        # at the same place, the first listed, as a regex alternation of them would pick. Never
        # the accident of which order a set of strings iterates in. A search per form costs a
        # fraction of one alternation: str.find skips ahead, a regex tries every position.
        text = self.text
        prefix: str = name[2]
        if len(prefix) >= _SHARED_PREFIX:
            # The forms share their first words ("export ban", "export bans"): one search for
            # those, and at each place found the first form listed that starts there. Every
            # form's occurrence starts at one of these places, the earliest first.
            at = text.find(prefix)
            while at != -1:
                for key, words in forms:
                    if text.startswith(key, at):
                        return words
                at = text.find(prefix, at + 1)
            return name[1]
        first = -1
        shown = ""
        for key, _ in forms:
            at = text.find(key)
            if at != -1 and (first == -1 or at < first):
                first, shown = at, key
        return shown.strip() if first != -1 else name[1]


#: How long the start its forms share must be for `_PhraseNames` to look for it instead of each
#: form: " ban" (four characters) is rare enough to check each place it is found.
_SHARED_PREFIX: Final = 4


def _plainly_named(aliases: Mapping[int, tuple[AliasUse, ...]], phrases: Iterable[int]) -> set[int]:
    """The entities among `phrases` named by a name that needs no context or ticker form
    ("Australian Strategic Materials"): their ambiguous names ("ASM") count in the same article."""
    return {
        use.entity for phrase_id in phrases for use in aliases[phrase_id]
        if not (use.ambiguous or use.ticker_form_only or use.false_friends)
    }


def _careful_mentions(
    ev: Evidence, phrase_id: int, use: AliasUse, in_context: bool
) -> list[tuple[int, int, int]] | None:
    """The occurrences of a name that count for `use`'s entity: None when every one does (no
    position needs working out), else those written as a ticker where only a ticker form counts
    ("(MP)" outside a sector article), less those inside a `not_in` phrase ("UK MP")."""
    spots = None
    if use.ticker_form_only or (use.ambiguous and not in_context):
        if use.ticker_form is None:
            return []
        raw = ev.raw
        spots = [o for o in ev.positions(phrase_id) if use.ticker_form.search(raw[o[0]])]
    if use.false_friends and not use.false_friends.isdisjoint(ev.all_hits):
        spots = _outside(ev, ev.positions(phrase_id) if spots is None else spots, use.false_friends)
    return spots


def _outside(ev: Evidence, spots: list[tuple[int, int, int]], friends: frozenset[int]) -> list[tuple[int, int, int]]:
    """The mentions among `spots` that are not inside an occurrence of one of `friends` (phrases
    in which the name means something else: "MP" in "UK MP")."""
    found = ev.all_hits
    covers = [spot for friend in friends if friend in found for spot in ev.positions(friend)]
    return [s for s in spots if not any(c[0] == s[0] and c[1] <= s[1] and s[2] <= c[2] for c in covers)]


def _distinct_mentions(spots: set[tuple[int, int, int]]) -> int:
    """Occurrences of one entity, counting overlapping names once ("MP Materials (MP)" is one)."""
    count = 0
    last_segment, last_end = -1, -1
    for segment, start, end in sorted(spots):
        if segment != last_segment or start > last_end:
            count += 1
        last_segment, last_end = segment, max(end, last_end) if segment == last_segment else end
    return count



