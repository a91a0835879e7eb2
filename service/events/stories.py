"""One story, however many outlets carried it.

A story is one event told over a span of time. A new report joins a story when

- its text is a near duplicate of one of the story's reports (the estimated resemblance of their
  word pairs is at least SAME_STORY: a reprint, a syndicated copy, a light rewrite), or
- its event signature is the same event as one of the story's reports (`signature.same_event`:
  the same frames, or the same kind of event naming the same countries, agencies, elements and
  companies), published within SPAN of it;

and never when the two surely tell different events (`signature.conflicts`), however alike their
words: "MP Materials shares rise 5%" and "... fall 5%" are two stories. Each report is compared
only with the candidates the story index finds for it (reports sharing an LSH band or an event
key, `service.store.stories`); this module decides among them, with no I/O.

`group_stories` groups a list of reports the same way at once, for what was never stored with a
story (price alerts in a digest, articles stored before stories existed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from service.events.signature import (
    SAME_EVENT_EVIDENCE,
    EventSignature,
    conflicts,
    same_event,
    same_story_in_words,
)
from service.events.sketch import Sketch

#: Estimated resemblance of word pairs at or above which two reports are one story.
SAME_STORY = 0.5
#: Outlets write an event up over two or three days (a White House fact sheet two days after the
#: leaders' announcement, a trade paper's account after the weekend); a like report further
#: apart from every report of a story is a new event (a second truce, a control renewed). Past
#: a day, two reports need more evidence in common (`relation`).
SPAN = timedelta(hours=72)
#: An official report and a press report this close are held to less specific evidence.
CONFIRMATION_SPAN = timedelta(hours=24)
CONFIRMATION_EVIDENCE = 1


@dataclass(frozen=True, slots=True)
class Told:
    """A report as story grouping sees it: when, its text's sketch, its event signature."""

    at: datetime
    sketch: Sketch
    signature: EventSignature
    canonical_link: str | None = None
    #: Published by an official source (an agency's own notice, a filing).
    official: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored report that shares an index key with a new one."""

    article_id: int
    story_id: int
    told: Told


@dataclass(frozen=True)
class Match:
    """Why a new report joins a story."""

    story_id: int
    #: "text" (a near duplicate), "event" (the same event in other words) or "words" (reports
    #: no rule judged, sharing their distinctive words).
    by: str
    resemblance: float
    #: The article it matched.
    article_id: int


def relation(new: Told, old: Told) -> str | None:
    """"text" or "event" when `new` is a report of the same story as `old`, else None."""
    if abs(new.at - old.at) > SPAN or conflicts(new.signature, old.signature):
        return None
    if new.canonical_link and new.canonical_link == old.canonical_link:
        return "text"
    if new.sketch.resemblance(old.sketch) >= SAME_STORY:
        return "text"
    if new.signature.judged and old.signature.judged:
        # An agency's notice and the press's account of it share little wording: the same day,
        # less specific evidence is enough.
        gap = abs(new.at - old.at)
        confirming = new.official != old.official and gap <= CONFIRMATION_SPAN
        needed = CONFIRMATION_EVIDENCE if confirming else SAME_EVENT_EVIDENCE
        if confirming and _same_act(new.signature, old.signature):
            needed = 0  # the notice and the press's account of it: who did what, the same day
        elif gap <= CONFIRMATION_SPAN and _same_ruling(new.signature, old.signature, court_unnamed=confirming):
            needed = 0  # two outlets' account of a court's ruling, the same day
        if gap > CONFIRMATION_SPAN:
            needed += 1  # days apart, a like report is as likely the next event: be surer
        if new.official != old.official and _same_truce(new.signature, old.signature):
            needed = 0  # a government's fact sheet of the truce, days later, and the press's account
        return "event" if same_event(new.signature, old.signature, needed=needed) else None
    if same_story_in_words(new.signature, old.signature):
        return "words"
    return None


def best_match(new: Told, candidates: Sequence[Candidate]) -> Match | None:
    """The story `new` joins among the candidates' stories, or None for a new story.

    A story any of whose candidate reports conflicts with `new` is out. Among the rest, a near
    duplicate beats an event match (the closest copy first); then the story whose matched
    report is nearest in time; then the oldest story.
    """
    barred = {c.story_id for c in candidates if conflicts(new.signature, c.told.signature)}
    best: tuple | None = None
    found: Match | None = None
    for candidate in candidates:
        if candidate.story_id in barred:
            continue
        how = relation(new, candidate.told)
        if how is None:
            continue
        likeness = new.sketch.resemblance(candidate.told.sketch)
        rank = (how != "text", -likeness if how == "text" else 0.0, abs(new.at - candidate.told.at), candidate.story_id)
        if best is None or rank < best:
            best = rank
            found = Match(candidate.story_id, how, likeness, candidate.article_id)
    return found


R = TypeVar("R")


def group_stories(reports: Sequence[R], told_of: Callable[[R], Told]) -> list[list[R]]:
    """Group reports of the same story; groups and their members keep the input order.

    The grouping is transitive: three write-ups join when each matches one of the others.
    """
    told = [told_of(report) for report in reports]
    parent = list(range(len(reports)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(reports)):
        for j in range(i + 1, len(reports)):
            a, b = root(i), root(j)
            if a != b and relation(told[j], told[i]) is not None:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[R]] = {}
    for index, report in enumerate(reports):
        groups.setdefault(root(index), []).append(report)
    return list(groups.values())


def _same_ruling(a: EventSignature, b: EventSignature, *, court_unnamed: bool = False) -> bool:
    """Both tell a court's ruling, and their leading frames do the same thing to the same lever
    ("Supreme Court strikes down Trump's tariffs", "Justices void IEEPA tariffs"). Only the
    leading frames: a report of an appeal that reinstates tariffs names the ruling it undoes.

    The court's own opinion ("Learning Resources, Inc. v. Trump, No. 24-1287") names no court
    as acting: with `court_unnamed` (an official report and a press report), a leading frame
    with no actor may stand for the court the other names."""
    if a.event_types[:1] != ("legal",) or b.event_types[:1] != ("legal",) or not a.frames or not b.frames:
        return False
    first, second = a.frames[0], b.frames[0]
    if court_unnamed and not (first.actor and second.actor):
        return first.agrees(second)  # the court's own opinion names no court
    return bool(first.actor) and first.actor == second.actor and first.agrees(second)


def _same_act(a: EventSignature, b: EventSignature) -> bool:
    """Both tell the same kind of event and share a frame with the same named actor doing the
    same thing to the same lever: "MOFCOM suspends Announcement No. 70" and "China halts
    enforcement of its October curbs"."""
    if not a.event_types or not b.event_types or a.event_types[0] != b.event_types[0]:
        return False
    if a.subjects and b.subjects and a.subjects.isdisjoint(b.subjects):
        return False  # each names what it is about, and not the same things: two acts that day
    return any(fa.actor and fa.actor == fb.actor and fa.agrees(fb) for fa in a.frames for fb in b.frames)


def _same_truce(a: EventSignature, b: EventSignature) -> bool:
    """Both tell a US-China truce as their main event. The two powers make one truce at a time,
    weeks apart, and the White House's fact sheet may follow the leaders' announcement by days
    ("Fact Sheet: President Donald J. Trump Strikes Deal on Economic and Trade Relations with
    China", two days after "Trump and Xi agree one-year pause")."""
    return a.event_types[:1] == ("truce",) == b.event_types[:1]
