"""Novelty, 0-100: how new a report is within its story's chain of reports.

As news-analytics vendors score it (DOMAIN.md): the first report of an event is 100; each later
report is scored by how many reports of the same story came out in the 24 hours before it,
100, 75, 56, 42, 32, 24, 18, 13, 10, 8, 6, 4, 3, 2, 1, then 0. A report published more than
24 hours after any other report of its story starts a new chain at 100. Stale news moves prices
less (Tetlock 2011); the score carries novelty as a factor, so a repeat ranks below the report
that broke the story.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from service.domain.scoring import Assessment

#: Reports further apart than this belong to different chains.
CHAIN_WINDOW = timedelta(hours=24)
#: Novelty of a report with 0, 1, 2, ... earlier reports of its story in the chain window.
DECAY: tuple[int, ...] = (100, 75, 56, 42, 32, 24, 18, 13, 10, 8, 6, 4, 3, 2, 1, 0)


def novelty(at: datetime, earlier: Iterable[datetime]) -> int:
    """The novelty of a report published `at`, given when the story's other reports came out.

    Only reports in the CHAIN_WINDOW before `at` count; those published later (a backfilled
    report stored after newer ones) do not make an older report less new.
    """
    count = sum(1 for moment in earlier if at - CHAIN_WINDOW <= moment < at)
    return DECAY[min(count, len(DECAY) - 1)]


def with_novelty(assessment: Assessment, value: int) -> Assessment:
    """The verdict with its novelty set and its score scaled by it (0-100 of the rules' score).

    Whether the report is worth an alert stays the rules' call: a repeat's lower score never
    silences it, since its story decides how it is delivered (an update, a thread reply).
    """
    value = max(0, min(100, int(value)))
    if value == assessment.novelty:
        return assessment
    base = assessment.score * 100 / assessment.novelty if assessment.novelty else assessment.score
    return replace(assessment, novelty=value, score=int(round(min(100.0, base) * value / 100)))
