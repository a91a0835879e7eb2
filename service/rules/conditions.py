"""A rule's `match:` block: parsed from YAML with located problems, then tested on evidence.

A condition is a mapping whose keys must all hold:

    any:  [phrase, ...]        at least one of these
    all:  [phrase, ...]        every one of these (an item that is itself a list means "any of it")
    none: [phrase, ...]        none of these
    near: {terms: [A, B], within: 5}    A and B at most 5 words apart (A, B: a phrase or a list)
    regex: 'pattern'           a regular expression over the original text (RE2, case-insensitive)
    mentions: {country: China, element: any, ticker: MP, group: us_allied_producers, agency: BIS}
    source: [official, wire]   the feed's kind
    feed: [ustr, "sec-*"]      the feed's name (* and ? as wildcards)
    headline: <condition>      the condition, tested on the headline alone
    lead: <condition>          the condition, tested on the headline and the first sentence

Items of any/all/none are phrases, "@name" word lists from terms.yaml, lists (any of them) or
nested conditions. Phrases match whole words in any case, with their plurals and -ed/-ing forms.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
# The stdlib's regex parser, used only to inspect patterns for nesting.
from re import _parser  # type: ignore[attr-defined]
from re._constants import MAXREPEAT
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, get_args

import re2

from service.domain.feeds import SourceKind
from service.errors import Problem
from service.rules.entities import EntityCatalogue
from service.rules.frames import MINERAL_COMPANIES, Reading
from service.rules.official import OfficialDocument
from service.rules.phrases import MatcherBuilder, lower, normalise, phrase_variants, split_lead
from service.rules.schema import suggest
from service.yamlfile import Loc, YamlDocument

if TYPE_CHECKING:
    from service.rules.engine import Ruleset

#: Where a condition looks: the headline, the headline and first sentence, or everywhere.
HEADLINE: Final = 0
LEAD: Final = 1
ANYWHERE: Final = 2
CONDITION_KEYS: Final = (
    "any", "all", "none", "near", "regex", "mentions", "source", "feed", "headline", "lead", "frame", "official",
)
FRAME_KEYS: Final = ("type", "instrument", "polarity", "actor", "countries", "object", "not_object", "only_object", "in")
OFFICIAL_KEYS: Final = ("kind", "type", "agency", "country", "items", "only_items", "filer")
ACTOR_KINDS: Final = ("government", "company", "court", "armed group")
SOURCE_KINDS: Final[tuple[str, ...]] = get_args(SourceKind)
MAX_NEAR: Final = 50
MAX_REGEX_CHARS: Final = 500


#: Words between the headline and the body, so `near` never pairs a headline word with the text.
HEADLINE_GAP: Final = 1000


class PhraseNames(Protocol):
    """How `explain` and `why_not` show a phrase: `names[i]`, the words as the article wrote
    them; `names.name(i)`, the phrase as the rule or watchlist wrote it."""

    def __getitem__(self, phrase_id: int) -> str: ...

    def name(self, phrase_id: int) -> str: ...


class Evidence:
    """What one article holds, as conditions test it. Built once per article by the engine.

    The first sentence (its text, where it ends, the phrases in it) and the mentions of
    countries, agencies and elements are worked out only when something asks for them: most
    articles never need them.
    """

    __slots__ = (
        "hits", "headline_hits", "all_hits", "where", "texts", "source", "feed", "cache",
        "_engine", "_title", "_summary", "_raw", "_lead_text", "_lead_end", "_offsets",
        "_mentioned", "_kinds", "_anywhere", "_spans", "link", "_reading", "_official", "_official_known",
    )

    def __init__(
        self, engine: Ruleset, title: str, summary: str, texts: tuple[str, str], headline_hits: set[int],
        all_hits: set[int], source: str, feed: str,
    ) -> None:
        #: Phrase ids found, per scope: hits[HEADLINE] <= hits[LEAD] <= hits[ANYWHERE]; the lead
        #: entry is None until `found(LEAD)` computes it.
        self.hits: list[set[int] | None] = [headline_hits, None, all_hits]
        #: hits[HEADLINE] and hits[ANYWHERE], which are always known.
        self.headline_hits: set[int] = headline_hits
        self.all_hits: set[int] = all_hits
        #: phrase id -> [(segment, start, end)], filled in by `positions` when first asked;
        #: start and end index texts[0] for the headline (segment 0), texts[1] for the text.
        self.where: dict[int, list[tuple[int, int, int]]] = {}
        self.texts: tuple[str, str] = texts  # normalised headline and text
        self.source: str = source
        self.feed: str = feed
        #: Results of the slower conditions (regex, near), so `explain` does not redo them.
        self.cache: dict = {}
        self._engine = engine  # the Ruleset: scans the first sentence, finds phrases and entities
        self._title = title
        self._summary = summary
        self._raw: tuple[str, str, str] | None = None
        self._mentioned: dict[int, int] | None = None
        self._kinds: dict[str, int] | None = None
        self._anywhere: tuple[set[int], set[str]] | None = None
        self._spans: dict[int, list[tuple[int, int]]] = {}
        #: The article's link, when known: it tells official documents apart.
        self.link: str | None = None
        self._reading: Reading | None = None
        self._official: OfficialDocument | None = None
        self._official_known = False

    @property
    def reading(self) -> Reading:
        """The event frames of the headline and first sentence (`service.rules.frames.Reading`),
        read when first asked."""
        if self._reading is None:
            self._reading = self._engine._read(self)
        return self._reading

    @property
    def official(self) -> OfficialDocument | None:
        """What official document the article is, or None when it is none; worked out when
        first asked."""
        if not self._official_known:
            self._official = self._engine._official_document(self)
            self._official_known = True
        return self._official

    def _split(self) -> None:
        """Find the first sentence, and where it ends in the normalised text."""
        lead, rest = split_lead(self._summary)
        lead_text = normalise(lead)
        self._raw = (self._title, lead, rest)
        self._lead_text = lead_text
        # Keys end with a space: one ending at or before the lead's last space lies in the lead.
        self._lead_end = len(lead_text) - 1
        body_offset = max(self.texts[0].count(" ") - 1, 0) + HEADLINE_GAP
        # The text starts with the first sentence's words, if it has any ("- - - - - - ." has
        # none, and the rest's words then start right at the body offset).
        lead_words = lead_text.count(" ") - 1 if len(lead_text) > 2 else 0
        self._offsets = (0, body_offset, body_offset + lead_words)

    @property
    def raw(self) -> tuple[str, str, str]:
        """Headline, first sentence and the rest, as the feed wrote them."""
        if self._raw is None:
            self._split()
        return self._raw  # type: ignore[return-value]

    @property
    def lead_text(self) -> str:
        """The first sentence, normalised."""
        if self._raw is None:
            self._split()
        return self._lead_text

    @property
    def lead_end(self) -> int:
        """texts[1][:lead_end + 1] is the first sentence."""
        if self._raw is None:
            self._split()
        return self._lead_end

    @property
    def offsets(self) -> tuple[int, int, int]:
        """Word offset of the headline, the first sentence and the rest."""
        if self._raw is None:
            self._split()
        return self._offsets

    def found(self, scope: int) -> set[int]:
        """Phrase ids found within `scope`."""
        hits = self.hits[scope]
        if hits is None:
            hits = self.hits[scope] = self.headline_hits | self._engine._lead_hits(self)
        return hits

    def positions(self, phrase_id: int) -> list[tuple[int, int, int]]:
        """(segment, start, end) of each occurrence of a phrase."""
        spots = self.where.get(phrase_id)
        if spots is None:
            spots = self.where[phrase_id] = self._engine._locate(self, phrase_id)
        return spots

    @property
    def mentioned(self) -> dict[int, int]:
        """Entity id -> the first scope it is named in."""
        if self._mentioned is None:
            self._mentioned, self._kinds = self._engine._resolve_mentions(self)
        return self._mentioned

    @property
    def kinds(self) -> dict[str, int]:
        """Entity kind -> the first scope any entity of that kind is named in."""
        if self._kinds is None:
            self._mentioned, self._kinds = self._engine._resolve_mentions(self)
        return self._kinds

    @property
    def anywhere(self) -> tuple[set[int], set[str]]:
        """Entities named anywhere in the article, and their kinds (no first sentence needed)."""
        if self._anywhere is None:
            if self._mentioned is not None:
                self._anywhere = set(self._mentioned), set(self._kinds)  # type: ignore[arg-type]
            else:
                self._anywhere = self._engine._named_anywhere(self)
        return self._anywhere

    def text_for(self, scope: int) -> str:
        raw = self.raw
        if scope == HEADLINE:
            return raw[0]
        if scope == LEAD:
            return f"{raw[0]}\n{raw[1]}"
        return f"{raw[0]}\n{raw[1]} {raw[2]}"

    def word_spans(self, phrase_id: int, words: int) -> list[tuple[int, int]]:
        """(first word, last word) of each occurrence, counted across the whole article."""
        spans = self._spans.get(phrase_id)
        if spans is None:
            spans = []
            body_offset = self.offsets[1]
            head, body = self.texts
            for segment, start, _end in self.positions(phrase_id):
                if segment == HEADLINE:
                    first = head.count(" ", 0, start)
                else:
                    first = body_offset + body.count(" ", 0, start)
                spans.append((first, first + words - 1))
            self._spans[phrase_id] = spans
        return spans


class Condition:
    """A compiled condition. `clauses` are phrase-id sets of which at least one must be found
    for the condition to hold: the engine skips a rule at once when one of them is missing."""

    clauses: tuple[frozenset[int], ...] = ()
    #: Where the condition is written ("rules/alerts/trade.yaml:12:9"), for `reewatch eval`.
    where: str = ""
    #: What it is, as the rule file names it ("any", "near", "headline"...).
    key: str = ""

    def test(self, ev: Evidence) -> bool:
        raise NotImplementedError

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        """Append the phrases that made this condition hold."""

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        """Why the condition does not hold on this article, for a person reading `reewatch eval`."""
        return "does not hold"

    def label(self) -> str:
        """`near` at rules/alerts/x.yaml:12:9."""
        name = f"`{self.key}`" if self.key else "a condition"
        return f"{name} at {self.where}" if self.where else name


@dataclass(eq=False)
class Phrases(Condition):
    ids: frozenset[int]
    scope: int

    def __post_init__(self) -> None:
        self.clauses = (self.ids,)

    def test(self, ev: Evidence) -> bool:
        hits = ev.hits[self.scope]
        return not self.ids.isdisjoint(hits if hits is not None else ev.found(self.scope))

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        out.extend(map(phrases.__getitem__, sorted(self.ids & ev.found(self.scope))))

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        return f"none of {_listed(self.ids, phrases)} {_SCOPE_NAMES[self.scope]}"


@dataclass(eq=False)
class AnyOf(Condition):
    items: list[Condition]

    def __post_init__(self) -> None:
        if self.items and all(item.clauses for item in self.items):
            self.clauses = (frozenset().union(*(min(i.clauses, key=len) for i in self.items)),)

    def test(self, ev: Evidence) -> bool:
        for item in self.items:  # a loop, not any(generator): this runs for every candidate rule
            if item.test(ev):
                return True
        return False

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        for item in self.items:
            if item.test(ev):
                item.explain(ev, out, phrases)

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        return "; ".join(item.why_not(ev, phrases) for item in self.items)


@dataclass(eq=False)
class AllOf(Condition):
    items: list[Condition]

    def __post_init__(self) -> None:
        self.clauses = tuple(c for item in self.items for c in item.clauses)

    def test(self, ev: Evidence) -> bool:
        for item in self.items:
            if not item.test(ev):
                return False
        return True

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        for item in self.items:
            item.explain(ev, out, phrases)

    def failing(self, ev: Evidence) -> Condition | None:
        """The first item that does not hold, or None."""
        for item in self.items:
            if not item.test(ev):
                return item
        return None

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        item = self.failing(ev)
        return "holds" if item is None else f"{item.label()}: {item.why_not(ev, phrases)}"


@dataclass(eq=False)
class NoneOf(Condition):
    items: list[Condition]

    def __post_init__(self) -> None:
        # Nearly always a list of phrases: then one set test per scope instead of one per item.
        self._phrases: tuple[tuple[int, frozenset[int]], ...] | None = None
        if self.items and all(type(item) is Phrases for item in self.items):
            by_scope: dict[int, frozenset[int]] = {}
            for item in self.items:
                by_scope[item.scope] = by_scope.get(item.scope, frozenset()) | item.ids  # type: ignore[attr-defined]
            self._phrases = tuple(by_scope.items())

    def test(self, ev: Evidence) -> bool:
        if self._phrases is not None:
            hits = ev.hits
            for scope, ids in self._phrases:
                found = hits[scope]
                if not ids.isdisjoint(found if found is not None else ev.found(scope)):
                    return False
            return True
        for item in self.items:
            if item.test(ev):
                return False
        return True

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        found: list[str] = []
        for item in self.items:
            if item.test(ev):
                item.explain(ev, found, phrases)
                if not found:
                    found.append(item.label())
        return "found " + ", ".join(repr(f) for f in dict.fromkeys(found))


@dataclass(eq=False)
class Near(Condition):
    left: frozenset[int]
    right: frozenset[int]
    within: int
    scope: int
    words: dict[int, int]  # phrase id -> words in it

    def __post_init__(self) -> None:
        self.clauses = (self.left, self.right)

    def test(self, ev: Evidence) -> bool:
        return self._pair(ev) is not None

    def _pair(self, ev: Evidence) -> tuple[int, int] | None:
        # Worked out once per article: `explain` asks again for the rules that fired.
        cache = ev.cache
        if self in cache:
            return cache[self]
        pair = cache[self] = self._find_pair(ev)
        return pair

    def _find_pair(self, ev: Evidence) -> tuple[int, int] | None:
        found = ev.found(self.scope)
        lefts = self.left & found
        rights = self.right & found
        if not lefts or not rights:
            return None
        limit = self._limit(ev)
        # In phrase-id order (the order the ruleset registered them), so the pair `explain` shows is
        # the same on every run, whatever order the sets iterate in.
        right_spans = [(r, span) for r in sorted(rights) for span in ev.word_spans(r, self.words[r]) if span[0] < limit]
        for left in sorted(lefts):
            for a_first, a_last in ev.word_spans(left, self.words[left]):
                if a_first >= limit:
                    continue
                for right, (b_first, b_last) in right_spans:
                    gap = b_first - a_last - 1 if b_first > a_last else a_first - b_last - 1
                    if gap <= self.within:
                        return left, right
        return None

    def _limit(self, ev: Evidence) -> int:
        # A headline- or lead-scoped `near` ignores occurrences past the end of its scope.
        if self.scope == HEADLINE:
            return ev.offsets[1]
        if self.scope == LEAD:
            return ev.offsets[2]
        return 1 << 30

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        pair = self._pair(ev)
        if pair:
            out.append(f"{phrases[pair[0]]} ~ {phrases[pair[1]]}")

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        found = ev.found(self.scope)
        for side in (self.left, self.right):
            if side.isdisjoint(found):
                return f"none of {_listed(side, phrases)} {_SCOPE_NAMES[self.scope]}"
        return (f"{_listed(self.left & found, phrases)} and {_listed(self.right & found, phrases)} are found, "
                f"but not within {self.within} words")


@dataclass(eq=False)
class Regex(Condition):
    pattern: Any  # a compiled RE2 pattern
    scope: int

    def test(self, ev: Evidence) -> bool:
        return self._search(ev) is not None

    def _search(self, ev: Evidence):
        cache = ev.cache
        if self not in cache:
            cache[self] = self.pattern.search(ev.text_for(self.scope))
        return cache[self]

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        found = self._search(ev)
        if found is not None:
            out.append(found.group(0)[:80])

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        return f"no match {_SCOPE_NAMES[self.scope]}"


@dataclass(eq=False)
class Mentions(Condition):
    entities: frozenset[int] | None  # None: any entity of `kind`
    kind: str
    scope: int
    alias_phrases: frozenset[int]

    def __post_init__(self) -> None:
        self.clauses = (self.alias_phrases,) if self.alias_phrases else ()

    def test(self, ev: Evidence) -> bool:
        if self.scope == ANYWHERE:
            # Named anywhere at all: no need to find the first scope of every entity.
            named, kinds = ev.anywhere
            return self.kind in kinds if self.entities is None else not self.entities.isdisjoint(named)
        if self.entities is None:
            return ev.kinds.get(self.kind, 9) <= self.scope
        mentioned = ev.mentioned
        return any(mentioned.get(e, 9) <= self.scope for e in self.entities)

    def explain(self, ev: Evidence, out: list[str], phrases: PhraseNames) -> None:
        out.extend(map(phrases.__getitem__, sorted(self.alias_phrases & ev.found(self.scope))))

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        what = f"no {self.kind}" if self.entities is None else f"none of the {self.kind} names"
        return f"{what} named {_SCOPE_NAMES[self.scope]}"


@dataclass(eq=False)
class FromSource(Condition):
    kinds: frozenset[str]

    def test(self, ev: Evidence) -> bool:
        return ev.source in self.kinds

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        return f"the source is {ev.source}, not {' or '.join(sorted(self.kinds))}"


@dataclass(eq=False)
class FromFeed(Condition):
    pattern: re.Pattern

    def test(self, ev: Evidence) -> bool:
        return self.pattern.match(ev.feed) is not None

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        return f"the feed is {ev.feed!r}"


@dataclass(eq=False)
class FrameTest(Condition):
    """`frame:` - the article's headline or first sentence holds a frame like this."""

    types: frozenset[str] | None
    instruments: frozenset[str] | None
    polarity: str | None
    actors: frozenset[str] | None  # country or agency names, or actor kinds
    objects: frozenset[str] | None  # labels (element categories and names, object groups, ...)
    not_objects: frozenset[str] | None  # a frame naming only these does not count
    scope: int | None  # HEADLINE, LEAD (the first sentence only) or None (either)
    countries: frozenset[str] | None  # every one named in the clause (actor or target)
    only_objects: frozenset[str] | None  # the frame names objects, all of them among these
    instrument_words: frozenset[int] = frozenset()
    object_words: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        self.clauses = tuple(c for c in (self.instrument_words, self.object_words) if c)

    def test(self, ev: Evidence) -> bool:
        # A bare noun phrase ("export controls") counts in a headline, where it is the news;
        # in the first sentence something must be done to it. The first sentence is read only
        # when the headline has no such frame.
        reading = ev.reading
        if reading.headline_contradiction:
            return False
        for fact in reading.headline_facts:
            if self.holds(fact):
                return True
        if reading.contradiction:
            return False
        return any(self.holds(fact) for fact in reading.lead_facts if fact.acted)

    def holds(self, fact) -> bool:
        from service.rules.frames import event_types

        if not (fact.headline or fact.main):
            return False  # background in the first sentence ("... while the truce runs")
        if self.scope == HEADLINE and not fact.headline or self.scope == LEAD and fact.headline:
            return False
        if self.countries is not None and not self.countries <= fact.countries:
            return False
        if self.only_objects is not None and not (fact.labels and fact.labels <= self.only_objects):
            return False
        if self.instruments is not None and fact.instrument not in self.instruments:
            return False
        if self.polarity is not None and fact.polarity != self.polarity:
            return False
        if self.actors is not None and not (
            fact.actor_kind in self.actors
            or fact.actor_country in self.actors
            or not self.actors.isdisjoint(fact.actor.split(", "))
        ):
            return False
        if self.objects is not None and self.objects.isdisjoint(fact.labels):
            return False
        if self.not_objects is not None and fact.labels and fact.labels <= self.not_objects:
            return False
        if self.types is not None and self.types.isdisjoint(event_types(fact)):
            return False
        return True

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        reading = ev.reading
        if reading.contradiction:
            return f"the frames contradict each other ({reading.contradiction})"
        if not reading.facts:
            return "no frame was read from the headline or first sentence"
        from service.rules.engine import describe_frame

        return "no frame like it; read: " + "; ".join(describe_frame(f)[len("frame: "):] for f in reading.facts)


@dataclass(eq=False)
class OfficialTest(Condition):
    """`official:` - the article is an official document of this kind."""

    kinds: frozenset[str] | None
    types: frozenset[str] | None
    agencies: frozenset[str] | None
    countries: frozenset[str] | None
    items: frozenset[str] | None  # any of these items was filed
    only_items: frozenset[str] | None  # items are known, and every one is among these
    filers: frozenset[str] | None = None  # the 8-K's filer is one of these watchlist tickers

    def test(self, ev: Evidence) -> bool:
        doc = ev.official
        if not doc:
            return False
        if self.kinds is not None and doc.kind not in self.kinds:
            return False
        if self.types is not None and doc.type not in self.types:
            return False
        if self.agencies is not None and doc.agency not in self.agencies:
            return False
        if self.countries is not None and doc.country not in self.countries:
            return False
        if self.items is not None and self.items.isdisjoint(doc.items):
            return False
        if self.only_items is not None and not (doc.items and set(doc.items) <= self.only_items):
            return False
        if self.filers is not None and ev._engine._filer(ev) not in self.filers:
            return False
        return True

    def why_not(self, ev: Evidence, phrases: PhraseNames) -> str:
        doc = ev.official
        if not doc:
            return "not an official document (by its link, feed kind or title)"
        items = f", items {', '.join(doc.items)}" if doc.items else ""
        return f"it is a {doc.kind} {doc.type or 'document'}{items} from {doc.agency or doc.country or 'an unnamed issuer'}"


@dataclass
class ConditionParser:
    """Turns one rule's `match:` value into a Condition, collecting every problem with its place."""

    doc: YamlDocument
    builder: MatcherBuilder
    catalogue: EntityCatalogue | None
    #: None when terms.yaml failed to load: "@name" is then not checked (one root cause, one error).
    word_lists: dict[str, frozenset[int]] | None
    problems: list[Problem]
    rule_id: str | None = None
    words: dict[int, int] = field(default_factory=dict)
    #: The watchlists file, for the names `frame:` conditions may use (None when it failed to load).
    watchlists: Any = None

    def parse(self, value: Any, loc: Loc) -> Condition | None:
        before = len(self.problems)
        condition = self._node(value, loc, ANYWHERE)
        if condition is None or len(self.problems) > before:
            return None
        if not condition.clauses and not _can_match_alone(condition):
            self._problem(loc, "this rule matches every article: give it at least one phrase, word list, "
                          "`near`, `regex` or `mentions` condition to look for")
            return None
        return condition

    def _problem(self, loc: Loc, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message, self.rule_id))

    def _node(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        if isinstance(value, dict):
            return self._mapping(value, loc, scope)
        if isinstance(value, (list, str)):
            # A bare list or phrase means "any of these".
            return self._any(value, loc, scope)
        self._problem(loc, f"expected a condition (a mapping such as `any: [...]`), not {_kind(value)}")
        return None

    def _mapping(self, value: dict, loc: Loc, scope: int) -> Condition | None:
        if not value:
            self._problem(loc, "empty condition: use any, all, none, near, regex, mentions, source, feed, "
                          "headline or lead")
            return None
        parts: list[Condition] = []
        for key, item in value.items():
            here = loc + (key,)
            if key not in CONDITION_KEYS:
                self._problem(here, f"unknown key {key!r}{suggest(str(key), CONDITION_KEYS)}")
                continue
            part = self._key(key, item, here, scope)
            if part is not None:
                parts.append(part)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AllOf(parts)

    def _locate(self, condition: Condition | None, loc: Loc, key: str) -> Condition | None:
        if condition is not None and not condition.where:
            line, column = self.doc.where(loc)
            condition.where = f"{self.doc.path}:{line}:{column}" if line else str(self.doc.path)
            condition.key = key
        return condition

    def _key(self, key: str, item: Any, loc: Loc, scope: int) -> Condition | None:
        return self._locate(self._handle(key, item, loc, scope), loc, key)

    def _handle(self, key: str, item: Any, loc: Loc, scope: int) -> Condition | None:
        handlers: dict[str, Callable[[Any, Loc, int], Condition | None]] = {
            "any": self._any,
            "all": self._all,
            "none": self._none,
            "near": self._near,
            "regex": self._regex,
            "mentions": self._mentions,
            "source": self._source,
            "feed": self._feed,
            "frame": self._frame,
            "official": self._official,
            "headline": lambda v, l, s: self._node(v, l, HEADLINE),
            "lead": lambda v, l, s: self._node(v, l, min(s, LEAD)),
        }
        return handlers[key](item, loc, scope)

    def _items(self, value: Any, loc: Loc, scope: int, what: str) -> list[Condition] | None:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self._problem(loc, f"`{what}` takes a list of phrases or conditions, not {_kind(value)}")
            return None
        if not value:
            self._problem(loc, f"`{what}` is empty; list at least one phrase")
            return None
        items: list[Condition] = []
        loose: set[int] = set()
        for index, entry in enumerate(value):
            here = loc + (index,)
            if isinstance(entry, str):
                ids = self._phrase_ids(entry, here)
                if ids is not None:
                    loose |= ids
            elif isinstance(entry, list):
                group = self._any(entry, here, scope)
                if group is not None:
                    items.append(group)
            elif isinstance(entry, dict):
                node = self._mapping(entry, here, scope)
                if node is not None:
                    items.append(node)
            else:
                self._problem(here, f"expected a phrase, a list or a condition, not {_kind(entry)}")
        if loose:
            # Loose phrases of one list are one test: is any of them there?
            items.insert(0, Phrases(frozenset(loose), scope))
        return items

    def _any(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        items = self._items(value, loc, scope, "any")
        if not items:
            return None
        return items[0] if len(items) == 1 else AnyOf(items)

    def _all(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        items = self._all_items(value, loc, scope)
        if not items:
            return None
        return items[0] if len(items) == 1 else AllOf(items)

    def _all_items(self, value: Any, loc: Loc, scope: int) -> list[Condition] | None:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self._problem(loc, f"`all` takes a list of phrases or conditions, not {_kind(value)}")
            return None
        if not value:
            self._problem(loc, "`all` is empty; list at least one phrase")
            return None
        items: list[Condition] = []
        for index, entry in enumerate(value):
            node = self._node(entry, loc + (index,), scope)
            if node is not None:
                items.append(node)
        return items

    def _none(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        items = self._items(value, loc, scope, "none")
        if not items:
            return None
        return NoneOf(items)

    def _phrase_ids(self, text: str, loc: Loc) -> frozenset[int] | None:
        text = text.strip()
        if not text:
            self._problem(loc, "empty phrase")
            return None
        if text.startswith("@"):
            name = text[1:]
            if self.word_lists is None:
                return frozenset()
            if name not in self.word_lists:
                hint = suggest(name, sorted(self.word_lists)) if self.word_lists else "; terms.yaml defines no word lists"
                self._problem(loc, f"unknown word list {text!r}{hint}")
                return None
            return self.word_lists[name]
        try:
            phrase = phrase_variants(text)
        except ValueError as exc:
            self._problem(loc, str(exc))
            return None
        phrase_id = self.builder.add(phrase)
        return frozenset({phrase_id})

    def _near(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        if not isinstance(value, dict):
            self._problem(loc, f"`near` takes a mapping like {{terms: [China, ban], within: 5}}, not {_kind(value)}")
            return None
        ok = True
        for key in value:
            if key not in ("terms", "within"):
                self._problem(loc + (key,), f"unknown key {key!r}{suggest(str(key), ('terms', 'within'))}")
                ok = False
        terms = value.get("terms")
        within = value.get("within")
        if terms is None:
            self._problem(loc, "missing required key 'terms'")
            return None
        if within is None:
            self._problem(loc, "missing required key 'within'")
            ok = False
        elif isinstance(within, bool) or not isinstance(within, int) or not 0 < within <= MAX_NEAR:
            self._problem(loc + ("within",), f"within must be a whole number of words from 1 to {MAX_NEAR}, "
                          f"not {within!r}")
            ok = False
        if not isinstance(terms, list) or len(terms) != 2:
            self._problem(loc + ("terms",), "terms must list exactly two phrases (or two lists of phrases)")
            return None
        sides: list[frozenset[int]] = []
        for index, side in enumerate(terms):
            here = loc + ("terms", index)
            entries = side if isinstance(side, list) else [side]
            if not entries or not all(isinstance(e, str) for e in entries):
                self._problem(here, "each side of `near` is a phrase or a list of phrases")
                ok = False
                continue
            ids: set[int] = set()
            for sub, entry in enumerate(entries):
                found = self._phrase_ids(entry, here + (sub,) if isinstance(side, list) else here)
                if found is None:
                    ok = False
                else:
                    ids |= found
            sides.append(frozenset(ids))
        if not ok or len(sides) != 2:
            return None
        for phrase_id in sides[0] | sides[1]:
            self.words[phrase_id] = self.builder.phrases[phrase_id].words
        assert isinstance(within, int)  # checked above: a bad `within` returned None
        return Near(sides[0], sides[1], within, scope, self.words)

    def _regex(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        patterns = value if isinstance(value, list) else [value]
        if not patterns:
            self._problem(loc, "`regex` is empty")
            return None
        items: list[Condition] = []
        for index, pattern in enumerate(patterns):
            here = loc + (index,) if isinstance(value, list) else loc
            compiled = self._compile_regex(pattern, here)
            if compiled is not None:
                items.append(Regex(compiled, scope))
        if len(items) != len(patterns):
            return None
        return items[0] if len(items) == 1 else AnyOf(items)

    def _compile_regex(self, pattern: Any, loc: Loc):
        if not isinstance(pattern, str) or not pattern:
            self._problem(loc, f"a regex must be a non-empty string, not {_kind(pattern)}")
            return None
        if len(pattern) > MAX_REGEX_CHARS:
            self._problem(loc, f"regex is longer than {MAX_REGEX_CHARS} characters; split it or use phrases")
            return None
        nested = nested_quantifier(pattern)
        if nested:
            self._problem(loc, f"regex {pattern!r} has a nested quantifier ({nested}) that can take exponential "
                          "time; rewrite it without repeating a repeated group")
            return None
        options = re2.Options()
        options.case_sensitive = False
        options.log_errors = False
        try:
            return re2.compile(pattern, options)
        except re2.error as exc:
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            self._problem(loc, f"regex {pattern!r} does not compile: {reason}")
            return None

    def _mentions(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        if self.catalogue is None:
            return None  # watchlists.yaml failed; its own problems are reported
        if isinstance(value, str):
            value = {value: "any"}
        if not isinstance(value, dict) or not value:
            self._problem(loc, "`mentions` takes a mapping such as {country: China} or {element: any}")
            return None
        parts: list[Condition] = []
        for kind, names in value.items():
            here = loc + (kind,)
            if kind not in ("ticker", "group", "element", "country", "agency"):
                self._problem(here, f"unknown entity kind {kind!r}"
                              f"{suggest(str(kind), ('ticker', 'group', 'element', 'country', 'agency'))}")
                continue
            part = self._mention(kind, names, here, scope)
            if part is not None:
                parts.append(part)
        if len(parts) != len(value):
            return None
        return parts[0] if len(parts) == 1 else AllOf(parts)

    def _mention(self, kind: str, names: Any, loc: Loc, scope: int) -> Condition | None:
        catalogue = self.catalogue
        assert catalogue is not None
        entity_kind = "ticker" if kind == "group" else kind
        if names == "any":
            if kind == "group":
                self._problem(loc, "name a watchlist group, e.g. {group: us_allied_producers}")
                return None
            return Mentions(None, entity_kind, scope, self._alias_phrases(catalogue.ids_of_kind(entity_kind)))
        listed = names if isinstance(names, list) else [names]
        if not listed or not all(isinstance(n, str) for n in listed):
            self._problem(loc, f"`{kind}` takes a name, a list of names, or any")
            return None
        ids: set[int] = set()
        ok = True
        for index, name in enumerate(listed):
            here = loc + (index,) if isinstance(names, list) else loc
            found = self._resolve(kind, name, here)
            if found is None:
                ok = False
            else:
                ids |= found
        if not ok:
            return None
        return Mentions(frozenset(ids), entity_kind, scope, self._alias_phrases(ids))

    def _resolve(self, kind: str, name: str, loc: Loc) -> set[int] | None:
        catalogue = self.catalogue
        assert catalogue is not None
        if kind == "group":
            if name not in catalogue.groups:
                self._problem(loc, f"unknown watchlist group {name!r}{suggest(name, sorted(catalogue.groups))}")
                return None
            return {catalogue.find("ticker", s) for s in catalogue.groups[name]}  # type: ignore[misc]
        if kind == "element" and name in catalogue.element_categories:
            return set(catalogue.element_categories[name])
        found = catalogue.find(kind, name)
        if found is None:
            choices = catalogue.names_of_kind(kind)
            if kind == "element":
                choices = [*catalogue.element_categories, *choices]
            self._problem(loc, f"unknown {kind} {name!r}{suggest(name, choices)}")
            return None
        return {found}

    def _alias_phrases(self, ids: Iterable[int]) -> frozenset[int]:
        catalogue = self.catalogue
        assert catalogue is not None
        return frozenset(p for i in ids for p in catalogue.phrases_of[i])

    def _source(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        kinds = value if isinstance(value, list) else [value]
        ok = bool(kinds)
        for index, kind in enumerate(kinds):
            if kind not in SOURCE_KINDS:
                here = loc + (index,) if isinstance(value, list) else loc
                self._problem(here, f"unknown source kind {kind!r}{suggest(str(kind), SOURCE_KINDS)}")
                ok = False
        if not kinds:
            self._problem(loc, "`source` is empty; list at least one kind")
        return FromSource(frozenset(kinds)) if ok else None

    def _frame(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        from service.domain.scoring import EVENT_TYPES, INSTRUMENTS, POLARITIES
        from service.rules.frames import TYPE_INSTRUMENTS, instrument_words

        if not isinstance(value, dict) or not value:
            self._problem(loc, "`frame` takes a mapping such as {instrument: export_control, object: [rare_earths]}")
            return None
        spec = self.watchlists
        if spec is None:
            return None  # watchlists.yaml failed to load; its own problems are reported
        ok = True
        for key in value:
            if key not in FRAME_KEYS:
                self._problem(loc + (key,), f"unknown key {key!r}{suggest(str(key), FRAME_KEYS)}")
                ok = False
        labels = _object_labels(spec)
        actors = set(ACTOR_KINDS) | {c.name for c in spec.countries} | {a.name for a in spec.agencies}

        def names(key: str, allowed, what: str) -> frozenset[str] | None:
            nonlocal ok
            if key not in value:
                return None
            raw = value[key]
            listed = raw if isinstance(raw, list) else [raw]
            if not listed or not all(isinstance(n, str) and n for n in listed):
                self._problem(loc + (key,), f"`{key}` takes a name or a list of names")
                ok = False
                return None
            out = set()
            for index, name in enumerate(listed):
                here = loc + (key, index) if isinstance(raw, list) else loc + (key,)
                found = allowed(name)
                if found is None:
                    choices = sorted(labels) if key.endswith("object") else sorted(
                        {"type": EVENT_TYPES, "instrument": INSTRUMENTS, "actor": actors,
                         "countries": [c.name for c in spec.countries]}.get(key, ())
                    )
                    self._problem(here, f"unknown {what} {name!r}{suggest(name, choices)}")
                    ok = False
                else:
                    out.add(found)
            return frozenset(out)

        types = names("type", lambda n: n if n in EVENT_TYPES else None, "event type")
        instruments = names("instrument", lambda n: n if n in INSTRUMENTS else None, "instrument")
        actor_names = names("actor", lambda n: n if n in actors else None, "actor")
        objects = names("object", lambda n: labels.get(lower(n)), "object")
        not_objects = names("not_object", lambda n: labels.get(lower(n)), "object")
        only_objects = names("only_object", lambda n: labels.get(lower(n)), "object")
        countries = names("countries", lambda n: n if n in {c.name for c in spec.countries} else None, "country")
        polarity = value.get("polarity")
        if polarity is not None and polarity not in POLARITIES:
            self._problem(loc + ("polarity",), f"polarity is up or down, not {polarity!r}")
            ok = False
        where = value.get("in")
        frame_scope = None
        if where is not None:
            if where not in ("headline", "lead"):
                self._problem(loc + ("in",), f"`in` is headline or lead (the first sentence), not {where!r}")
                ok = False
            elif where == "lead" and scope == HEADLINE:
                self._problem(loc + ("in",), "a frame `in: lead` (the first sentence) never holds under `headline:`")
                ok = False
            frame_scope = HEADLINE if where == "headline" else LEAD
        elif scope == HEADLINE:
            # `headline: {frame: ...}` means a frame of the headline, as `in: headline` does.
            frame_scope = HEADLINE
        if not ok:
            return None
        kinds = set(instruments or ())
        for event_type in types or ():
            kinds.update(TYPE_INSTRUMENTS.get(event_type, ()))
        if not kinds:
            kinds = set(INSTRUMENTS)
        instrument_ids = self._word_ids(instrument_words(kinds, spec.programmes))
        object_ids = self._word_ids(_object_words(spec, objects)) if objects else frozenset()
        return FrameTest(
            types, instruments, polarity, actor_names, objects, not_objects, frame_scope,
            countries, only_objects, instrument_ids, object_ids,
        )

    def _word_ids(self, words) -> frozenset[int]:
        ids = set()
        for word in words:
            try:
                ids.add(self.builder.add(phrase_variants(word)))
            except ValueError:
                continue
        return frozenset(ids)

    def _official(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        from service.rules.official import KINDS, TYPES

        if not isinstance(value, dict) or not value:
            self._problem(loc, "`official` takes a mapping such as {kind: sec_8k, items: ['1.01', '7.01']}")
            return None
        ok = True
        parts: dict[str, frozenset[str] | None] = dict.fromkeys(OFFICIAL_KEYS)
        allowed = {"kind": KINDS, "type": TYPES}
        for key, raw in value.items():
            if key not in OFFICIAL_KEYS:
                self._problem(loc + (key,), f"unknown key {key!r}{suggest(str(key), OFFICIAL_KEYS)}")
                ok = False
                continue
            listed = raw if isinstance(raw, list) else [raw]
            listed = [str(n) if isinstance(n, float) else n for n in listed]
            if not listed or not all(isinstance(n, str) and n for n in listed):
                self._problem(loc + (key,), f"`{key}` takes a name or a list of names")
                ok = False
                continue
            if key == "filer":
                tickers = self._filer_tickers(listed, loc + (key,))
                if tickers is None:
                    ok = False
                parts[key] = tickers
                continue
            for index, name in enumerate(listed):
                here = loc + (key, index) if isinstance(raw, list) else loc + (key,)
                if key in allowed and name not in allowed[key]:
                    self._problem(here, f"unknown {key} {name!r}{suggest(name, allowed[key])}")
                    ok = False
                elif key in ("items", "only_items") and not re.fullmatch(r"\d\.\d\d", name):
                    self._problem(here, f"an 8-K item is written like '1.01' (in quotes), not {name!r}")
                    ok = False
            parts[key] = frozenset(listed)
        if not ok:
            return None
        return OfficialTest(
            parts["kind"], parts["type"], parts["agency"], parts["country"], parts["items"], parts["only_items"],
            parts["filer"],
        )

    def _filer_tickers(self, names: list[str], loc: Loc) -> frozenset[str] | None:
        """Watchlist groups and tickers -> the tickers (`official: {filer: [us_allied_producers]}`)."""
        if self.catalogue is None:
            return None
        tickers: set[str] = set()
        for name in names:
            if name in self.catalogue.groups:
                tickers.update(self.catalogue.groups[name])
            elif name in self.catalogue.tickers:
                tickers.add(name)
            else:
                choices = [*self.catalogue.groups, *self.catalogue.tickers]
                self._problem(loc, f"unknown watchlist group or ticker {name!r}{suggest(name, choices)}")
                return None
        return frozenset(tickers)

    def _feed(self, value: Any, loc: Loc, scope: int) -> Condition | None:
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) and n for n in names):
            self._problem(loc, "`feed` takes a feed name or a list of them")
            return None
        pattern = re.compile("|".join(fnmatch.translate(n) for n in names))
        return FromFeed(pattern)


_SCOPE_NAMES: Final = {HEADLINE: "in the headline", LEAD: "in the headline or first sentence", ANYWHERE: "in the article"}


def _listed(ids: frozenset[int], phrases, limit: int = 6) -> str:
    """Some phrases of a set, as a person reads them: 'curb', 'ban', ... (+4 more)."""
    names = sorted({phrases.name(i) for i in ids})
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _object_labels(spec) -> dict[str, str]:
    """Every name a `frame: {object: ...}` condition may use, lower-cased -> the label frames carry."""
    labels: dict[str, str] = {"company": "company", "programme": "programme"}
    for category, elements in spec.elements.items():
        labels[lower(category)] = category
        for element in elements:
            labels[lower(element.name)] = lower(element.name)
    for name in spec.objects:
        labels[lower(name)] = name
    for group, group_spec in spec.groups.items():
        labels[lower(group)] = group
        for ticker in group_spec.tickers:
            labels[lower(ticker.symbol)] = f"company:{ticker.symbol}"
    return labels


def _object_words(spec, labels: frozenset[str]) -> list[str]:
    """The words that name things with these labels (to find candidate articles by their phrases)."""
    words: list[str] = []
    for category, elements in spec.elements.items():
        for element in elements:
            if category in labels or lower(element.name) in labels:
                words.extend((element.name, *element.aliases))
    for name, listed in spec.objects.items():
        if name in labels:
            words.extend(listed)
    for group, group_spec in spec.groups.items():
        for ticker in group_spec.tickers:
            if group in labels or f"company:{ticker.symbol}" in labels or "company" in labels:
                words.extend((ticker.name, *ticker.aliases, ticker.symbol.split(".", 1)[0]))
    if "programme" in labels:
        for programme in spec.programmes:
            words.extend((programme.name, *programme.aliases))
    # Companies off the watchlists that the frames take for what they mine ("Ucore": rare earths).
    words.extend(name for name, (_, label) in MINERAL_COMPANIES.items() if label in labels)
    return words


def _can_match_alone(condition: Condition) -> bool:
    """Conditions with no phrase to look for may still pick articles (a regex, a source)."""
    if isinstance(condition, (Regex, FromSource, FromFeed, OfficialTest)):
        return True
    if isinstance(condition, AllOf):
        return any(_can_match_alone(item) for item in condition.items)
    if isinstance(condition, AnyOf):
        return all(_can_match_alone(item) or item.clauses for item in condition.items)
    return False


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def nested_quantifier(pattern: str) -> str | None:
    """The first repeated group that itself contains a repeat ("(a+)+"), or None.

    Such patterns backtrack exponentially in engines like Python's `re`. RE2 runs them in
    linear time, but a rule that would hang elsewhere (or in a copy-pasted test) is refused.
    """
    try:
        tree = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - RE2 reports syntax errors in its own words below
        return None
    return _find_nested(tree, inside_repeat=False)


_REPEATS: Final = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _find_nested(tree, *, inside_repeat: bool) -> str | None:
    for op, arg in tree:
        name = str(op)
        if name in _REPEATS:
            low, high, sub = arg
            unbounded_or_wide = high is MAXREPEAT or high > 1
            if inside_repeat and unbounded_or_wide:
                return "a repeat inside a repeat"
            found = _find_nested(sub, inside_repeat=inside_repeat or unbounded_or_wide)
            if found:
                return found
        elif name == "SUBPATTERN":
            found = _find_nested(arg[-1], inside_repeat=inside_repeat)
            if found:
                return found
        elif name == "BRANCH":
            for branch in arg[1]:
                found = _find_nested(branch, inside_repeat=inside_repeat)
                if found:
                    return found
        elif name in ("ASSERT", "ASSERT_NOT"):
            found = _find_nested(arg[1], inside_repeat=inside_repeat)
            if found:
                return found
        elif name == "ATOMIC_GROUP":
            found = _find_nested(arg, inside_repeat=inside_repeat)
            if found:
                return found
    return None
