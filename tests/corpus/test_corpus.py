"""The shipped rules against the labelled corpus: items.yaml (tuning) and holdout.yaml together.

Metric definitions are in tests/corpus/metrics.py. Event-type accuracy is the strict one: the
predicted set of event types must equal the labelled set exactly, on every item labelled as an
alert. Run `python -m tests.corpus.metrics items.yaml holdout.yaml` for each file's numbers.
"""

from pathlib import Path

from service.rules import load_ruleset
from tests.corpus.metrics import CORPUS, evaluate, load_items

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_rules_meet_the_quality_bar():
    """Alert precision and recall >= 0.95, exact event types and MP direction >= 0.90; misses printed."""
    ruleset = load_ruleset(ROOT / "rules")
    items = load_items(CORPUS / "items.yaml") + load_items(CORPUS / "holdout.yaml")
    report = evaluate(ruleset, items)
    print(report.summary())
    for miss in report.misses:
        print("  " + miss)
    details = report.summary() + "\n" + "\n".join(report.misses)
    assert report.precision >= 0.95, details
    assert report.recall >= 0.95, details
    assert report.event_type_accuracy >= 0.90, details
    assert report.direction_accuracy >= 0.90, details


def test_corpus_is_big_and_hard_enough():
    """The tuning corpus has at least 120 items, 40% of them hard negatives, all labelled consistently."""
    items = load_items(CORPUS / "items.yaml")
    negatives = [i for i in items if not i.alert]
    assert len(items) >= 120
    assert len(negatives) / len(items) >= 0.40
    assert len({i.id for i in items}) == len(items)
    for item in items:
        assert bool(item.event_types) == item.alert, item.id
        assert (item.mp == "none") == (not item.alert), item.id
