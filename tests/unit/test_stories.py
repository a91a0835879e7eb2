"""One story, however many outlets carried it: canonical links, near-duplicate text, and events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from service.digest.content import DigestAlert, rank_sections
from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Source
from service.events.stories import SAME_STORY, Event, group_stories, resemblance, same_event, shingles
from service.rules import load_ruleset
from tests.conftest import SHIPPED_RULES

T0 = dt.datetime(2025, 11, 10, 8, 0, tzinfo=dt.UTC)


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


def test_three_outlets_writing_up_one_event_in_their_own_words_differ_as_text(seeds):
    """Seeds 001, 003 and 004 report the 2025 truce's export pause in their own words.

    They share under a tenth of their word pairs, far from a reprint, so text similarity keeps
    them apart; folding them into one event is event-level work (type, names, time), below.
    """
    reports = [_seed_report(seeds[name], name) for name in ("001", "003", "004")]
    texts = [shingles(f"{r.title}\n{r.summary}") for r in reports]
    pairs = [resemblance(texts[i], texts[j]) for i in range(3) for j in range(i + 1, 3)]
    assert max(pairs) < SAME_STORY / 5
    assert [[i.name for i in g] for g in group_stories(reports)] == [["001"], ["003"], ["004"]]


def event(types: str, names: str, hours: float = 0, prominent: str = "") -> Event:
    return Event(
        event_types=tuple(types.split()),
        entities=frozenset(names.split()),
        at=T0 + dt.timedelta(hours=hours),
        prominent=frozenset(prominent.split()),
    )


TRUCE = event("truce", "country:China country:United_States")


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        # Another write-up of the truce that leads with the export pause, three hours later.
        (event("export_control_eased truce", "country:China country:United_States agency:MOFCOM", 3), True),
        # The same names and types, but 47 hours later (still one event) or 49 (a new one).
        (event("truce", "country:China country:United_States", 47), True),
        (event("truce", "country:China country:United_States", 49), False),
        (event("truce", "country:China country:United_States", -49), False),
        # Neither primary type is among, or kindred to, the other report's types: new controls
        # are not the truce, while its tariff cuts are the truce told another way.
        (event("export_control_new", "country:China country:United_States", 1), False),
        (event("tariff_down", "country:China country:United_States", 1), True),
        # The truce among the other report's types is enough, whatever it leads with.
        (event("tariff_down truce", "country:China country:United_States", 1), True),
        # Half of the smaller report's names are shared: enough.
        (event("truce", "country:China element:gallium element:germanium element:graphite", 1), True),
        # A report that names nothing cannot be placed.
        (event("truce", "", 1), False),
        (Event((), TRUCE.entities, TRUCE.at), False),
    ],
)
def test_same_event_against_a_truce_report(other, expected):
    """Reports are one event when close in time, of a shared primary type, naming the same things."""
    assert same_event(TRUCE, other) is expected
    assert same_event(other, TRUCE) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Two funding stories on one day about different companies are two stories.
        (
            event("gov_funding", "ticker:MP agency:DoD country:United_States", 0, "ticker:MP"),
            event("gov_funding", "ticker:USAR agency:DoD country:United_States", 2, "ticker:USAR"),
            False,
        ),
        # The same company in both headlines: one story.
        (
            event("gov_funding", "ticker:MP agency:DoD country:United_States", 0, "ticker:MP"),
            event("gov_funding", "ticker:MP agency:DoD", 2, "ticker:MP"),
            True,
        ),
        # One outlet names the company in its headline, another only the agency and country.
        (
            event("gov_funding", "ticker:MP agency:DoD country:United_States", 0, "ticker:MP"),
            event("gov_funding", "agency:DoD country:United_States", 2),
            True,
        ),
        # One name shared out of the smaller report's three: too little.
        (
            event("export_control_eased", "country:China country:United_States agency:MOFCOM", 0),
            event("export_control_eased", "country:China element:gallium element:germanium element:graphite", 1),
            False,
        ),
        # A tariff threat and new export controls on one day, both about China: two stories.
        (
            event("tariff_up", "country:China country:United_States", 0),
            event("export_control_new", "country:China agency:MOFCOM", 1),
            False,
        ),
    ],
)
def test_same_event_by_company_and_type(a, b, expected):
    """Different headline companies or unrelated event types keep same-day reports apart."""
    assert same_event(a, b) is expected


def test_events_group_transitively_and_only_when_asked():
    """Reports join when each matches one of the others; without events nothing joins."""
    items = [
        Item("truce", "Truce holds"),
        Item("pause", "Curbs paused"),
        Item("funding", "Pentagon funds a magnet plant"),
        Item("easing", "Licences granted"),
    ]
    events = {
        "truce": event("truce", "country:China country:United_States"),
        "pause": event("export_control_eased truce", "country:China country:United_States", 2),
        "funding": event("gov_funding", "agency:DoD country:United_States", 3),
        "easing": event("export_control_eased", "country:China element:gallium", 4),
    }
    grouped = group_stories(items, event_of=lambda item: events[item.name])
    assert [[i.name for i in g] for g in grouped] == [["truce", "pause", "easing"], ["funding"]]
    assert len(group_stories(items)) == 4


@pytest.fixture(scope="module")
def shipped_ruleset():
    return load_ruleset(SHIPPED_RULES)


def scored(ruleset, name: str, title: str, summary: str, at: dt.datetime, kind: str = "sector") -> DigestAlert:
    """An alert as the digest reads it from the store: scored by `ruleset`, named entities resolved."""
    assessment = ruleset.assess(title, summary, Source(name=name, kind=kind, weight=SOURCE_WEIGHTS[kind]))
    assert assessment.alert, title
    return DigestAlert(
        title=title,
        summary=summary,
        link=None,
        canonical_link=None,
        source=name,
        published=at,
        raised_at=at + dt.timedelta(minutes=5),
        assessment=assessment,
        named=ruleset.named_in(assessment.matched),
    )


def test_the_three_seed_write_ups_of_the_truce_are_one_story(seeds, shipped_ruleset):
    """Seeds 001, 003 and 004, scored by the shipped rules, are one story carried by three sources."""
    alerts = []
    for hours, name in enumerate(("001", "003", "004")):
        report = _seed_report(seeds[name], name)
        alerts.append(scored(shipped_ruleset, f"outlet-{name}", report.title, report.summary, T0 + dt.timedelta(hours=3 * hours)))
    # The rules lead with different event types (truce, export controls eased): no shortcut.
    assert len({a.event_type for a in alerts}) > 1
    assert [[a.source for a in g] for g in group_stories(alerts, event_of=lambda a: a.event)] == [
        ["outlet-001", "outlet-003", "outlet-004"]
    ]
    [section] = rank_sections(alerts)
    [story] = section.stories
    assert len(story.sources) == 3


GENEVA = (
    "US and China agree 90-day tariff truce after Geneva talks",
    "Washington will cut its tariffs on Chinese goods to 30% and Beijing will lower its duties on US goods "
    "to 10% for 90 days. China also said it would suspend the countermeasures it took since April 2, "
    "including export controls on rare earths.",
)
CHIP_DISPUTE = (
    "China says US chip guidance undermines the Geneva truce",
    "Beijing's commerce ministry said on Wednesday that Washington's new guidance on Huawei chips undermined "
    "the consensus reached in Geneva, and warned of countermeasures while the 90-day tariff truce runs.",
)
TARIFF_THREAT = (
    "Trump threatens extra 100% tariff on Chinese imports from November 1",
    "The president said the United States will impose an additional tariff of 100% on goods from China, on "
    "top of the tariffs now in force, in response to Beijing's new rare earth export rules.",
)
WIDER_CONTROLS = (
    "China widens rare earth export controls to foreign-made magnets",
    "The commerce ministry said foreign companies will need a licence to export products containing 0.1% or "
    "more of rare earths from China, and added five elements and magnet technology to the control list.",
)


@pytest.mark.parametrize(
    ("first", "second", "hours_apart", "stories"),
    [
        # Two truce stories a week apart (the deal, then a dispute over it) are two stories...
        (GENEVA, CHIP_DISPUTE, 7 * 24, 2),
        # ...which the same two reports on one day would not be: time is what tells them apart.
        (GENEVA, CHIP_DISPUTE, 3, 1),
        # A tariff threat and wider export controls on the same day, both about China.
        (TARIFF_THREAT, WIDER_CONTROLS, 2, 2),
    ],
)
def test_near_misses_scored_by_the_shipped_rules(shipped_ruleset, first, second, hours_apart, stories):
    """Related but different events, as the shipped rules score them, stay separate stories."""
    alerts = [
        scored(shipped_ruleset, "wire", *first, T0, kind="wire"),
        scored(shipped_ruleset, "mining", *second, T0 + dt.timedelta(hours=hours_apart)),
    ]
    assert len(group_stories(alerts, event_of=lambda a: a.event)) == stories
