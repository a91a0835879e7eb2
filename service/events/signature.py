"""What event a report tells, as story grouping compares it: its event signature.

Outlets that write one event up in their own words share few word pairs (under 5% for three
write-ups of the 2025 Busan truce), so reports are also compared as events. The signature comes
from the rules' verdict:

- the event frames the rules read: who (actor) does what to which lever (instrument), which way
  (polarity), on what (object). "China suspends its gallium export ban" and "MOFCOM pauses curbs
  on gallium" agree (MOFCOM acts for China); "China adds five rare earths to its control list"
  and "China bans rare-earth extraction technology" do not;
- the primary event type, with the countries, agencies and elements the report names and the
  watchlist companies it names (and which way the rules expect them to move);
- the report's distinctive words (`distinctive_words`: what is left of the text once common
  English and every word a rule or watchlist uses are taken out: "five", "Busan", "Farley").

Countries, agencies and the topic's own words ("rare earths") are in nearly every report on a
topic, so two reports are one event only when they also share something specific: an element, a
company, a frame's specific object, a distinctive word. Two signatures are the same event
(`same_event`) or tell events that cannot be one (`conflicts`): a rise and a fall, an easing and
a tightening, a story about MP Materials and one about Lynas. Time is the caller's business: one
event is told over a span (see `stories`). Every signature also yields index keys: reports that
may be the same event share one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from service.domain.scoring import RESTRICTIONS, Assessment, Frame
from service.events.sketch import index_key, words

#: Share of the smaller report's named entities that the other report must name too.
SHARED_ENTITIES = 0.5
#: Relevance at which a company is what a report is about, not a passing mention (DOMAIN.md).
PROMINENT = 75
#: The governments that act in most reports on the topic (as frame actors are written): that
#: one of them acts says nothing about which event a report tells; that Malaysia or Zimbabwe
#: does, does.
PRINCIPAL_ACTORS = frozenset({"china", "united states"})
#: Entity kinds specific enough to tell two reports on one topic apart: an element, a company, a
#: named programme ("Project Vault", "RESourceEU").
SPECIFIC_KINDS = ("element", "ticker", "programme")
SUBJECT_KINDS = ("element", "ticker")
#: At most this many distinctive words are kept per report (the headline's first).
MAX_WORDS = 40
#: The first this many distinctive words of a report (no number, none shorter than
#: MIN_KEY_WORD) are indexed: enough to find a retelling, few enough to keep lookups small.
INDEXED_WORDS = 8
MIN_KEY_WORD = 4
#: Common English, reporting verbs and days: words that every report may use.
COMMON_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor
    not now of off on once only or other our ours out over own same she should so some such than that
    the their theirs them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours said says say saying
    told according reported report reports reporting reuters bloomberg statement statements news week
    weeks today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday new year
    years day days month months time people per cent percent amid since via including includes one
    announced announces announce stated within made make may might even also still set sets related
    relevant certain effective date dated publication published implementation implementing principle
    signed sign signs following follows part parts move moves step steps latest first last
    january february march april june july august september october november december jan feb mar
    apr jun jul aug sep sept oct nov dec""".split()
)
#: What a shared item is worth as evidence that two reports tell one event: an element, a company
#: or a frame's specific object counts double a distinctive word.
NAMED_WEIGHT, WORD_WEIGHT = 2, 1
#: The evidence two judged reports placed alike must share (one named thing, or two words).
SAME_EVENT_EVIDENCE = 2
#: Reports no rule fired on are placed by their words alone: they must share this much evidence
#: and this share of their distinctive words and names (either pair of figures).
WORDS_ONLY: tuple[tuple[int, float], ...] = ((3, 0.15), (2, 0.3))
#: Event types one event is often told under: a truce and the cuts and easings it brings; new
#: curbs, the tariffs they answer and the shortages they cause; money, a company's deal and a pact;
#: a court's ruling and the tariffs it decides.
TYPE_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({"truce", "tariff_down", "export_control_eased", "entity_list"}),
    frozenset({"export_control_new", "tariff_up", "supply_disruption", "entity_list"}),
    frozenset({"gov_funding", "corporate", "partnership"}),
    frozenset({"legal", "tariff_down", "tariff_up"}),  # a court's ruling told as the tariffs' fate
)
#: A price move is told about whatever caused it.
ANY_TYPE = "price_move"
_YEAR = re.compile(r"^(19|20)\d\d$")
_SMALL_NUMBER = re.compile(r"^\d{1,2}$")
#: "$4,000" and "4,000" are one number, as "4000".
_DIGIT_GROUPS = re.compile(r"(?<=\d),(?=\d{3})")
#: A designation of letters and a number ("F-35", "F-35s", "H-20"): one word, "f35", as specific
#: as a name, where its number alone ("35") is too common to count.
_CODE = re.compile(r"\b([A-Za-z]{1,3})-(\d{1,4})s?\b")
#: A sum of money, however written: "$1.2bn", "A$1.2 billion" and "1.2 billion" are one word,
#: "1p2bn", as specific to its event as a name.
_AMOUNT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(\s?(?:trillion|tn|billion|bn|million|mn)|b|m)\b", re.IGNORECASE)
_AMOUNT_HINT = re.compile(r"\d\s?(?:tr|tn|b|m)", re.IGNORECASE)
_UNITS = {"trillion": "tn", "tn": "tn", "billion": "bn", "bn": "bn", "b": "bn", "million": "mn", "mn": "mn", "m": "mn"}


def _amount(match: re.Match) -> str:
    return f" {match.group(1).replace('.', 'p')}{_UNITS[match.group(2).strip().lower()]} "


def _stem(word: str) -> str:
    """A word without its plural or past ending, so "hostages" meets "hostage" and "separated"
    meets "separate" (words already free of the rules' own vocabulary)."""
    if word.isdigit() or len(word) <= 4:
        return word
    for ending, replacement in (("ies", "y"), ("ied", "y"), ("ed", ""), ("s", "")):
        if word.endswith(ending) and not word.endswith("ss") and len(word) - len(ending) >= 4:
            word = word[: -len(ending)] + replacement
            break
    # "release", "released" and "releases" all end as "releas".
    return word[:-1] if word.endswith("e") and len(word) > 4 else word
#: Words every object on the topic shares ("rare earths", "critical minerals", "dual-use items"):
#: two frames agreeing on these alone may still be about different things.
GENERIC_OBJECTS = frozenset(
    """rare earth earths critical mineral minerals metal metals element elements item items product
    products goods material materials raw dual use export exports import imports supply supplies
    chain chains magnet magnets permanent heavy light""".split()
)
#: Words that say nothing about what a frame's object is.
_OBJECT_STOPWORDS = frozenset(
    "a an and the of on in to for from its their his her with by at or as new more all some".split()
)
_SPLIT = re.compile(r"\s*(?:,|;|/|\band\b|\bor\b)\s*")
#: One act told with either lever: "Indonesia to ban bauxite exports" (a control, up) and
#: "Indonesia to stop bauxite exports" (a flow, down).
_RESTRICTING = {("export_control", "up"), ("supply", "down")}


@dataclass(frozen=True, slots=True)
class FrameKey:
    """The parts of a frame that tell one event from another (the verb's wording does not)."""

    #: Who acts, as canonical names ("china" for MOFCOM too); empty when the clause names none.
    actor: frozenset[str]
    instrument: str
    polarity: str
    #: The object's content words ("gallium", "germanium"); empty when the clause names none.
    objects: frozenset[str]

    @property
    def specific(self) -> frozenset[str]:
        """The object's words that are not common to the whole topic."""
        return self.objects - GENERIC_OBJECTS

    def agrees(self, other: FrameKey) -> bool:
        """Same lever, same way, the same actor (or one unsaid), objects that do not differ
        (a shared specific word, or one side saying nothing specific)."""
        if (self.instrument != other.instrument or self.polarity != other.polarity) and not (
            _RESTRICTING == {(self.instrument, self.polarity), (other.instrument, other.polarity)}
        ):
            return False
        if self.actor and other.actor and self.actor.isdisjoint(other.actor):
            return False
        mine, theirs = self.specific, other.specific
        return not mine or not theirs or not mine.isdisjoint(theirs)

    def opposes(self, other: FrameKey) -> bool:
        """The same lever moved the other way by the same actor: a tightening and an easing."""
        if self.instrument != other.instrument or self.polarity == other.polarity:
            return False
        return not self.actor or not other.actor or not self.actor.isdisjoint(other.actor)


def frame_key(frame: Frame, actors: Mapping[str, str] | None = None) -> FrameKey:
    """A frame reduced to what tells events apart: canonical actors (`actors` maps a case-folded
    name to whom it acts for: "mofcom" -> "china"), the object's content words."""
    objects: set[str] = set()
    for part in _SPLIT.split(frame.object or ""):
        objects.update(w for w in words(part) if w not in _OBJECT_STOPWORDS and not w.isdigit())
    names: set[str] = set()
    for part in _SPLIT.split(frame.actor or ""):
        name = " ".join(words(part))
        if name:
            names.update(_canonical_actors(name, actors or {}))
    return FrameKey(actor=frozenset(names), instrument=frame.instrument, polarity=frame.polarity, objects=frozenset(objects))


def _canonical_actors(name: str, actors: Mapping[str, str]) -> set[str]:
    """Whom an actor name stands for: itself mapped, or every known name within it mapped ("china
    mofcom" is China), or the name itself when it holds none."""
    if name in actors:
        return {actors[name]}
    padded = f" {name} "
    found = {canonical for known, canonical in actors.items() if f" {known} " in padded}
    return found or {name}


@dataclass(frozen=True, slots=True)
class EventSignature:
    """What story grouping compares: the event's kind, its frames, and the names in the report."""

    #: The verdict's event types, the primary (strongest rule's) first; empty if no rule fired.
    event_types: tuple[str, ...]
    #: Everything named, as "kind:name": "ticker:MP", "country:China", "element:gallium".
    entities: frozenset[str] = frozenset()
    #: The tickers the report is about (a company in its headline); a subset of `entities`.
    prominent: frozenset[str] = frozenset()
    #: How the rules expect each prominent ticker to move, as "ticker:MP:bullish".
    moves: frozenset[str] = frozenset()
    frames: tuple[FrameKey, ...] = ()
    #: The report's distinctive words (see `distinctive_words`).
    words: frozenset[str] = frozenset()
    #: The first few of them, in the text's order (the headline's first): the ones indexed.
    keywords: tuple[str, ...] = ()

    @property
    def judged(self) -> bool:
        """Whether a rule fired: a signature without event types cannot be placed as an event."""
        return bool(self.event_types)

    @property
    def elements(self) -> frozenset[str]:
        """The elements and minerals it names, written as frame objects are."""
        return _named_as_frames(self.entities, "element:")

    @property
    def companies(self) -> frozenset[str]:
        """The watchlist companies it names, written as frame actors name them ("mp", "lyc ax")."""
        return _named_as_frames(self.entities, "ticker:")

    @property
    def named(self) -> frozenset[str]:
        """The specific things it names: elements, companies, frames' specific objects, and who
        acts when it is neither of the two powers whose acts fill the topic's news ("Malaysia
        plans to ban exports of unprocessed rare earths")."""
        return self._named(SPECIFIC_KINDS)

    @property
    def subjects(self) -> frozenset[str]:
        """What it is about, of the things it names: all but the programmes, which a notice
        names and the press's account of the same act may not ("Project Vault")."""
        return self._named(SUBJECT_KINDS)

    def _named(self, kinds: tuple[str, ...]) -> frozenset[str]:
        found = {e.split(":", 1)[1].casefold() for e in self.entities if e.split(":", 1)[0] in kinds}
        for frame in self.frames:
            found.update(frame.specific)
            found.update(frame.actor - PRINCIPAL_ACTORS)
        return frozenset(found)

    def index_keys(self) -> list[int]:
        """Keys that any signature this one could be `same_event` with shares with it."""
        keys: set[int] = set()
        kinds = set(self.event_types)
        kinds.update(f"family{n}" for n, family in enumerate(TYPE_FAMILIES) if family & kinds)
        for kind in kinds:
            for entity in self.entities:
                keys.add(index_key(b"event", f"{kind}|{entity}".encode()))
            for frame in self.frames:
                keys.add(index_key(b"frame", f"{kind}|{frame.instrument}|{frame.polarity}".encode()))
        # A price move is found by what moved; reports no rule judged by their words (a number
        # alone finds too many).
        for thing in self.named:
            keys.add(index_key(b"named", thing.encode()))
        for word in self.keywords:
            keys.add(index_key(b"word", word.encode()))
        return sorted(keys)

    def to_json(self) -> dict[str, Any]:
        """For the article's `signature` column."""
        return {
            "types": list(self.event_types),
            "entities": sorted(self.entities),
            "prominent": sorted(self.prominent),
            "moves": sorted(self.moves),
            "frames": [[sorted(f.actor), f.instrument, f.polarity, sorted(f.objects)] for f in self.frames],
            "words": sorted(self.words),
            "keywords": list(self.keywords),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> EventSignature:
        """Read what `to_json` wrote; None (an article stored before stories) is no signature."""
        if not data:
            return NO_SIGNATURE
        return cls(
            event_types=tuple(map(sys.intern, data.get("types") or ())),
            entities=_names(data.get("entities")),
            prominent=_names(data.get("prominent")),
            moves=_names(data.get("moves")),
            frames=tuple(
                FrameKey(_names(actor), sys.intern(str(instrument)), sys.intern(str(polarity)), _names(objects))
                for actor, instrument, polarity, objects in data.get("frames") or ()
            ),
            words=_names(data.get("words")),
            keywords=tuple(map(sys.intern, data.get("keywords") or ())),
        )


_NO_NAMES: frozenset[str] = frozenset()


@lru_cache(maxsize=16384)
def _named_as_frames(entities: frozenset[str], kind: str) -> frozenset[str]:
    """The names of one kind among `entities` ("element:", "ticker:"), in a frame's words. Story
    placement compares each report with many candidates, and the same name sets recur."""
    return frozenset(" ".join(words(e[len(kind):])) for e in entities if e.startswith(kind))


def _names(values: Iterable[str] | None) -> frozenset[str]:
    """Names read back from the database, each string shared: story placement keeps thousands
    of stored signatures in memory (service.store.stories), and the same names recur in most."""
    return frozenset(map(sys.intern, values)) if values else _NO_NAMES


NO_SIGNATURE = EventSignature(event_types=())


def distinctive_words(text: str, vocabulary: Iterable[str] = frozenset()) -> tuple[str, ...]:
    """The words of `text` that may tell its event from another on the same topic: not common
    English, not in `vocabulary` (the words the rules and watchlists use: "export", "controls",
    "China", "rare", "earth"), without plural and past endings, at most MAX_WORDS, in the
    text's order."""
    known = vocabulary if isinstance(vocabulary, (set, frozenset)) else frozenset(vocabulary)
    found: dict[str, None] = {}
    text = _CODE.sub(r"\1\2", _DIGIT_GROUPS.sub("", text))
    if _AMOUNT_HINT.search(text):
        text = _AMOUNT.sub(_amount, text)
    for word in words(text):
        if len(word) < 2 and not word.isdigit():
            continue
        if word in COMMON_WORDS or word in known or _YEAR.match(word):
            continue
        found.setdefault(_stem(word))
        if len(found) >= MAX_WORDS:
            break
    return tuple(found)


def signature_of(
    assessment: Assessment,
    named: Iterable[str] = (),
    distinctive: Iterable[str] = (),
    actors: Mapping[str, str] | None = None,
) -> EventSignature:
    """The signature of a verdict; `named` are the countries, agencies and elements it matched
    (`Ruleset.named_in(assessment.matched)`), `distinctive` the text's distinctive words, `actors`
    the country each agency acts for (see `frame_key`)."""
    relevance = assessment.relevance
    prominent = frozenset(f"ticker:{t}" for t, r in relevance.items() if r >= PROMINENT)
    moves = frozenset(
        f"ticker:{t}:{assessment.impacts[t]}"
        for t, r in relevance.items()
        if r >= PROMINENT and assessment.impacts.get(t) in ("bullish", "bearish")
    )
    return EventSignature(
        event_types=tuple(assessment.event_types),
        entities=frozenset(f"ticker:{t}" for t in relevance) | frozenset(named),
        prominent=prominent,
        moves=moves,
        frames=tuple(dict.fromkeys(frame_key(f, actors) for f in assessment.frames if f.instrument)),
        words=frozenset(distinctive),
        keywords=tuple(w for w in distinctive if len(w) >= MIN_KEY_WORD and not w.isdigit())[:INDEXED_WORDS],
    )


def evidence(a: EventSignature, b: EventSignature) -> int:
    """How much specific the two share: NAMED_WEIGHT per named thing, WORD_WEIGHT per word (a word
    that is also a named thing counts once, as named). A number of one or two digits (a day, a
    percentage, "Clause 2") is in too many reports to count."""
    named = a.named & b.named
    shared_words = (a.words & b.words) - named
    return NAMED_WEIGHT * len(named) + WORD_WEIGHT * sum(1 for w in shared_words if not _SMALL_NUMBER.match(w))


def compatible_types(a: EventSignature, b: EventSignature) -> bool:
    """Whether two judged reports may tell one event as far as their types go: the primary type of
    one among the other's, both primaries in one family, or either a price move."""
    first, second = a.event_types[0], b.event_types[0]
    if first in b.event_types or second in a.event_types or ANY_TYPE in (first, second):
        return True
    return any(first in family and second in family for family in TYPE_FAMILIES)


def same_event(a: EventSignature, b: EventSignature, *, needed: int = SAME_EVENT_EVIDENCE) -> bool:
    """Whether two judged reports tell one event (whenever they were published).

    Their types must be compatible (`compatible_types`); they must be placed alike: a pair of
    agreeing frames (`FrameKey.agrees`), or at least SHARED_ENTITIES of the smaller report's
    names named by the other; and they must share `needed` specific evidence (`evidence`),
    unless one of them says nothing specific at all. Never when they conflict.
    """
    if not a.judged or not b.judged or conflicts(a, b) or not compatible_types(a, b):
        return False
    framed = any(fa.agrees(fb) for fa in a.frames for fb in b.frames)
    shared = len(a.entities & b.entities)
    named = shared > 0 and shared >= SHARED_ENTITIES * min(len(a.entities), len(b.entities))
    if not (framed or named):
        return False
    if not (a.named or a.words) or not (b.named or b.words):
        return True
    return evidence(a, b) >= needed


def same_story_in_words(a: EventSignature, b: EventSignature) -> bool:
    """For reports a rule did not judge: whether their distinctive words and names say they tell
    one story (a ceasefire, a gold record, a film tariff, each told by two outlets)."""
    if conflicts(a, b):
        return False
    mine, theirs = a.words | a.named, b.words | b.named
    if not mine or not theirs:
        return False
    score, share = evidence(a, b), len(mine & theirs) / len(mine | theirs)
    return any(score >= least and share >= part for least, part in WORDS_ONLY)


#: Event types that are each other's undoing: one report cannot tell both as its main event.
OPPOSITE_TYPES: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("export_control_new", "export_control_eased"),
        ("tariff_up", "tariff_down"),
        ("tariff_up", "truce"),
        ("export_control_new", "truce"),
    )
)


def conflicts(a: EventSignature, b: EventSignature) -> bool:
    """Whether two reports surely tell different events, however alike their words: a tightening
    and an easing, a rise and a fall of one company, two different companies in the headline,
    frames that move one lever opposite ways, one restriction moved by two governments or on
    two elements.

    Only judged reports can conflict: a report no rule fired on is placed by its words alone.
    Types the rules merely told differently (a truce, and the easing it brought) do not conflict.
    """
    if not a.judged or not b.judged:
        return False
    first, second = a.event_types[0], b.event_types[0]
    if frozenset((first, second)) in OPPOSITE_TYPES and first not in b.event_types and second not in a.event_types:
        return True
    if a.prominent and b.prominent and a.prominent.isdisjoint(b.prominent):
        return True
    if _opposite_moves(a.moves, b.moves):
        return True
    if a.frames and b.frames:
        agree = any(fa.agrees(fb) for fa in a.frames for fb in b.frames)
        if agree:
            return False
        if any(fa.opposes(fb) for fa in a.frames for fb in b.frames):
            return True
        lead, other = a.frames[0], b.frames[0]
        return lead.instrument == other.instrument and lead.polarity == other.polarity and _another_act(a, b)
    return False


def _another_act(a: EventSignature, b: EventSignature) -> bool:
    """Given leading frames that move the same lever the same way: whether the lever is a
    restriction moved by two different actors, or on two different elements the reports name.
    "China adds gallium to its export licence list", "Vietnam adds dysprosium to its export
    licence list" and "China adds antimony to its export licence list" are three events, however
    alike their words.

    Only a restriction: a deal, a loan or a stake has two parties, and reports name either as
    the one who acts ("DoD awards Lynas $120 million", "Lynas wins a DoD contract"). Only the
    leading frames: background ("... in response to the Pentagon blacklisting Chinese firms")
    often names the other side's earlier move. A company the report names is the target of a
    restriction, not its author ("MP Materials was put on China's list" names MP first)."""
    first, second = a.frames[0], b.frames[0]
    if first.instrument not in RESTRICTIONS:
        return False
    if not first.actor or not second.actor:
        return False
    if first.actor.isdisjoint(second.actor):
        return first.actor.isdisjoint(a.companies) and second.actor.isdisjoint(b.companies)
    mine, theirs = first.specific & a.elements, second.specific & b.elements
    return bool(mine) and bool(theirs) and mine.isdisjoint(theirs)


def _opposite_moves(a: frozenset[str], b: frozenset[str]) -> bool:
    ours = dict(move.rsplit(":", 1) for move in a)
    return any(ours.get(ticker, direction) != direction for ticker, direction in (m.rsplit(":", 1) for m in b))
