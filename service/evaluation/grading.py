"""Grading a ruleset on labelled items: precision, recall, event types and directions.

Definitions (docs/rules.md gives them to users):
- precision and recall of alerting, over the items labelled `yes` or `no` (an `either` item
  counts neither way);
- event-type accuracy, over the items labelled `yes`: the verdict gives at least one event type
  and every type it gives is among the item's acceptable `types`;
- direction accuracy, over the labelled (item, ticker) pairs of the items labelled `yes`: the
  verdict's direction for the ticker ("neutral" when it gives none) equals the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Assessment, Source
from service.evaluation.corpus import LabelledItem, expected_directions
from service.rules import Ruleset


@dataclass(frozen=True)
class ItemResult:
    """What the rules did with one item, and where that differs from its labels."""

    item: LabelledItem
    verdict: Assessment
    #: "false alarm", "missed alert", "types ...", "direction ...": empty when all is right.
    problems: tuple[str, ...]
    #: For a miss: the rules that nearly fired, each with the condition that stopped it.
    near_misses: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "id": self.item.id,
            "title": self.item.title,
            "alert_label": self.item.alert,
            "alert": verdict.alert,
            "score": verdict.score,
            "event_types": list(verdict.event_types),
            "acceptable_types": list(self.item.types),
            "impacts": dict(verdict.impacts),
            "rules": list(verdict.rules),
            "matched": list(verdict.matched),
            "frame": [frame.as_json() for frame in verdict.frames],
            "problems": list(self.problems),
            "near_misses": list(self.near_misses),
        }


@dataclass
class Grade:
    """The figures for one set of labelled items."""

    items: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    either: int = 0
    positives: int = 0
    types_right: int = 0
    direction_pairs: int = 0
    directions_right: int = 0
    results: list[ItemResult] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def type_accuracy(self) -> float:
        return self.types_right / self.positives if self.positives else 1.0

    @property
    def direction_accuracy(self) -> float:
        return self.directions_right / self.direction_pairs if self.direction_pairs else 1.0

    @property
    def wrong(self) -> list[ItemResult]:
        return [r for r in self.results if r.problems]

    def figures(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "type_accuracy": round(self.type_accuracy, 4),
            "direction_accuracy": round(self.direction_accuracy, 4),
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "either": self.either,
            "direction_pairs": self.direction_pairs,
        }

    def summary(self) -> str:
        return (
            f"{self.items} items: precision {self.precision:.3f}, recall {self.recall:.3f}, "
            f"event type {self.type_accuracy:.3f}, direction {self.direction_accuracy:.3f} "
            f"({self.true_positives} alerts right, {self.false_positives} false alarms, "
            f"{self.false_negatives} missed, {self.either} either)"
        )


def source_of(item: LabelledItem) -> Source:
    return Source(name=item.feed, kind=item.source, weight=SOURCE_WEIGHTS[item.source])


def grade(ruleset: Ruleset, items: list[LabelledItem], *, diagnose: bool = True) -> Grade:
    """Run the rules on every item and compare with its labels."""
    groups = ruleset.catalogue.groups
    report = Grade(items=len(items))
    for item in items:
        source = source_of(item)
        verdict = ruleset.assess(item.title, item.summary, source, link=item.link)
        problems: list[str] = []
        wanted = item.wanted
        if wanted is None:
            report.either += 1
        elif verdict.alert and wanted:
            report.true_positives += 1
        elif verdict.alert:
            report.false_positives += 1
            problems.append("false alarm")
        elif wanted:
            report.false_negatives += 1
            problems.append("missed alert")
        if wanted:
            report.positives += 1
            predicted = set(verdict.event_types)
            if predicted and predicted <= set(item.types):
                report.types_right += 1
            else:
                problems.append(f"types {sorted(predicted) or 'none'} not within {sorted(item.types)}")
            for ticker, expected in sorted(expected_directions(item, groups).items()):
                report.direction_pairs += 1
                got = verdict.impacts.get(ticker, "neutral")
                if got == expected:
                    report.directions_right += 1
                else:
                    problems.append(f"{ticker} {got}, labelled {expected}")
        near: tuple[str, ...] = ()
        if diagnose and "missed alert" in problems:
            near = tuple(ruleset.near_misses(item.title, item.summary, source, link=item.link))
        report.results.append(ItemResult(item, verdict, tuple(problems), near))
    return report
