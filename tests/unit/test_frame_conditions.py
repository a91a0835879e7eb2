"""`frame:` and `official:` conditions in rule files: located problems, and what fires."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.errors import ConfigError
from service.rules import load_ruleset
from tests.rulesets import assess, one_rule

ROOT = Path(__file__).resolve().parents[2]


def shipped_folder(folder: Path, rules: dict[str, str]) -> Path:
    """The shipped watchlists and word lists with only the given alert files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("watchlists.yaml", "terms.yaml"):
        shutil.copy(ROOT / "rules" / name, folder / name)
    (folder / "alerts").mkdir(exist_ok=True)
    for name, text in rules.items():
        (folder / "alerts" / name).write_text(text, encoding="utf-8")
    return folder


def load(tmp_path: Path, match: str, **fields: str):
    return load_ruleset(shipped_folder(tmp_path / "rules", {"a.yaml": one_rule(match, **fields)}))


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ("frame: {instrument: export_controls}", "unknown instrument 'export_controls'; did you mean 'export_control'?"),
        ("frame: {object: [rare_earth]}", "unknown object 'rare_earth'; did you mean 'rare_earths'?"),
        ("frame: {polarity: tighter}", "polarity is up or down, not 'tighter'"),
        ("frame: {actor: [Chinaa]}", "unknown actor 'Chinaa'; did you mean 'China'?"),
        ("frame: {type: [export_control]}", "unknown event type 'export_control'"),
        ("frame: {in: body}", "`in` is headline or lead"),
        ("headline: {frame: {instrument: tariff, in: lead}}", "never holds under `headline:`"),
        ("frame: {instrument: tariff, when: now}", "unknown key 'when'"),
        ("frame: []", "`frame` takes a mapping"),
        ("official: {kind: sec8k}", "unknown kind 'sec8k'; did you mean 'sec_8k'?"),
        ("official: {items: [1.1]}", "an 8-K item is written like '1.01'"),
        ("official: {filer: [MPP]}", "unknown watchlist group or ticker 'MPP'"),
    ],
)
def test_a_bad_frame_or_official_condition_is_a_located_problem(tmp_path, match, message):
    """Each mistake is reported with file:line:column and what would be right."""
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, match)
    [problem] = raised.value.problems
    assert problem.file.endswith("a.yaml") and problem.line and problem.column
    assert message in problem.message


def test_a_frame_rule_fires_on_any_wording_and_takes_the_frame_type(tmp_path):
    """A rule on frames catches the event in words no phrase list names, with the frame's type."""
    ruleset = load(tmp_path, "frame: {instrument: export_control, object: [minor_metals, rare_earths]}")
    suspended = assess(ruleset, "Beijing shelves its curbs on antimony shipments")
    assert suspended.rules == ("r",) and suspended.event_types == ("export_control_eased",)
    assert suspended.impacts["MP"] == "bearish" and suspended.impacts["F"] == "bullish"
    assert suspended.matched[-1].startswith("frame: China shelves export_control (down)")
    assert [f.as_json()["polarity"] for f in suspended.frames][:1] == ["down"]
    assert assess(ruleset, "Beijing curbs chip exports").rules == ()  # no object the rule names


def test_a_contradictory_frame_leaves_the_phrases_to_decide_and_says_so(tmp_path):
    """When the frames contradict each other, the rule's own event type stands, noted in `matched`."""
    ruleset = load(tmp_path, "any: [rare earth]")
    verdict = assess(ruleset, "China and the US suspend and reinstate rare earth controls")
    assert verdict.event_types == ("export_control_new",)
    assert any(m.startswith("frame: contradictory (suspend and reinstate)") for m in verdict.matched)
    assert verdict.frames == ()


def test_a_phrase_rule_is_corrected_by_the_frame_of_its_kind(tmp_path):
    """A rule written for new controls gives 'eased' when the headline suspends them."""
    ruleset = load(tmp_path, "all: [[rare earth], [export controls]]")
    assert assess(ruleset, "China imposes rare earth export controls").event_types == ("export_control_new",)
    eased = assess(ruleset, "China extends suspension of rare earth export controls")
    assert eased.event_types == ("export_control_eased",) and eased.impacts["MP"] == "bearish"


def test_easing_favours_the_chinese_exporters_the_text_names(tmp_path):
    """Licences granted to named Chinese magnet makers are good for them, even when only the
    first sentence names them; producers elsewhere lose their edge."""
    ruleset = load(tmp_path, "frame: {instrument: [permit, export_control], object: [rare_earths, magnets]}")
    verdict = ruleset.assess(
        "China grants year-long rare earth export licences to magnet makers",
        "JL Mag and Ningbo Yunsheng received the first general licences.",
        _official("newswire"), link=None,
    )
    assert verdict.event_types == ("export_control_eased",)
    assert verdict.impacts["300748.SZ"] == "bullish" and verdict.impacts["MP"] == "bearish"
    assert verdict.impacts["600111.SS"] == "neutral"  # a Chinese producer the article does not name


def test_a_share_move_the_headline_states_is_that_company_s_direction(tmp_path):
    """The impact map says an easing hurts US producers; a headline saying two of them rose wins
    for those two, and only for them."""
    ruleset = load(tmp_path, "frame: {instrument: export_control}")
    verdict = assess(ruleset, "USA Rare Earth and Critical Metals climb as China agrees to delay new curbs")
    assert verdict.event_types == ("export_control_eased",)
    assert verdict.impacts["USAR"] == "bullish" and verdict.impacts["CRML"] == "bullish"
    assert verdict.impacts["MP"] == "bearish"


def test_a_company_s_own_money_news_explains_its_share_move(tmp_path):
    """"NioCorp shares fall after offerings": the company's own raise is the news (corporate),
    the fall its direction; a mood carried over from the subject is not a cause."""
    ruleset = load(tmp_path, "frame: {instrument: [price, funding]}", event_types="[price_move]")
    verdict = assess(ruleset, "NioCorp shares fall 8% after $6 million public and private offerings")
    assert verdict.event_types == ("corporate",) and verdict.impacts["NB"] == "bearish"
    mood = assess(ruleset, "Almonty stock jumps in New York as tungsten supply anxiety builds")
    assert mood.event_types == ("price_move",) and mood.impacts["ALM.TO"] == "bullish"


@pytest.mark.parametrize(
    ("headline", "ticker", "direction"),
    [
        ("MP Materials stock sinks 10% after second-quarter miss", "MP", "bearish"),
        ("Lynas shares fall 7% as discounted A$750m raising weighs", "LYC.AX", "bearish"),
        ("Perpetua stock soars on draft record of decision for Stibnite gold-antimony project", "PPTA", "bullish"),
        ("Malaysia clears Lynas to keep processing Mt Weld concentrate, shares jump", "LYC.AX", "bullish"),
        ("Syrah plunges after declaring force majeure at Mozambique graphite mine", "SYR.AX", "bearish"),
    ],
)
def test_a_share_move_caused_by_the_company_s_own_news_is_company_news(tmp_path, headline, ticker, direction):
    """A miss, a discounted raise "weighing", a permit decided, a licence renewed before ", shares
    jump": the company's own news is the event, its shares say which way."""
    ruleset = load(tmp_path, "frame: {instrument: [price, funding, permit]}", event_types="[price_move]")
    verdict = assess(ruleset, headline)
    assert verdict.event_types == ("corporate",) and verdict.impacts[ticker] == direction


def test_a_plan_explains_a_share_move_and_a_mood_does_not(tmp_path):
    """"MP jumps as the Pentagon plans a stake": the plan is the news; "stocks slide as truce hopes
    grow": hopes are no event yet."""
    ruleset = load(tmp_path, "frame: {instrument: [price, funding, agreement]}", event_types="[price_move]")
    plan = assess(ruleset, "MP Materials jumps as Pentagon plans $400 million equity stake")
    assert plan.event_types == ("gov_funding",)
    mood = assess(ruleset, "Rare earth stocks slide as US-China truce hopes grow")
    assert mood.event_types == ("price_move",)


def test_a_share_move_with_a_cause_outside_the_company_stays_a_price_move(tmp_path):
    ruleset = load(tmp_path, "frame: {instrument: [price, funding, permit]}", event_types="[price_move]")
    for headline in ("Almonty shares fall 7% as insider lock-up expires",
                     "JL Mag shares hit daily limit after Xi visits rare earth magnet plant"):
        assert assess(ruleset, headline).event_types == ("price_move",), headline


def test_a_raise_below_the_market_is_bad_news_for_holders(tmp_path):
    """A placement at a discount dilutes holders; a government loan to the same company does not."""
    ruleset = load(tmp_path, "frame: {instrument: funding}", event_types="[corporate, gov_funding]")
    placement = assess(ruleset, "Lynas raises A$750 million in a placement at a 10% discount")
    assert placement.event_types == ("corporate",) and placement.impacts["LYC.AX"] == "bearish"
    loan = assess(ruleset, "Arafura's Nolans gets A$840m federal debt backing")
    assert loan.event_types == ("gov_funding",) and loan.impacts["ARU.AX"] == "bullish"


def test_an_8k_rule_reads_items_and_the_filer(tmp_path):
    """`official: {kind: sec_8k, items: [...], filer: [...]}` fires on the items a desk reads of a watchlist filer."""
    ruleset = load(
        tmp_path, "official: {kind: sec_8k, items: ['1.01', '8.01'], filer: [us_allied_producers]}",
        event_types="[corporate]", impact="{mentioned: bullish}",
    )

    def filing(summary: str, feed: str):
        return ruleset.assess("8-K - Current report", summary, _official(feed), link=None)

    material = filing("Items 1.01 and 9.01", "sec-edgar-mp-8k")
    assert material.rules == ("r",) and material.impacts.get("MP") == "bullish"
    assert filing("Item 5.07 Submission of Matters to a Vote", "sec-edgar-mp-8k").rules == ()
    assert filing("Items 1.01 and 9.01", "sec-edgar-nvda-8k").rules == ()  # not a watchlist filer


def _official(feed: str):
    from service.domain.scoring import Source

    return Source(name=feed, kind="official", weight=1.0)


@pytest.mark.parametrize(
    ("match", "title", "summary", "fires"),
    [
        ("headline: {frame: {instrument: tariff}}", "US raises tariffs on Chinese magnets", "", True),
        ("headline: {frame: {instrument: tariff}}", "Magnet makers brace for news",
         "The US raised tariffs on Chinese magnets on Monday.", False),
        ("frame: {instrument: tariff}", "Magnet makers brace for news",
         "The US raised tariffs on Chinese magnets on Monday.", True),
    ],
)
def test_a_frame_under_headline_is_a_frame_of_the_headline(tmp_path, match, title, summary, fires):
    """`headline:` around a frame condition keeps it to the headline's frames, like `in: headline`."""
    verdict = assess(load(tmp_path, match, event_types="[tariff_up]"), title, summary)
    assert bool(verdict.rules) is fires
