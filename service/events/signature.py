"""What event a report tells, as story grouping compares it: its event signature.

Outlets that write one event up in their own words share few word pairs (under 5% for three
write-ups of the 2025 Busan truce), so reports are also compared as events. The signature comes
from the rules' verdict:

- the event frames, when the rules could read them: who (actor) does what to which lever
  (instrument), which way (polarity), on what (object). "China suspends its gallium export
  ban" and "Beijing pauses curbs on gallium" are one frame; "China adds five rare earths to its
  control list" and "China bans rare-earth extraction technology" are two;
- otherwise the primary event type with the countries, agencies and elements the report names,
  and the watchlist companies it names (and which way the rules expect them to move). Countries
  and agencies are named by nearly every report on a topic ("China", "the commerce ministry"),
  so two such reports must also share something specific: an element, a company, or one of the
  report's distinctive words (`distinctive_words`: what is left of the text once the words any
  rule or watchlist uses, and common English, are taken out: "five", "holmium" is an element
  already, "extraction", "Busan", "$400 million").

Two signatures are the same event (`same_event`) or tell events that cannot be one
(`conflicts`): a rise and a fall, an easing and a tightening, a story about MP Materials and one
about Lynas. Time is the caller's business: one event is told over a span (see `stories`).
Every signature also yields index keys: reports that may be the same event share one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.domain.scoring import Assessment, Frame
from service.events.sketch import index_key, words

#: Share of the smaller report's named entities that the other report must name too.
SHARED_ENTITIES = 0.5
#: Relevance at which a company is what a report is about, not a passing mention (DOMAIN.md).
PROMINENT = 75
#: Entity kinds specific enough to tell two reports on one topic apart.
SPECIFIC_KINDS = ("element", "ticker")
#: At most this many distinctive words are kept per report (the headline's first).
MAX_WORDS = 40
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
    announced announces announce stated""".split()
)
#: Words that say nothing about what a frame's object is.
_OBJECT_STOPWORDS = frozenset(
    "a an and the of on in to for from its their his her with by at or as new more all some".split()
)
_SPLIT = re.compile(r"\s*(?:,|;|/|\band\b|\bor\b)\s*")


@dataclass(frozen=True)
class FrameKey:
    """The parts of a frame that tell one event from another (the verb's wording does not)."""

    actor: str
    instrument: str
    polarity: str
    #: The object's content words ("gallium", "germanium"); empty when the clause names none.
    objects: frozenset[str]

    def agrees(self, other: FrameKey) -> bool:
        """Same lever, same way, the same actor (or one unsaid), a shared object (or one unsaid)."""
        if self.instrument != other.instrument or self.polarity != other.polarity:
            return False
        if self.actor and other.actor and self.actor != other.actor:
            return False
        return not self.objects or not other.objects or not self.objects.isdisjoint(other.objects)

    def opposes(self, other: FrameKey) -> bool:
        """The same lever moved the other way by the same actor: a tightening and an easing."""
        if self.instrument != other.instrument or self.polarity == other.polarity:
            return False
        return not self.actor or not other.actor or self.actor == other.actor


def frame_key(frame: Frame) -> FrameKey:
    """A frame reduced to what tells events apart: case-folded actor, object content words."""
    objects = set()
    for part in _SPLIT.split(frame.object or ""):
        objects.update(w for w in words(part) if w not in _OBJECT_STOPWORDS and not w.isdigit())
    return FrameKey(
        actor=" ".join(words(frame.actor or "")),
        instrument=frame.instrument,
        polarity=frame.polarity,
        objects=frozenset(objects),
    )


@dataclass(frozen=True)
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

    @property
    def judged(self) -> bool:
        """Whether a rule fired: a signature without event types cannot be placed as an event."""
        return bool(self.event_types)

    def index_keys(self) -> list[int]:
        """Keys that any signature this one could be `same_event` with shares with it."""
        keys: set[int] = set()
        for frame in self.frames:
            keys.add(index_key(b"frame", f"{frame.instrument}|{frame.polarity}".encode()))
        for event_type in self.event_types:
            for entity in self.entities:
                keys.add(index_key(b"event", f"{event_type}|{entity}".encode()))
        return sorted(keys)

    def to_json(self) -> dict[str, Any]:
        """For the article's `signature` column."""
        return {
            "types": list(self.event_types),
            "entities": sorted(self.entities),
            "prominent": sorted(self.prominent),
            "moves": sorted(self.moves),
            "frames": [
                [f.actor, f.instrument, f.polarity, sorted(f.objects)] for f in self.frames
            ],
            "words": sorted(self.words),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> EventSignature:
        """Read what `to_json` wrote; None (an article stored before stories) is no signature."""
        if not data:
            return NO_SIGNATURE
        return cls(
            event_types=tuple(data.get("types") or ()),
            entities=frozenset(data.get("entities") or ()),
            prominent=frozenset(data.get("prominent") or ()),
            moves=frozenset(data.get("moves") or ()),
            frames=tuple(
                FrameKey(str(actor), str(instrument), str(polarity), frozenset(objects))
                for actor, instrument, polarity, objects in data.get("frames") or ()
            ),
            words=frozenset(data.get("words") or ()),
        )


NO_SIGNATURE = EventSignature(event_types=())


def distinctive_words(text: str, vocabulary: Iterable[str] = frozenset()) -> frozenset[str]:
    """The words of `text` that may tell its event from another on the same topic: not common
    English, not in `vocabulary` (the words the rules and watchlists use: "export", "controls",
    "China", "rare", "earth"), at most MAX_WORDS, the first ones first."""
    known = vocabulary if isinstance(vocabulary, (set, frozenset)) else frozenset(vocabulary)
    found: dict[str, None] = {}
    for word in words(text):
        if len(word) < 2 and not word.isdigit():
            continue
        if word in COMMON_WORDS or word in known:
            continue
        found.setdefault(word)
        if len(found) >= MAX_WORDS:
            break
    return frozenset(found)


def signature_of(
    assessment: Assessment, named: Iterable[str] = (), distinctive: Iterable[str] = ()
) -> EventSignature:
    """The signature of a verdict; `named` are the countries, agencies and elements it matched
    (`Ruleset.named_in(assessment.matched)`), `distinctive` the text's distinctive words."""
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
        frames=tuple(dict.fromkeys(frame_key(f) for f in assessment.frames if f.instrument)),
        words=frozenset(distinctive),
    )


def same_event(a: EventSignature, b: EventSignature) -> bool:
    """Whether two judged reports tell one event (whenever they were published).

    With frames on both sides, a pair of frames must agree (`FrameKey.agrees`). Otherwise the
    primary event type of one must be among the other's types (a truce write-up and an "export
    curbs paused" write-up of that truce), and at least SHARED_ENTITIES of the smaller report's
    names must be named by the other. Either way they must not be about different companies,
    nor expect a named company to move different ways. Reports that name nothing cannot be told
    apart and never match.
    """
    if not a.judged or not b.judged or conflicts(a, b):
        return False
    if a.frames and b.frames:
        if not any(fa.agrees(fb) for fa in a.frames for fb in b.frames):
            return False
        return bool(a.entities & b.entities) or _frames_name_their_objects(a, b)
    if a.event_types[0] not in b.event_types and b.event_types[0] not in a.event_types:
        return False
    shared = len(a.entities & b.entities)
    if shared == 0 or shared < SHARED_ENTITIES * min(len(a.entities), len(b.entities)):
        return False
    return _specific_in_common(a, b)


def _specific(signature: EventSignature) -> frozenset[str]:
    return frozenset(e for e in signature.entities if e.split(":", 1)[0] in SPECIFIC_KINDS)


def _specific_in_common(a: EventSignature, b: EventSignature) -> bool:
    """Whether two reports share an element, a company or a distinctive word; reports of which
    one says nothing specific cannot be told apart this way and pass."""
    mine, theirs = _specific(a) | a.words, _specific(b) | b.words
    return not mine or not theirs or not mine.isdisjoint(theirs)


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
    frames that move one lever opposite ways.

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
        oppose = any(fa.opposes(fb) for fa in a.frames for fb in b.frames)
        return oppose and not agree
    return False


def _opposite_moves(a: frozenset[str], b: frozenset[str]) -> bool:
    ours = dict(move.rsplit(":", 1) for move in a)
    return any(ours.get(ticker, direction) != direction for ticker, direction in (m.rsplit(":", 1) for m in b))


def _frames_name_their_objects(a: EventSignature, b: EventSignature) -> bool:
    """Agreeing frames whose objects are both said and shared identify the event on their own."""
    return any(fa.agrees(fb) and fa.objects and fb.objects for fa in a.frames for fb in b.frames)
