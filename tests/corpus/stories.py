"""Story grouping graded on the labelled corpus: B-cubed precision and recall.

Each file is a batch written on its own (story ids are unique within a batch), so each is grouped
on its own: its items are stored in publication order, as feeds would deliver them, scored by the
shipped rules and placed in stories by the service's own code (`place_reports`, with its story
index in a real SQLite database). Items without a `story` label are left out.

B-cubed (Bagga and Baldwin 1998): for each item, precision is the share of the items grouped with
it (itself included) that the labels put in its story, recall the share of its labelled story that
was grouped with it; both are averaged over items. A grouping that merges two same-topic stories
loses precision, one that splits a story loses recall.

`python -m tests.corpus.stories` prints the figures per training file, and every training item
grouped wrongly. It never prints an item of a holdout or blind file.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Source
from service.evaluation.corpus import LabelledItem, load_corpus
from service.pipeline.stories import told_of
from service.rules import Ruleset, load_ruleset
from service.store import migrate
from service.sources.text import canonical_link
from service.store.articles import same_article
from service.store.db import make_engine, session
from service.store.models import Article, Feed
from service.store.stories import NewReport, place_reports
from tests.corpus.files import CORPUS, TRAINING

ROOT = CORPUS.parents[1]


@dataclass
class Grading:
    """B-cubed sums over the graded items of one or more files."""

    items: int = 0
    precision_sum: float = 0.0
    recall_sum: float = 0.0
    #: Labelled stories told by at least two reports.
    groups: int = 0
    #: (item id, what went wrong), for training files only.
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.precision_sum / self.items if self.items else 1.0

    @property
    def recall(self) -> float:
        return self.recall_sum / self.items if self.items else 1.0

    def add(self, other: Grading) -> None:
        self.items += other.items
        self.precision_sum += other.precision_sum
        self.recall_sum += other.recall_sum
        self.groups += other.groups
        self.misses += other.misses

    def summary(self) -> str:
        return (
            f"{self.items} items, {self.groups} stories of several reports: "
            f"B-cubed precision {self.precision:.3f}, recall {self.recall:.3f}"
        )


def corpus_files() -> list[Path]:
    """Every labelled file under tests/corpus/, training, holdout and blind alike."""
    return sorted(CORPUS.rglob("*.yaml"))


def is_training(path: Path) -> bool:
    return TRAINING in path.parents


def group_items(items: Sequence[LabelledItem], ruleset: Ruleset) -> dict[str, int]:
    """Item id -> the story the service puts it in, placing the items in publication order."""
    ordered = sorted(items, key=lambda i: (i.published, i.id))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'stories.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with session(engine) as s:
                feeds: dict[str, int] = {}
                held: dict[str, tuple[str, str]] = {}  # canonical link -> the first item's title and text
                stories: dict[str, int] = {}
                for item in ordered:
                    name = item.feed or item.source
                    if name not in feeds:
                        feed = Feed(name=name, url=f"https://{name}.example/feed", kind=item.source)
                        s.add(feed)
                        s.flush()
                        feeds[name] = feed.id  # type: ignore[assignment]
                    # The pipeline keys an article by its canonical link while the link leads to
                    # one article: a copy under it is the same story (the pipeline would store it
                    # once); a different item under a shared listing page is not.
                    link = canonical_link(item.link)
                    first = link is not None and link not in held
                    if first:
                        held[link] = (item.title, item.summary)  # type: ignore[index]
                    elif link is not None and not same_article(*held[link], item.title, item.summary):
                        link = None
                    article = Article(
                        feed_id=feeds[name], guid=item.id, title=item.title, summary=item.summary,
                        link=item.link, canonical_link=link if first else None, published=item.published,
                        fetched_at=item.published, content_hash=item.id,
                    )
                    s.add(article)
                    s.flush()
                    source = Source(name=name, kind=item.source, weight=SOURCE_WEIGHTS[item.source])
                    verdict = ruleset.assess(item.title, item.summary, source, link=item.link)
                    told = told_of(
                        ruleset, item.title, item.summary, verdict, item.published, link, official=item.source == "official"
                    )
                    report = NewReport(article.id, item.title, name, item.source, told, verdict.severity)  # type: ignore[arg-type]
                    placed = place_reports(s, [report])
                    stories[item.id] = placed[article.id].story.id  # type: ignore[assignment]
                s.commit()
        finally:
            engine.dispose()
    return stories


def grade(items: Sequence[LabelledItem], predicted: dict[str, int], *, explain: bool) -> Grading:
    """B-cubed of `predicted` against the items' `story` labels."""
    labelled: dict[str, set[str]] = defaultdict(set)
    grouped: dict[int, set[str]] = defaultdict(set)
    for item in items:
        labelled[item.story].add(item.id)  # type: ignore[index]
        grouped[predicted[item.id]].add(item.id)
    grading = Grading(items=len(items), groups=sum(len(members) >= 2 for members in labelled.values()))
    titles = {item.id: item.title for item in items}
    for item in items:
        mine = grouped[predicted[item.id]]
        truth = labelled[item.story]  # type: ignore[index]
        both = len(mine & truth)
        grading.precision_sum += both / len(mine)
        grading.recall_sum += both / len(truth)
        if explain and mine != truth:
            wrong = sorted(mine - truth)
            missing = sorted(truth - mine)
            grading.misses.append(
                f"{item.id} {titles[item.id][:70]!r}: grouped with {wrong or '-'}; apart from {missing or '-'}"
            )
    return grading


def grade_file(path: Path, ruleset: Ruleset) -> Grading:
    """The B-cubed of one labelled file; misses are kept for training files only."""
    items = [item for item in load_corpus(path) if item.story]
    if not items:
        return Grading()
    return grade(items, group_items(items, ruleset), explain=is_training(path))


def main(argv: list[str]) -> None:
    ruleset = load_ruleset(ROOT / "rules")
    paths = [Path(a) for a in argv] or [p for p in corpus_files() if is_training(p)]
    total = Grading()
    for path in paths:
        if not is_training(path):
            print(f"{path.name}: not a training file; use the test to grade it")
            continue
        grading = grade_file(path, ruleset)
        total.add(grading)
        print(f"== {path.name}: {grading.summary()}")
        for miss in grading.misses:
            print("  " + miss)
    print(f"== all: {total.summary()}")


if __name__ == "__main__":
    main(sys.argv[1:])
