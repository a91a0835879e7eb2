"""Where the labelled corpus lives, for the tests that read it.

training/   items the shipped rules are tuned on (read freely)
holdout/    items written blind, never read while editing rules: tests grade the rules on them
            and may print figures and item ids, never the items themselves
"""

from __future__ import annotations

from pathlib import Path

from service.evaluation.corpus import LabelledItem, load_corpus

CORPUS = Path(__file__).resolve().parent
TRAINING = CORPUS / "training"
HOLDOUT = CORPUS / "holdout"


def labelled_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def training_items() -> list[LabelledItem]:
    return [item for path in labelled_files(TRAINING) for item in load_corpus(path)]
