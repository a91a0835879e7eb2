"""One story, however many outlets carried it: canonical links and near-duplicate text."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.events.stories import SAME_STORY, group_stories, resemblance, shingles


@dataclass(frozen=True)
class Item:
    name: str
    title: str
    summary: str = ""
    canonical_link: str | None = None


SUSPEND = Item(
    "wire",
    "China suspends rare earth export curbs for one year",
    "Beijing will pause the export controls it announced on October 9 until November 10, 2026, "
    "the commerce ministry said on Friday, after the leaders met in Busan.",
    "https://wire.example/china-suspends",
)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        # The same canonical link is one story, whatever the text says.
        (
            [SUSPEND, Item("aggregator", "Rare earths: a pause", "Different words.", SUSPEND.canonical_link)],
            [["wire", "aggregator"]],
        ),
        # A syndicated copy: the outlet's name appended, one word changed, another link.
        (
            [
                SUSPEND,
                Item(
                    "mining",
                    SUSPEND.title + " - Mining Wire",
                    SUSPEND.summary.replace("on Friday", "on Saturday"),
                    "https://mining.example/a/1",
                ),
            ],
            [["wire", "mining"]],
        ),
        # Case, punctuation and spacing do not make a new story.
        (
            [SUSPEND, Item("blog", SUSPEND.title.upper(), SUSPEND.summary.replace(",", " ;"), None)],
            [["wire", "blog"]],
        ),
        # Same topic, different event: separate stories.
        (
            [
                SUSPEND,
                Item(
                    "official",
                    "Commerce adds 30 Chinese firms to the entity list",
                    "The Bureau of Industry and Security added the companies for supporting military "
                    "end users, effective on publication in the Federal Register.",
                    "https://bis.example/rule",
                ),
            ],
            [["wire"], ["official"]],
        ),
        # Template headlines about one company that moved opposite ways are two stories.
        (
            [Item("a", "MP Materials shares rise 5%"), Item("b", "MP Materials shares fall 5%")],
            [["a"], ["b"]],
        ),
        # Grouping is transitive: a ~ b by link, b ~ c by text.
        (
            [
                Item("a", "Pentagon takes stake in magnet maker", "x y z", "https://a.example/1"),
                Item("b", SUSPEND.title, SUSPEND.summary, "https://a.example/1"),
                Item("c", SUSPEND.title, SUSPEND.summary, None),
            ],
            [["a", "b", "c"]],
        ),
        ([], []),
        ([Item("only", "")], [["only"]]),
    ],
)
def test_group_stories(items, expected):
    """Reports sharing a canonical link or most word pairs are one story; others stay apart."""
    assert [[i.name for i in group] for group in group_stories(items)] == expected


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("the same words here", "the same words here", 1.0, 1.0),
        ("", "anything", 0.0, 0.0),
        ("China suspends export curbs", "china SUSPENDS export-curbs!", 1.0, 1.0),
        ("China suspends export curbs", "China extends export curbs", 0.0, 0.5),
    ],
)
def test_resemblance(a, b, low, high):
    """Resemblance is the Jaccard index of word pairs, blind to case and punctuation."""
    assert low <= resemblance(shingles(a), shingles(b)) <= high


def _seed_report(text: str, name: str) -> Item:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = next(line for line in lines if len(line.split()) >= 6)
    body = " ".join(line for line in lines if len(line.split()) > 20)
    return Item(name, title, " ".join(body.split()[:80]))


@pytest.fixture
def seeds(shared_corpora):
    folder = shared_corpora / "seed-articles"
    return {path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.txt"))}


def test_a_syndicated_copy_of_each_seed_is_the_same_story(seeds):
    """Each seed article reprinted by another outlet (new prefix, a changed word) groups with it."""
    for name in ("001", "003", "004"):
        original = _seed_report(seeds[name], name)
        words = original.summary.split()
        words[len(words) // 2] = "reportedly"
        copy = Item(name + "-copy", "ANALYSIS: " + original.title, " ".join(words) + " (Reuters)")
        assert [[i.name for i in g] for g in group_stories([original, copy])] == [[name, name + "-copy"]]


def test_three_outlets_writing_up_one_event_in_their_own_words_stay_three_stories(seeds):
    """Seeds 001, 003 and 004 report the 2025 truce's export pause in their own words.

    They share under a tenth of their word pairs, far from a reprint, so text similarity keeps
    them apart; folding them into one event is event-level work (type, tickers, time).
    """
    reports = [_seed_report(seeds[name], name) for name in ("001", "003", "004")]
    texts = [shingles(f"{r.title}\n{r.summary}") for r in reports]
    pairs = [resemblance(texts[i], texts[j]) for i in range(3) for j in range(i + 1, 3)]
    assert max(pairs) < SAME_STORY / 5
    assert [[i.name for i in g] for g in group_stories(reports)] == [["001"], ["003"], ["004"]]
