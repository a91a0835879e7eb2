"""Every verdict of the shipped rules on the training corpus, as JSON: run as a module, it prints
them, so a test can compare the engine in two builds (compiled, and REEWATCH_PURE_PYTHON=1)."""

from __future__ import annotations

import json
from pathlib import Path

from service.evaluation.grading import source_of
from service.rules import load_ruleset
from tests.corpus.files import training_items

RULES = Path(__file__).resolve().parents[1] / "rules"


def verdicts() -> dict[str, list]:
    """Item id -> everything its Assessment says, in a form JSON keeps exactly."""
    ruleset = load_ruleset(RULES)
    out: dict[str, list] = {}
    for item in training_items():
        verdict = ruleset.assess(item.title, item.summary, source_of(item), link=item.link)
        out[str(item.id)] = [
            verdict.alert, list(verdict.event_types), verdict.score, verdict.severity, list(verdict.rules),
            list(verdict.matched), dict(verdict.impacts), dict(verdict.relevance),
            [frame.as_json() for frame in verdict.frames], list(verdict.channels), verdict.throttle_seconds,
        ]
    return out


if __name__ == "__main__":
    print(json.dumps(verdicts()))
