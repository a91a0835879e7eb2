"""Story grouping on the labelled corpus: B-cubed precision and recall of at least 0.95 over every
labelled file (training, holdout and blind alike), each file grouped on its own by the service's
own code (tests/corpus/stories.py). Only figures are printed: no holdout or blind item is shown."""

from __future__ import annotations

import pytest

from service.rules import load_ruleset
from tests.corpus.stories import ROOT, Grading, corpus_files, grade_file, is_training

#: What the grouping must reach, in precision and in recall.
BAR = 0.95


# Every labelled report (over 3,000) goes through the service's story code against a fresh
# database: minutes, not the suite's two-minute guard against a hang.
@pytest.mark.timeout(1200)
def test_stories_group_the_corpus_as_labelled():
    """B-cubed precision and recall >= 0.95 over at least 40 labelled stories of several reports."""
    ruleset = load_ruleset(ROOT / "rules")
    training, everything = Grading(), Grading()
    for path in corpus_files():
        grading = grade_file(path, ruleset)
        everything.add(grading)
        if is_training(path):
            training.add(grading)
    print(f"training: {training.summary()}")
    print(f"all files: {everything.summary()}")
    details = f"training: {training.summary()}; all files: {everything.summary()}\n" + "\n".join(training.misses)
    assert everything.groups >= 40, details
    assert everything.precision >= BAR, details
    assert everything.recall >= BAR, details
