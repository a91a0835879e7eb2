"""Scoring the shipped rules against the labelled corpus: precision, recall, event types, direction.

Definitions (the corpus test asserts on them):
- alert precision and recall: over every item, `Assessment.alert` against the `alert` label;
- event-type accuracy: over the items labelled as alerts, the share whose predicted event types
  are exactly the labelled set (mean Jaccard overlap is printed beside it);
- direction accuracy: over the items labelled as alerts, the share whose predicted direction for
  MP (`impacts["MP"]`, "neutral" when MP is not impacted) equals the `mp` label.

`python -m tests.corpus.metrics tests/corpus/items.yaml` prints the numbers and every miss.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Assessment, Source
from service.rules import Ruleset, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class LabelledItem:
    id: str
    source: str
    feed: str
    title: str
    summary: str
    alert: bool
    event_types: frozenset[str]
    mp: str


@dataclass
class CorpusReport:
    items: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    positives: int = 0
    exact_types: int = 0
    jaccard_sum: float = 0.0
    directions: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def event_type_accuracy(self) -> float:
        return self.exact_types / self.positives if self.positives else 1.0

    @property
    def event_type_jaccard(self) -> float:
        return self.jaccard_sum / self.positives if self.positives else 1.0

    @property
    def direction_accuracy(self) -> float:
        return self.directions / self.positives if self.positives else 1.0

    def summary(self) -> str:
        return (
            f"{self.items} items: alert precision {self.precision:.3f}, recall {self.recall:.3f}; "
            f"event types exact {self.event_type_accuracy:.3f} (Jaccard {self.event_type_jaccard:.3f}); "
            f"MP direction {self.direction_accuracy:.3f}; {len(self.misses)} misses"
        )


def load_items(path: Path) -> list[LabelledItem]:
    return [
        LabelledItem(
            id=raw["id"],
            source=raw["source"],
            feed=raw["feed"],
            title=raw["title"],
            summary=raw["summary"],
            alert=bool(raw["alert"]),
            event_types=frozenset(raw["event_types"] or ()),
            mp=raw["mp"],
        )
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]


def assess(ruleset: Ruleset, item: LabelledItem) -> Assessment:
    source = Source(name=item.feed, kind=item.source, weight=SOURCE_WEIGHTS[item.source])
    return ruleset.assess(item.title, item.summary, source)


def evaluate(ruleset: Ruleset, items: list[LabelledItem]) -> CorpusReport:
    report = CorpusReport(items=len(items))
    for item in items:
        verdict = assess(ruleset, item)
        predicted_types = frozenset(verdict.event_types)
        problems = []
        if verdict.alert and item.alert:
            report.true_positives += 1
        elif verdict.alert:
            report.false_positives += 1
            problems.append(f"false alert (score {verdict.score}, rules {', '.join(verdict.rules)})")
        elif item.alert:
            report.false_negatives += 1
            problems.append(f"missed alert (score {verdict.score}, rules {', '.join(verdict.rules) or 'none'})")
        if item.alert:
            report.positives += 1
            if predicted_types == item.event_types:
                report.exact_types += 1
            else:
                problems.append(f"event types {sorted(predicted_types)} != {sorted(item.event_types)}")
            union = predicted_types | item.event_types
            report.jaccard_sum += len(predicted_types & item.event_types) / len(union) if union else 1.0
            direction = verdict.impacts.get("MP", "neutral")
            if direction == item.mp:
                report.directions += 1
            else:
                problems.append(f"MP {direction} != {item.mp}")
        if problems:
            report.misses.append(f"{item.id} {item.title[:90]!r}: " + "; ".join(problems) + f" [matched: {', '.join(verdict.matched)}]")
    return report


def main(argv: list[str]) -> None:
    ruleset = load_ruleset(ROOT / "rules")
    for name in argv or ["items.yaml"]:
        path = Path(name) if Path(name).exists() else CORPUS / name
        report = evaluate(ruleset, load_items(path))
        print(f"== {path.name}: {report.summary()}")
        for miss in report.misses:
            print("  " + miss)


if __name__ == "__main__":
    main(sys.argv[1:])
