"""One story, however many outlets carried it: text sketches, event signatures, grouping, novelty."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from service.digest.content import DigestAlert, rank_sections
from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Assessment, Frame, Source
from service.events.novelty import DECAY, novelty, with_novelty
from service.events.signature import (
    EventSignature,
    conflicts,
    distinctive_words,
    frame_key,
    same_event,
    signature_of,
)
from service.events.sketch import BANDS, index_key, resemblance, shingles, sketch
from service.events.stories import SAME_STORY, SPAN, Candidate, Told, best_match, group_stories, relation
from service.pipeline.stories import told_of
from service.rules import load_ruleset
from tests.conftest import SHIPPED_RULES

T0 = dt.datetime(2025, 11, 10, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Item:
    name: str
    title: str
    summary: str = ""
    canonical_link: str | None = None
    hours: float = 0
    signature: EventSignature = EventSignature(event_types=())

    @property
    def told(self) -> Told:
        return Told(T0 + dt.timedelta(hours=self.hours), sketch(f"{self.title}\n{self.summary}"), self.signature, self.canonical_link)


SUSPEND = Item(
    "wire",
    "China suspends rare earth export curbs for one year",
    "Beijing will pause the export controls it announced on October 9 until November 10, 2026, "
    "the commerce ministry said on Friday, after the leaders met in Busan.",
    "https://wire.example/china-suspends",
)


def names(groups) -> list[list[str]]:
    return [[i.name for i in group] for group in groups]


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
        # Same topic, different words, no verdict to compare as events: separate stories.
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
        # A copy published more than the story span apart is another event (a rule renewed).
        ([SUSPEND, Item("later", SUSPEND.title, SUSPEND.summary, None, hours=SPAN / HOUR + 1)], [["wire"], ["later"]]),
        # Within it, two and a half days later (a trade paper's account after a weekend), one story.
        ([SUSPEND, Item("monday", SUSPEND.title, SUSPEND.summary, None, hours=60)], [["wire", "monday"]]),
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
    """Reports sharing a canonical link or most word pairs within the span are one story; others stay apart."""
    assert names(group_stories(items, lambda i: i.told)) == expected


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


def test_the_sketch_estimates_resemblance_and_shares_bands_with_copies():
    """A sketch's estimate is near the exact resemblance; a copy shares every band, an unrelated text none."""
    copy = SUSPEND.summary.replace("on Friday", "on Saturday")
    other = "Ford idled its Chicago plant for a week for lack of magnets, the carmaker said."
    exact = resemblance(shingles(SUSPEND.summary), shingles(copy))
    estimate = sketch(SUSPEND.summary).resemblance(sketch(copy))
    assert abs(estimate - exact) < 0.2 and estimate >= SAME_STORY
    mine = sketch(SUSPEND.summary).bands()
    assert len(mine) == BANDS and sketch(SUSPEND.summary).bands() == mine
    assert set(mine).isdisjoint(sketch(other).bands())
    assert sketch("").empty and sketch("").bands() == [] and sketch("").resemblance(sketch("")) == 0.0


def test_index_keys_are_stable_across_processes():
    """Keys are stored and compared across processes and releases: they must not depend on a hash seed."""
    assert index_key(b"band", b"rare earth") == index_key(b"band", b"rare earth")
    assert index_key(b"band", b"rare earth") != index_key(b"event", b"rare earth")
    assert index_key(b"event", b"truce|country:China") == -6272489402429175190


#: Whom a court acts for, as the service reads it from the watchlists: a court's ruling is one
#: of the United States' acts, not a name specific to one event.
ACTORS = {"supreme court": "united states"}


def signature(types: str, names: str = "", prominent: str = "", moves: str = "", words: str = "", frames=()) -> EventSignature:
    return EventSignature(
        event_types=tuple(types.split()),
        entities=frozenset(names.split()) | frozenset(prominent.split()),
        prominent=frozenset(prominent.split()),
        moves=frozenset(moves.split()),
        words=frozenset(words.split()),
        frames=tuple(frame_key(f, ACTORS) for f in frames),
    )


TRUCE = signature("truce", "country:China country:United_States", words="busan fentanyl")


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        # Another write-up of the truce that leads with the export pause.
        (signature("export_control_eased truce", "country:China country:United_States agency:MOFCOM", words="busan fentanyl pause"), True),
        # Neither primary type is among the other's types, but both are in the de-escalation family.
        (signature("tariff_down", "country:China country:United_States", words="busan fentanyl"), True),
        # A tariff increase is no part of a truce.
        (signature("tariff_up", "country:China country:United_States", words="busan fentanyl"), False),
        # The truce among the other report's types is enough, whatever it leads with.
        (signature("tariff_down truce", "country:China country:United_States", words="busan fentanyl"), True),
        # Half of the smaller report's names are shared, and two distinctive words: enough.
        (signature("truce", "country:China element:gallium element:germanium element:graphite", words="busan fentanyl"), True),
        # One distinctive word in common is not enough to tell one event from the next.
        (signature("truce", "country:China country:United_States", words="busan chips"), False),
        # The same names but nothing specific in common: another truce story on the same topic.
        (signature("truce", "country:China country:United_States", words="geneva chips"), False),
        # A report that names nothing cannot be placed.
        (signature("truce", "", words="busan"), False),
        (EventSignature((), TRUCE.entities), False),
    ],
)
def test_same_event_against_a_truce_report(other, expected):
    """Reports are one event when of a shared primary type, naming the same things, with something specific in common."""
    assert same_event(TRUCE, other) is expected
    assert same_event(other, TRUCE) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Two funding stories about different companies are two stories.
        (
            signature("gov_funding", "agency:DoD country:United_States", prominent="ticker:MP"),
            signature("gov_funding", "agency:DoD country:United_States", prominent="ticker:USAR"),
            False,
        ),
        # The same company in both headlines: one story.
        (
            signature("gov_funding", "agency:DoD country:United_States", prominent="ticker:MP"),
            signature("gov_funding", "agency:DoD", prominent="ticker:MP"),
            True,
        ),
        # One outlet names the company in its headline, another only the agency and country.
        (
            signature("gov_funding", "agency:DoD country:United_States", prominent="ticker:MP", words="400 preferred"),
            signature("gov_funding", "agency:DoD country:United_States", words="400 preferred"),
            True,
        ),
        # One name shared out of the smaller report's three: too little.
        (
            signature("export_control_eased", "country:China country:United_States agency:MOFCOM"),
            signature("export_control_eased", "country:China element:gallium element:germanium element:graphite"),
            False,
        ),
        # A tariff threat and new export controls on one day, both about China: two stories.
        (
            signature("tariff_up", "country:China country:United_States", words="100 software"),
            signature("export_control_new", "country:China agency:MOFCOM", words="holmium licences"),
            False,
        ),
        # Unrelated kinds of event are never one, whatever they share.
        (
            signature("legal", "country:United_States", words="ieepa ruling"),
            signature("gov_funding", "country:United_States", words="ieepa ruling"),
            False,
        ),
        # Five elements put under licence, and a technology ban: both new controls, both MOFCOM.
        (
            signature("export_control_new", "country:China agency:MOFCOM element:holmium element:europium", words="five"),
            signature("export_control_new", "country:China agency:MOFCOM", words="extraction smelt technologies"),
            False,
        ),
    ],
)
def test_same_event_by_company_type_and_what_is_specific(a, b, expected):
    """Different headline companies, unrelated event types or nothing specific in common keep same-day reports apart."""
    assert same_event(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # A tightening and an easing of the same controls.
        (signature("export_control_new", "country:China"), signature("export_control_eased", "country:China"), True),
        # A truce and the easing it brought: types told differently, no conflict.
        (signature("truce", "country:China"), signature("export_control_eased", "country:China"), False),
        # A rise and a fall of one company.
        (
            signature("price_move", prominent="ticker:MP", moves="ticker:MP:bullish"),
            signature("price_move", prominent="ticker:MP", moves="ticker:MP:bearish"),
            True,
        ),
        # Two companies in two headlines.
        (signature("corporate", prominent="ticker:MP"), signature("corporate", prominent="ticker:LYC.AX"), True),
        # A report no rule fired on conflicts with nothing.
        (signature(""), signature("export_control_new", "country:China"), False),
    ],
)
def test_conflicts(a, b, expected):
    """Reports that surely tell different events conflict, in either order."""
    assert conflicts(a, b) is expected and conflicts(b, a) is expected


SUSPENDS = Frame("China", "suspend", "down", "export_control", "gallium, germanium and antimony")
PAUSES = Frame("China", "pause", "down", "export_control", "gallium")
EXTENDS = Frame("China", "extend", "up", "export_control", "gallium")
TECHNOLOGY = Frame("China", "ban", "up", "export_control", "extraction technology")
LICENCES = Frame("China", "add", "up", "export_control", "five rare earth elements")


@pytest.mark.parametrize(
    ("a", "b", "same", "conflict"),
    [
        # One easing told two ways: same actor, lever, direction and a shared object.
        ((SUSPENDS,), (PAUSES,), True, False),
        # The same lever moved the other way: a different event.
        ((SUSPENDS,), (EXTENDS,), False, True),
        # Two new controls on different things: different events, not opposites.
        ((TECHNOLOGY,), (LICENCES,), False, False),
        # An unsaid actor agrees with any.
        ((Frame("", "pause", "down", "export_control", "gallium"),), (SUSPENDS,), True, False),
    ],
)
def test_frames_decide_when_both_reports_have_them(a, b, same, conflict):
    """With frames on both sides, a pair of agreeing frames is one event; opposed ones conflict."""
    first = signature("export_control_eased" if a[0].polarity == "down" else "export_control_new", "country:China", frames=a)
    second = signature("export_control_eased" if b[0].polarity == "down" else "export_control_new", "country:China", frames=b)
    assert same_event(first, second) is same and conflicts(first, second) is conflict


@pytest.mark.parametrize(
    ("other", "agrees"),
    [
        (Frame("Indonesia", "stop", "down", "supply", "bauxite"), True),  # a flow stopped: the ban told another way
        (Frame("Indonesia", "resume", "up", "supply", "bauxite"), False),  # more supply is no ban
        (Frame("Indonesia", "lift", "down", "export_control", "bauxite"), False),  # a ban lifted
        (Frame("Malaysia", "stop", "down", "supply", "bauxite"), False),  # another government
    ],
)
def test_a_ban_and_a_flow_stopped_are_one_lever(other, agrees):
    """"Indonesia to ban bauxite exports" and "Indonesia to stop bauxite exports" agree."""
    ban = frame_key(Frame("Indonesia", "ban", "up", "export_control", "bauxite"))
    assert ban.agrees(frame_key(other)) is agrees
    assert frame_key(other).agrees(ban) is agrees


GALLIUM_LISTED = Frame("China", "add", "up", "export_control", "gallium")
ANTIMONY_LISTED = Frame("China", "add", "up", "export_control", "antimony")
GALLIUM_GERMANIUM_LISTED = Frame("China", "add", "up", "export_control", "gallium, germanium")
DYSPROSIUM_LISTED = Frame("Vietnam", "add", "up", "export_control", "dysprosium")
US_MAGNET_TARIFF = Frame("United States", "raise", "up", "tariff", "magnets")
EU_MAGNET_TARIFF = Frame("European Union", "raise", "up", "tariff", "magnets")
MP_LISTED = Frame("MP", "put", "up", "entity_list", "MP")
US_BLACKLISTS = Frame("DoD", "blacklist", "up", "entity_list", "")
CHINA_LISTS = Frame("China", "add", "up", "entity_list", "")
DOD_FUNDS = Frame("United States", "award", "up", "funding", "heavy rare earth separation")
LYNAS_WINS = Frame("Lynas", "win", "up", "funding", "heavy rare earth separation")


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        # Two governments adding an element each to their licence lists: two events.
        ((GALLIUM_LISTED, "country:China element:gallium"), (DYSPROSIUM_LISTED, "element:dysprosium"), True),
        # Two governments raising the same tariff on the same goods: two events.
        ((US_MAGNET_TARIFF, "country:United_States"), (EU_MAGNET_TARIFF, ""), True),
        # One government listing two different elements it names: two announcements.
        ((GALLIUM_LISTED, "country:China element:gallium"), (ANTIMONY_LISTED, "country:China element:antimony"), True),
        # One listing told with one of its elements and with both: one event.
        (
            (GALLIUM_LISTED, "country:China element:gallium"),
            (GALLIUM_GERMANIUM_LISTED, "country:China element:gallium element:germanium"),
            False,
        ),
        # A deal has two parties: the funder in one report, the company in the other.
        ((DOD_FUNDS, "country:United_States ticker:LYC.AX"), (LYNAS_WINS, "ticker:LYC.AX"), False),
        # A listed company read as the actor of its own listing is not another government.
        ((CHINA_LISTS, "country:China ticker:MP"), (MP_LISTED, "country:China ticker:MP"), False),
    ],
)
def test_the_same_template_filled_in_for_another_government_or_element_is_another_event(a, b, conflict):
    """Templated reports ("X adds Y to its export licence list") share most of their words; who
    moved the restriction, and on which element, tells them apart."""
    (frame_a, names_a), (frame_b, names_b) = a, b
    first = signature(_TYPE_OF[frame_a.instrument], names_a, frames=(frame_a,))
    second = signature(_TYPE_OF[frame_b.instrument], names_b, frames=(frame_b,))
    assert conflicts(first, second) is conflict and conflicts(second, first) is conflict


_TYPE_OF = {"export_control": "export_control_new", "tariff": "tariff_up", "entity_list": "entity_list", "funding": "gov_funding"}


def test_only_the_leading_frame_says_who_acted():
    """Background naming the other side's earlier move ("... after the Pentagon blacklisted
    Chinese firms") does not make a report about another government's act."""
    china = signature("entity_list", "country:China", frames=(CHINA_LISTS,))
    answer = signature("entity_list", "country:China country:United_States ticker:MP", frames=(MP_LISTED, US_BLACKLISTS))
    assert not conflicts(china, answer)
    assert conflicts(china, signature("entity_list", "country:United_States", frames=(US_BLACKLISTS,)))


@pytest.mark.parametrize(
    ("official", "hours", "notice_frame", "expected"),
    [
        # The notice (its agency read as China) and the press's account, the same day: who did what is enough.
        (True, 3, Frame("China", "suspends", "down", "export_control", ""), "event"),
        # Two press reports of the same kind of act share nothing specific: not enough.
        (False, 3, Frame("China", "suspends", "down", "export_control", ""), None),
        # A day and more apart, the next act is as likely as a retelling.
        (True, 30, Frame("China", "suspends", "down", "export_control", ""), None),
        # Without a named actor, only the lever: not the same act.
        (True, 3, Frame("", "suspends", "down", "export_control", ""), None),
    ],
)
def test_a_notice_and_the_press_account_of_it_are_one_story(official, hours, notice_frame, expected):
    """"Announcement No. 70 on Suspending ..." and "China halts enforcement of its October curbs"
    share no specific word; the same actor doing the same thing the same day, one official, joins them."""
    notice = signature("export_control_eased", "country:China", words="announcement", frames=(notice_frame,))
    press = signature("export_control_eased", "country:China element:gallium", words="october",
                      frames=(Frame("China", "halts", "down", "export_control", "rare earth"),))
    at = T0 + dt.timedelta(hours=hours)
    first = Told(T0, sketch("Announcement on suspending"), notice, official=official)
    second = Told(at, sketch("China halts enforcement of its October curbs"), press)
    assert relation(second, first) == expected


STRIKES_DOWN = Frame("Supreme Court", "strikes down", "down", "tariff", "")


@pytest.mark.parametrize(
    ("hours", "second_frames", "expected"),
    [
        # Two outlets' account of the ruling, the same day, in words that share nothing specific.
        (3, (Frame("Supreme Court", "void", "down", "tariff", ""),), "event"),
        # An appeal that reinstates the tariffs the next morning names the ruling it undoes, in
        # the background: only the leading frames count.
        (20, (Frame("Supreme Court", "reinstates", "up", "tariff", ""), STRIKES_DOWN), None),
        # Days apart, a like ruling is as likely another court's.
        (30, (Frame("Supreme Court", "void", "down", "tariff", ""),), None),
    ],
)
def test_two_accounts_of_one_ruling_the_same_day_are_one_story(hours, second_frames, expected):
    """"Supreme Court strikes down Trump's tariffs" and "Justices void IEEPA tariffs, opening door
    to refunds" share no specific word; the same court doing the same thing the same day joins them."""
    first_sig = signature("legal", "country:United_States", words="sweeping emergency", frames=(STRIKES_DOWN,))
    second_sig = signature("legal", "country:United_States", words="refunds importers", frames=second_frames)
    first = Told(T0, sketch("Supreme Court strikes down the emergency tariffs"), first_sig)
    second = Told(T0 + dt.timedelta(hours=hours), sketch("Justices void the levies, opening door to refunds"), second_sig)
    assert relation(second, first) == expected


#: The court's own opinion ("Learning Resources, Inc. v. Trump, No. 24-1287"): the holding says what
#: happened to the tariffs, and no court is named as acting.
OPINION_HOLDS = Frame("", "affirms", "down", "tariff", "")


@pytest.mark.parametrize(
    ("hours", "official", "opinion_frames", "expected"),
    [
        # The court publishes its opinion; a wire reports the ruling half an hour later.
        (0.5, True, (OPINION_HOLDS,), "event"),
        # The same pair, but the opinion is a press item too: no confirmation to lean on.
        (0.5, False, (OPINION_HOLDS,), None),
        # An opinion that upholds the tariffs is another ruling, whatever the court.
        (0.5, True, (Frame("", "upholds", "up", "tariff", ""),), None),
        # A day and more apart, the account may be of the next ruling.
        (30, True, (OPINION_HOLDS,), None),
    ],
)
def test_a_court_opinion_and_the_press_account_of_it_are_one_story(hours, official, opinion_frames, expected):
    """The opinion as the court publishes it names no court as actor, so the two do not share a
    named actor; published the same day, an official opinion and a press report of a ruling
    that does the same to the same lever are one story."""
    opinion = signature("legal", "", words="learning resources 1287", frames=opinion_frames)
    press = signature("legal", "country:United_States country:China", words="refund unresolved", frames=(STRIKES_DOWN,))
    first = Told(T0, sketch("Learning Resources, Inc. v. Trump, No. 24-1287"), opinion, official=official)
    second = Told(T0 + dt.timedelta(hours=hours), sketch("Supreme Court strikes down Trump's emergency tariffs in 6-3 ruling"), press)
    assert relation(second, first) == expected


@pytest.mark.parametrize(
    ("hours", "official", "fact_sheet_types", "expected"),
    [
        # The White House's fact sheet of the truce, days after the leaders' announcement.
        (65, True, "truce", "event"),
        # Two press reports that far apart, sharing nothing specific: perhaps the next truce.
        (65, False, "truce", None),
        # A fact sheet whose main event is a tariff cut is held to the usual evidence.
        (65, True, "tariff_down", None),
        # Past the span of a story, a truce is another one.
        (80, True, "truce", None),
    ],
)
def test_a_truce_fact_sheet_days_later_joins_the_truce(hours, official, fact_sheet_types, expected):
    """The two powers make one truce at a time; an official account of it and the press's, told
    days apart in words that share nothing specific, are one story."""
    press = signature("truce", "country:China country:United_States", words="busan leader overall",
                      frames=(Frame("China", "defers", "down", "export_control", ""),))
    sheet = signature(fact_sheet_types, "country:China country:United_States", words="fact sheet rollout",
                      frames=(Frame("White House", "strikes", "up", "agreement", ""),))
    first = Told(T0, sketch("Trump and Xi agree one-year pause: China defers new curbs"), press)
    second = Told(T0 + dt.timedelta(hours=hours), sketch("Fact Sheet: President Strikes Deal on Economic and Trade Relations"),
                  sheet, official=official)
    assert relation(second, first) == expected


def test_a_notice_and_a_press_report_naming_different_things_stay_apart():
    """The five-element notice and a same-day ban on extraction technology: the same actor and
    lever, but each names what it is about and they share none of it."""
    notice = signature("export_control_new", "country:China element:holmium element:europium",
                       frames=(Frame("China", "implements", "up", "export_control", "rare earth"),))
    press = signature("export_control_new", "country:China",
                      frames=(Frame("China", "bans", "up", "export_control", "extraction technology"),))
    first = Told(T0, sketch("Announcement No. 62 on export controls on medium and heavy rare earths"), notice, official=True)
    second = Told(T0 + HOUR, sketch("China bans export of rare earth extraction technology"), press)
    assert relation(second, first) is None


def test_a_signature_round_trips_through_json():
    """What is stored with the article reads back the same."""
    original = signature("truce tariff_down", "country:China", prominent="ticker:MP", moves="ticker:MP:bearish", words="busan", frames=(SUSPENDS,))
    assert EventSignature.from_json(original.to_json()) == original
    assert EventSignature.from_json(None) == EventSignature(event_types=())


def test_distinctive_words_leave_out_common_and_known_words():
    """Common English and the words the rules use are not distinctive; numbers and names are."""
    text = "China adds five rare earths to its control list, the ministry said on Thursday"
    assert distinctive_words(text, {"china", "adds", "rare", "earths", "control", "list", "ministry"}) == ("five",)
    # In the text's order, plural and past endings dropped, "$4,000" one number, years left out.
    assert distinctive_words("Gold tops $4,000 as hostages released in 2025; hostage deal") == (
        "gold", "tops", "4000", "hostag", "releas", "deal",
    )


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Albanese's $1.2bn minerals pledge", "1p2bn"),
        ("Labor pledges A$1.2 billion for a reserve", "1p2bn"),
        ("Pentagon awards $35 million to MP", "35mn"),
        ("A US$400m loan from EXIM", "400mn"),
        ("Lynas raises $490mn", "490mn"),
        ("Fund of 2 trillion yen", "2tn"),
    ],
)
def test_a_sum_of_money_is_one_word_however_written(text, amount):
    """Two outlets write one sum their own ways; as one word it is shared evidence of one event."""
    assert amount in distinctive_words(text)


def test_a_designation_is_one_word():
    """"F-35" and "F-35s" are one designation, as specific as a name; its number alone is not."""
    assert "f35" in distinctive_words("Pentagon stops accepting F-35s")
    assert "f35" in distinctive_words("China weighs curbs on F-35 suppliers")
    assert "covid" in distinctive_words("COVID-19 shuts mines")  # a word of five letters stays a word


def test_a_number_before_a_lone_letter_is_no_sum():
    """"Clause 2 b" or "Item 5 m" names no money."""
    assert not any(w.endswith(("bn", "mn")) for w in distinctive_words("Clause 2 b of Item 5 m"))


def test_signature_of_a_verdict():
    """A verdict's signature: its types, the names it matched, its headline companies and their expected moves."""
    verdict = Assessment(
        event_types=("gov_funding", "corporate"),
        score=80,
        severity="high",
        alert=True,
        rules=("r",),
        matched=(),
        impacts={"MP": "bullish", "USAR": "bullish"},
        relevance={"MP": 100, "USAR": 40},
        frames=(Frame("Pentagon", "take stake", "up", "funding", "MP Materials"),),
    )
    sig = signature_of(verdict, {"agency:DoD"}, {"400"})
    assert sig.entities == {"ticker:MP", "ticker:USAR", "agency:DoD"} and sig.prominent == {"ticker:MP"}
    assert sig.moves == {"ticker:MP:bullish"} and sig.words == {"400"}
    assert sig.frames == (frame_key(verdict.frames[0]),) and sig.frames[0].objects == {"mp", "materials"}


@pytest.mark.parametrize(
    ("earlier_hours", "expected"),
    [
        ((), 100),
        ((-1,), 75),
        ((-3, -2, -1), 42),
        # Reports over 24 hours before do not count: a quiet gap starts a new chain.
        ((-30, -26), 100),
        ((-30, -1), 75),
        # A report published later (backfilled) does not make an earlier one less new.
        ((2,), 100),
        (tuple(-i for i in range(1, 40)), 0),
    ],
)
def test_novelty(earlier_hours, expected):
    """100 for the first report of a chain, then 75, 56, 42 ... by the story's reports in the 24 h before."""
    assert novelty(T0, [T0 + dt.timedelta(hours=h) for h in earlier_hours]) == expected


def test_novelty_decays_as_vendors_score_it():
    assert DECAY[:8] == (100, 75, 56, 42, 32, 24, 18, 13) and DECAY[-1] == 0


def test_novelty_scales_the_score_but_not_the_call():
    """The score carries novelty as a factor; whether the report is worth an alert stays the rules' call."""
    verdict = Assessment(event_types=("truce",), score=80, severity="high", alert=True, rules=("r",), matched=())
    repeat = with_novelty(verdict, 56)
    assert (repeat.score, repeat.novelty, repeat.alert) == (45, 56, True)
    assert with_novelty(repeat, 100).score == 80  # from the rules' score, not compounded


def candidate(article_id: int, story_id: int, item: Item) -> Candidate:
    return Candidate(article_id, story_id, item.told)


def test_best_match_prefers_a_copy_then_the_nearest_event_and_bars_conflicting_stories():
    """A near duplicate beats an event match; a story with a conflicting report is out."""
    event = signature("export_control_eased", "country:China agency:MOFCOM", words="busan fentanyl")
    new = Item("new", SUSPEND.title, SUSPEND.summary, hours=2, signature=event)
    copy = Item("copy", SUSPEND.title + " - Daily", SUSPEND.summary, signature=event)
    rewrite = Item("rewrite", "Beijing pauses curbs", "Other words entirely.", hours=1, signature=event)
    tightening = Item("tight", "China extends curbs", "Other words.", hours=1, signature=signature("export_control_new", "country:China"))
    found = best_match(new.told, [candidate(1, 10, rewrite), candidate(2, 20, copy)])
    assert (found.story_id, found.by) == (20, "text")
    assert best_match(new.told, [candidate(1, 10, rewrite)]).by == "event"
    assert best_match(new.told, [candidate(1, 10, rewrite), candidate(3, 10, tightening)]) is None
    assert relation(new.told, Item("old", SUSPEND.title, SUSPEND.summary, hours=2 - SPAN / HOUR - 1).told) is None


# --- The seed articles and the shipped rules -----------------------------------------------------


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
        assert names(group_stories([original, copy], lambda i: i.told)) == [[name, name + "-copy"]]


def test_three_outlets_writing_up_one_event_in_their_own_words_differ_as_text(seeds):
    """Seeds 001, 003 and 004 report the 2025 truce's export pause in their own words: under a tenth
    of their word pairs are shared, so the text alone keeps them apart."""
    reports = [_seed_report(seeds[name], name) for name in ("001", "003", "004")]
    texts = [shingles(f"{r.title}\n{r.summary}") for r in reports]
    pairs = [resemblance(texts[i], texts[j]) for i in range(3) for j in range(i + 1, 3)]
    assert max(pairs) < SAME_STORY / 5
    assert names(group_stories(reports, lambda i: i.told)) == [["001"], ["003"], ["004"]]


@pytest.fixture(scope="module")
def shipped_ruleset():
    return load_ruleset(SHIPPED_RULES)


def scored(ruleset, name: str, title: str, summary: str, at: dt.datetime, kind: str = "sector") -> DigestAlert:
    """An alert as the digest reads it: scored by `ruleset`, placed as the pipeline places it."""
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
        kind=kind,
    )


def pipeline_told(ruleset):
    return lambda a: told_of(ruleset, a.title, a.summary, a.assessment, a.published, None)


def test_the_three_seed_write_ups_of_the_truce_are_one_story(seeds, shipped_ruleset):
    """Seeds 001, 003 and 004, scored by the shipped rules, are one story carried by three sources."""
    alerts = []
    for hours, name in enumerate(("001", "003", "004")):
        report = _seed_report(seeds[name], name)
        alerts.append(scored(shipped_ruleset, f"outlet-{name}", report.title, report.summary, T0 + dt.timedelta(hours=3 * hours)))
    # The rules lead with different event types (truce, export controls eased): no shortcut.
    assert len({a.event_type for a in alerts}) > 1
    assert [[a.source for a in g] for g in group_stories(alerts, pipeline_told(shipped_ruleset))] == [
        ["outlet-001", "outlet-003", "outlet-004"]
    ]


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

#: One template, filled in for two governments and two elements on one day.
GALLIUM_LICENCES = (
    "China adds gallium to its export licence list",
    "The commerce ministry said exporters of gallium will need a licence from next month.",
)
DYSPROSIUM_LICENCES = (
    "Vietnam adds dysprosium to its export licence list",
    "The trade ministry said exporters of dysprosium will need a licence from next month.",
)
ANTIMONY_LICENCES = (
    "China adds antimony to its export licence list",
    "The commerce ministry said exporters of antimony will need a licence from next month.",
)


@pytest.mark.parametrize(
    ("first", "second", "hours_apart"),
    [
        # Two truce stories a week apart (the deal, then a dispute over it).
        (GENEVA, CHIP_DISPUTE, 7 * 24),
        # A tariff threat and wider export controls on the same day, both about China.
        (TARIFF_THREAT, WIDER_CONTROLS, 2),
        # Word for word alike but for who acts and on what: the text alone would join them.
        (GALLIUM_LICENCES, DYSPROSIUM_LICENCES, 2),
        (GALLIUM_LICENCES, ANTIMONY_LICENCES, 2),
    ],
)
def test_near_misses_scored_by_the_shipped_rules(shipped_ruleset, first, second, hours_apart):
    """Related but different events, as the shipped rules score them, stay separate stories."""
    alerts = [
        scored(shipped_ruleset, "wire", *first, T0, kind="wire"),
        scored(shipped_ruleset, "mining", *second, T0 + dt.timedelta(hours=hours_apart)),
    ]
    assert len(group_stories(alerts, pipeline_told(shipped_ruleset))) == 2


def test_the_digest_leads_a_story_with_its_official_report(shipped_ruleset):
    """The ministry's notice leads the story the press broke; every report is listed under it."""
    press = scored(shipped_ruleset, "reuters", *WIDER_CONTROLS, T0, kind="wire")
    official = scored(
        shipped_ruleset,
        "mofcom",
        "MOFCOM announcement on export controls on rare earth items containing Chinese content",
        "Foreign exporters of products containing 0.1% or more of Chinese rare earths need a licence; five "
        "elements and magnet technology are added to the control list.",
        T0 + 2 * HOUR,
        kind="official",
    )
    alerts = [
        DigestAlert(**{**a.__dict__, "story_id": 7}) for a in (press, official)
    ]
    [section] = rank_sections(alerts)
    [story] = section.stories
    assert story.lead.source == "mofcom" and [a.source for a in story.others] == ["reuters"]
    assert story.score == max(press.score, official.score)


MALAYSIA_BANS = Frame("Malaysia", "ban", "up", "export_control", "unprocessed rare earths")
MALAYSIA_PLANS = Frame("Malaysia", "plan", "up", "export_control", "rare earth minerals")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        # Malaysia doing one thing to one lever, told twice with only the topic's words in
        # common: the actor itself is what is specific.
        (MALAYSIA_BANS, MALAYSIA_PLANS, True),
        # The same two reports with China acting: China acts in most reports on the topic, so
        # with nothing else in common they stay apart.
        (
            Frame("China", "ban", "up", "export_control", "unprocessed rare earths"),
            Frame("China", "plan", "up", "export_control", "rare earth minerals"),
            False,
        ),
    ],
)
def test_an_actor_other_than_china_or_the_us_is_specific_evidence(a, b, same):
    first = signature("export_control_new", frames=(a,), words="unprocess parliament")
    second = signature("export_control_new", frames=(b,), words="nikkei downstream")
    assert same_event(first, second) is same


def test_a_programme_named_by_a_notice_and_the_press_is_one_story(shipped_ruleset):
    """A fact sheet launching "Project Vault" and a wire story on the companies signed up to it
    share no company, element or distinctive word (a programme's name is rule vocabulary): the
    programme itself is what they have in common."""
    notice = told_of(
        shipped_ruleset,
        "Fact Sheet: President Trump Launches Project Vault to Protect American Manufacturers",
        "A strategic reserve for industry will combine a $10 billion Export-Import Bank loan with private "
        "capital to buy and store rare earths, gallium and cobalt for participating manufacturers.",
        shipped_ruleset.assess(
            "Fact Sheet: President Trump Launches Project Vault to Protect American Manufacturers",
            "A strategic reserve for industry will combine a $10 billion Export-Import Bank loan with private "
            "capital to buy and store rare earths, gallium and cobalt for participating manufacturers.",
            Source(name="whitehouse", kind="official", weight=SOURCE_WEIGHTS["official"]),
        ),
        T0,
        None,
        official=True,
    )
    title = "Trump sets up $12 billion minerals stockpile as rare earth stocks climb"
    summary = "Carmakers and planemakers are among a dozen companies signed up to Project Vault; USA Rare Earth rose 11%."
    press = told_of(
        shipped_ruleset, title, summary,
        shipped_ruleset.assess(title, summary, Source(name="wire", kind="wire", weight=SOURCE_WEIGHTS["wire"])),
        T0 + 2 * HOUR, None,
    )
    assert "project vault" in notice.signature.named & press.signature.named
    assert relation(press, notice) == "event"
    # Without the programme in the press report, nothing specific is shared.
    bare = told_of(
        shipped_ruleset, title, "USA Rare Earth rose 11%.",
        shipped_ruleset.assess(title, "USA Rare Earth rose 11%.", Source(name="wire", kind="wire", weight=SOURCE_WEIGHTS["wire"])),
        T0 + 2 * HOUR, None,
    )
    assert relation(bare, notice) is None


def test_a_government_body_in_its_own_release_acts_for_the_issuer(shipped_ruleset):
    """"Cabinet approves ..." on India's press bureau is India's cabinet: the frame's actor is
    India, as the press's "India approves ..." has it, so the two are one act; a US commission's
    "rule" on toy magnets stays no export control."""
    link = "https://www.pib.gov.in/PressReleasePage.aspx?PRID=2194000"
    verdict = shipped_ruleset.assess(
        "Cabinet approves Scheme to Promote Manufacturing of Sintered Rare Earth Permanent Magnets",
        "The Union Cabinet approved a scheme with an outlay of Rs 7,280 crore for magnet capacity.",
        Source(name="pib", kind="official", weight=SOURCE_WEIGHTS["official"]),
        link=link,
    )
    assert verdict.event_types == ("gov_funding",) and verdict.frames[0].actor == "India", verdict.frames
    toys = shipped_ruleset.assess(
        "Safety Standard for Magnets",
        "The Consumer Product Safety Commission issues a final rule limiting the strength of small magnets in toys.",
        Source(name="federal-register-cpsc", kind="official", weight=SOURCE_WEIGHTS["official"]),
        link="https://www.federalregister.gov/documents/2022/09/21/2022-20200/safety-standard-for-magnets",
    )
    assert not toys.alert, toys.matched
