"""The verdict on an article: impacts, relevance, score, alert, explanation, ignore list."""

from functools import cache
from pathlib import Path

import pytest

from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Source
from service.rules import Ruleset, load_ruleset
from service.rules.conditions import ANYWHERE
from tests.corpus.files import training_items
from tests.rulesets import assess, load, one_rule

ROOT = Path(__file__).resolve().parents[2]


@cache
def shipped() -> Ruleset:
    """The shipped rules, loaded once for the module: verdicts do not change the ruleset."""
    return load_ruleset(ROOT / "rules")


def assert_reads(title: str, event_type: str, directions: dict[str, str | None], lead: str = "") -> None:
    """The shipped rules alert on the headline (and first sentence) with exactly this event type,
    and give each ticker listed this direction (None: no direction at all)."""
    verdict = assess(shipped(), title, lead)
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert {ticker: verdict.impacts.get(ticker) for ticker in directions} == directions, verdict.matched

EXPORT_RULE = one_rule("all: [['@curbs'], ['@minerals']]")


def test_default_impact_covers_every_ticker_of_each_group(tmp_path):
    """A rule without `impact` takes its event type's default for every ticker in each group."""
    ruleset = load(tmp_path / "rules", {"a.yaml": EXPORT_RULE})
    verdict = assess(ruleset, "China bans gallium exports")
    assert verdict.impacts == {"MP": "bullish", "LYC.AX": "bullish", "F": "bearish"}
    assert verdict.event_types == ("export_control_new",)


def test_specific_impacts_override_group_ones(tmp_path):
    """A named ticker beats its group; `mentioned` applies to the tickers the article names."""
    rule = one_rule("any: [ban]", impact="{producers: bullish, mentioned: neutral, F: bullish}")
    ruleset = load(tmp_path / "rules", {"a.yaml": rule})
    verdict = assess(ruleset, "Lynas and Ford react to a ban")
    assert verdict.impacts == {"MP": "bullish", "LYC.AX": "neutral", "F": "bullish"}


def test_the_strongest_rule_sets_the_direction(tmp_path):
    """When rules disagree, the more severe one decides the direction (a neutral never hides
    one), and the headline's frame the event type: the truce ends, China revives a ban."""
    rules = {
        "a.yaml": one_rule("any: [truce]", event_types="[truce]", severity="high"),
        "b.yaml": one_rule("any: [ban]", severity="critical").replace("id: r", "id: r2"),
        "c.yaml": one_rule("any: [ban]", severity="low", impact="{mentioned: neutral}").replace("id: r", "id: r3"),
    }
    ruleset = load(tmp_path / "rules", rules)
    verdict = assess(ruleset, "Truce ends as China revives ban", "MP Materials responds.")
    assert verdict.rules == ("r2", "r", "r3")
    assert verdict.severity == "critical"
    assert verdict.impacts["MP"] == "bullish"
    assert verdict.event_types == ("export_control_new",)


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("MP Materials (MP) expands", "", {"MP": 100}),
        ("Miners expand", "MP Materials (MP) said so on Monday morning. Other news.", {"MP": 55}),
        ("Miners expand", "Rare earth news came in on Monday. MP Materials said so. MP Materials again.", {"MP": 40}),
        ("Lynas and MP Materials expand", "", {"LYC.AX": 100, "MP": 100}),
        ("Nothing here", "", {}),
    ],
)
def test_relevance_per_ticker(tmp_path, title, summary, expected):
    """Headline mentions are fully relevant, the first sentence less, the body least; "X (X)" is one mention."""
    ruleset = load(tmp_path / "rules", {"a.yaml": EXPORT_RULE})
    assert dict(assess(ruleset, title, summary).relevance) == expected


def test_score_alert_and_explanation(tmp_path):
    """A fired rule scores by severity and source; below min_score it fires without alerting."""
    rule = one_rule("all: [['@curbs'], ['@minerals']]", severity="high", min_score="60", channel="'#desk'")
    ruleset = load(tmp_path / "rules", {"a.yaml": rule})
    official = assess(ruleset, "China bans gallium exports", kind="official")
    blog = assess(ruleset, "China bans gallium exports", kind="blog")
    assert (official.score, official.alert, official.channels) == (68, True, ("#desk",))
    assert (blog.score, blog.alert, blog.channels) == (54, False, ())
    assert blog.rules == ("r",) and blog.severity == "high"
    assert official.matched == ("bans", "gallium", "frame: China bans export_control (up) on gallium")


def test_unmatched_article_scores_from_relevance_only(tmp_path):
    """No rule fired: no event types, no alert, a small score from the companies named."""
    ruleset = load(tmp_path / "rules", {"a.yaml": EXPORT_RULE})
    verdict = assess(ruleset, "MP Materials hosts a webcast", kind="official")
    assert (verdict.event_types, verdict.alert, verdict.severity, verdict.score) == ((), False, None, 20)


def test_ignore_file_silences_every_rule(tmp_path):
    """An article matching ignore.yaml fires no rule, whatever it says."""
    ignore = "ignore:\n  headline: {regex: '^opinion'}\n"
    ruleset = load(tmp_path / "rules", {"a.yaml": EXPORT_RULE}, ignore=ignore)
    assert assess(ruleset, "Opinion: China bans gallium").rules == ()
    assert assess(ruleset, "China bans gallium").rules == ("r",)


def test_disabled_rule_never_fires(tmp_path):
    """`enabled: false` keeps a rule in the file without running it."""
    ruleset = load(tmp_path / "rules", {"a.yaml": one_rule("any: [ban]", enabled="false")})
    assert assess(ruleset, "A ban").rules == ()


def test_prefilter_never_skips_a_rule_that_holds():
    """Testing only rules whose required phrases were found gives the same verdicts as testing all."""
    ruleset = shipped()
    items = training_items()
    checked = 0
    for item in items:
        evidence, _, _ = ruleset.evidence(item.title, item.summary, _source(item))
        every = {r.id for r in ruleset.rules if r.condition.test(evidence)}
        picked = {ruleset.rules[i].id for i in ruleset._candidates(evidence) if ruleset.rules[i].condition.test(evidence)}
        assert picked == every, item.id
        checked += bool(every)
        assert evidence.hits[ANYWHERE] >= evidence.hits[0]
    assert checked > 50


def test_a_licence_requirement_reaches_rules_on_export_control_frames():
    """The prefilter indexes a rule on export-control frames under the words that can start one,
    licences among them: a MOFCOM notice that only requires licences must reach it."""
    verdict = assess(
        shipped(), "MOFCOM and customs to require licences for antimony exports from September 15", "",
        kind="official", feed="mofcom-announcements",
    )
    assert "china-export-control-announcement" in verdict.rules, verdict.rules


def _source(item):
    from service.domain.feeds import SOURCE_WEIGHTS
    from service.domain.scoring import Source

    return Source(item.feed, item.source, SOURCE_WEIGHTS[item.source])


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        # Aliases and spellings resolve to the entity: Beijing is China, U.S. the United States,
        # and the commerce ministry acts for China.
        (
            "Beijing bans gallium exports to the U.S.",
            "The commerce ministry announced it.",
            {"country:China", "country:United States", "element:gallium"},
        ),
        ("The US Treasury bans gallium exports", "", {"country:United States", "element:gallium"}),
        # A name written in capitals counts only in capitals ("US", not "us").
        ("China curbs rare earth exports to US", "", {"country:China", "country:United States"}),
        ("China curbs rare earth exports, telling us nothing", "", {"country:China"}),
    ],
)
def test_named_in_reads_matched_phrases_back_into_entities(tmp_path, title, summary, expected):
    """A verdict's matched phrases name countries, agencies and elements as "kind:name"."""
    rule = one_rule(
        "all: [['@curbs'], {mentions: {country: any}}, {any: [{mentions: element}, {mentions: agency}, rare earth]}]"
    )
    ruleset = load(tmp_path / "rules", {"a.yaml": rule})
    verdict = assess(ruleset, title, summary)
    assert verdict.alert
    assert ruleset.named_in(verdict.matched) == expected


@pytest.mark.parametrize(
    ("title", "summary", "types"),
    [
        # "Neo" is Neo Performance Materials beside a magnet; opening a plant to cut reliance on
        # China is company news, not a shortage.
        ("Neo opens Estonian magnet plant to cut Europe's reliance on China", "It makes sintered magnets in Narva.",
         ("corporate",)),
        ("Neo-classical architecture returns to Tallinn", "A museum opens.", ()),
        ("Magnet shortage forces Ford to halt Explorer production", "Output stops for a week.", ("supply_disruption",)),
        # The Arafura Games are a sports event in Darwin; Arafura's own news still alerts.
        ("Arafura Games return to Darwin with an opening ceremony", "Athletes gather for eight days.", ()),
        ("Arafura secures A$200 million from the National Reconstruction Fund", "The money is for Nolans.",
         ("gov_funding",)),
        # Chip makers put on the Entity List are chip policy, not the desk's minerals.
        ("US blacklists Chinese memory maker YMTC and 30 others over chip concerns",
         "Commerce put the memory maker and other Chinese chip designers on its trade blacklist.", ()),
        ("Shenghe Resources added to the US Entity List", "Commerce named the rare earth refiner.", ("entity_list",)),
    ],
)
def test_name_clashes_and_other_industries_stay_quiet(title, summary, types):
    """A plant opened to cut reliance on China is no shortage; "Neo" beside a magnet is Neo
    Performance Materials; the Arafura Games are not Arafura; chip makers listed are not minerals."""
    ruleset = shipped()
    assert assess(ruleset, title, summary).event_types == types


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        ("Why USA Rare Earth stock fell today", True),  # a share move and its cause, the same day
        ("Why is Critical Metals stock soaring premarket?", True),
        ("Why did the Syrah share price jump 80% in two days?", True),
        ("Why Lynas shares slid yesterday", True),
        ("Why USA Rare Earth is rising in pre-market", True),  # the company's move, without "stock"
        ("Why Lynas is down today", False),  # "down" alone says no move a rule can read
        ("Why the rare earth trade is the next big thing", False),
        ("Supreme Court hears the tariff case tomorrow: what to expect", False),  # a preview
        ("Why Lynas shares could double in five years", False),  # a forecast, not a move
        ("Why rare earths matter for the trade war", False),  # an explainer
        ("What the affiliates rule means for MP Materials", False),
        ("Key questions on how Project Vault can secure minerals supplies", False),
    ],
)
def test_the_shipped_ignore_list_keeps_same_day_share_move_explanations(title, alerts):
    """The shipped ignore list silences explainers ("Why ..."), but not "Why X stock fell today",
    which tells a desk a move it holds and why."""
    ruleset = shipped()
    assert assess(ruleset, title, "").alert is alerts


def test_an_8k_reads_what_was_agreed_from_its_first_sentence():
    """An 8-K's headline is the form's item title; the first sentence says the agreement is with
    the Department of Defense, so it is public money, not a company deal."""
    ruleset = shipped()
    verdict = assess(
        ruleset,
        "8-K - MP Materials Corp. - Item 1.01 Entry into a Material Definitive Agreement",
        "MP Materials reports agreements with the Department of Defense covering a $400 million preferred equity "
        "investment and a ten-year NdPr price floor.",
        kind="official",
        feed="sec-edgar-8k-mp",
    )
    assert verdict.event_types == ("gov_funding",) and verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "listed"),
    [
        ("Shenghe Resources has been added to the Entity List", "600392.SS"),
        ("MP Materials was put on China's unreliable entity list", "MP"),
    ],
)
def test_a_watchlist_company_listed_in_the_passive_is_a_listing(title, listed):
    """A company the desk holds put on a list is a listing that hurts it, though the headline
    names no government acting (the list's name says whose it is)."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("entity_list",)
    assert verdict.impacts[listed] == "bearish"


@pytest.mark.parametrize(
    ("title", "summary", "kind", "alerts"),
    [
        # A ruling on duties on other goods leaves the desk's tariffs as they were; a ruling on
        # the desk's tariffs is news.
        ("Trade court upholds duties on Vietnamese shrimp imports", "", "wire", False),
        ("Supreme Court declines to hear challenge to Trump steel tariffs", "", "wire", False),
        ("Supreme Court strikes down Trump's IEEPA tariffs", "", "wire", True),
        # A third government's own entity list is neither the US Entity List nor China's lists.
        (
            "Taiwan adds Huawei and SMIC to its export control entity list",
            "The island's exporters now need a permit to ship to the two Chinese chipmakers.",
            "wire",
            False,
        ),
        ("China adds US defense firms to unreliable entity list", "", "wire", True),
        # An Entity List rule about Russia's war supply chains, China not named; and with China named.
        (
            "Additions to the Entity List",
            "BIS adds entities in Russia and elsewhere for supplying aircraft parts to Russia's military.",
            "official",
            False,
        ),
        (
            "Additions to the Entity List",
            "BIS adds entities in China and Russia for diverting US items to Russia's military.",
            "official",
            True,
        ),
        # An initiative of the US and its partners is a pact by another name.
        ("Quad countries announce launch of critical minerals initiative", "", "wire", True),
        # "US tariffs" are Washington's tariffs, though no verb says the US acted: on solar
        # panels they are industrial policy on other goods; on all Chinese goods, the trade war.
        ("US tariffs on Chinese solar panels rise to 50%", "", "wire", False),
        ("US tariffs on Chinese goods rise to 145%", "", "wire", True),
        ("Chinese tariffs on US soybeans take effect", "", "wire", True),
        ("US imposes tariffs on Chinese drones", "", "wire", False),
    ],
)
def test_the_desks_fight_alerts_and_the_same_words_elsewhere_do_not(title, summary, kind, alerts):
    """Courts, lists and listings about other goods and other countries' affairs stay quiet;
    the same words on the desk's tariffs, China's list or with China named alert."""
    verdict = assess(shipped(), title, summary, kind=kind, feed="federalregister-bis-rules")
    assert verdict.alert is alerts, verdict.rules


@pytest.mark.parametrize(
    ("title", "ticker", "direction"),
    [
        ("Lynas shares down 7%", "LYC.AX", "bearish"),
        ("USA Rare Earth up 12% premarket", "USAR", "bullish"),
        ("Energy Fuels stock down nearly 9 percent", "UUUU", "bearish"),
        ("Lynas shares down 7% after China curbs", "LYC.AX", "bearish"),
        ("Lynas shares fall 7% after China curbs", "LYC.AX", "bearish"),
    ],
)
def test_a_share_move_stated_by_its_figure_alerts_with_its_direction(title, ticker, direction):
    """"Down 7%" says a move as plainly as "falls": the headline's company moves that way, whatever
    caused it."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert
    assert ("shares-down" if direction == "bearish" else "shares-up") in verdict.rules
    assert verdict.impacts[ticker] == direction


@pytest.mark.parametrize(
    "title",
    ["Lynas sets up 2 new plants in Texas", "MP Materials steps up 3 hiring drives as the mine expands"],
)
def test_up_before_a_count_is_no_share_move(title):
    """"Sets up 2 plants" is not "up 2%": no share-move rule fires."""
    verdict = assess(shipped(), title, "")
    assert not {"shares-up", "shares-down"} & set(verdict.rules)


@pytest.mark.parametrize(
    ("title", "relevance"),
    [
        ("UK MP calls for an inquiry into rare earth magnet supply", {}),
        ("Labour MP urges a ban on deep-sea mining", {}),
        ("UK MP praises MP Materials magnet plant", {"MP": 100}),
        ("MP rises 5% after Pentagon rare earth deal", {"MP": 100}),
    ],
)
def test_a_member_of_parliament_is_not_mp_materials(title, relevance):
    """In "UK MP" the code is a member of parliament, though the article is about the sector: no
    company is named, and no company rule fires on it."""
    verdict = assess(shipped(), title, "")
    assert verdict.relevance == relevance
    if not relevance:
        assert not verdict.alert


def test_an_8k_shareholder_vote_relayed_by_an_aggregator_does_not_alert():
    """The Item code decides whether a filing alerts, wherever the desk reads it: a vote (5.07)
    does not, though the line names MP Materials."""
    ruleset = shipped()
    title = "MP Materials files 8-K: Item 5.07 Submission of Matters to a Vote of Security Holders"
    assert not assess(ruleset, title, "", kind="aggregator", feed="filings-news").alert
    assert assess(ruleset, title.replace("5.07 Submission of Matters to a Vote of Security Holders",
                                         "1.01 Entry into a Material Definitive Agreement with the Department of Defense"),
                  "", kind="aggregator", feed="filings-news").alert


@pytest.mark.parametrize(
    ("title", "hurt", "helped"),
    [
        ("Fire halts MP Materials Mountain Pass rare earth plant", "MP", "LYC.AX"),
        ("Strike halts output at Iluka Eneabba refinery", "ILU.AX", "MP"),
        ("Flooding halts production at Mount Weld", "LYC.AX", "MP"),
        ("Magnet shortage hits Tesla Optimus robot production", "TSLA", "MP"),
    ],
)
def test_a_disruption_hurts_the_company_it_stops_and_helps_other_producers(title, hurt, helped):
    """A shortage or a halted plant lifts the producers that still ship; the company whose own
    plant or production stops loses ("shortage hits production" is less production)."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types[:1] == ("supply_disruption",)
    assert (verdict.impacts[hurt], verdict.impacts[helped]) == ("bearish", "bullish")


@pytest.mark.parametrize(
    "title",
    ["US Treasury sanctions Chinese oil refinery over Iran purchases", "US sanctions Chinese gold traders over Russia deals"],
)
def test_sanctions_over_another_trade_do_not_alert(title):
    assert not assess(shipped(), title, "").alert


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        ("Immediate Measures to Increase American Mineral Production", True),
        ("Executive Order on Unleashing America's Offshore Critical Minerals and Resources", True),
        ("Establishing the President's Make America Healthy Again Commission", False),
    ],
)
def test_a_presidential_action_on_minerals_alerts_by_its_title(title, alerts):
    """An executive order is known by its title: one on minerals is policy in the producers'
    favour, whatever its text says; one on anything else is not the desk's."""
    verdict = assess(shipped(), title, "", kind="official", feed="whitehouse-presidential-actions")
    assert verdict.alert is alerts
    if alerts:
        assert verdict.event_types == ("gov_funding",) and verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "ticker"),
    [
        ("Iluka's Eneabba refinery cost blows out to A$2.5 billion", "ILU.AX"),
        ("Lynas Texas plant costs balloon to $500 million", "LYC.AX"),
        # With no sum at all, the words alone are the setback.
        ("Iluka's Eneabba refinery costs blow out", "ILU.AX"),
        ("Lynas Texas plant costs balloon", "LYC.AX"),
    ],
)
def test_a_cost_blowout_is_bad_news_for_the_company(title, ticker):
    """A sum of money in a company's headline is not always money in: costs that blow out are
    money out."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.impacts[ticker] == "bearish"


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        ("Trump signs order to boost US mineral production", True),
        ("Trump signs executive order to speed up deep-sea mining permits", True),
        ("What Trump's executive order on minerals could mean for miners", False),
        ("Biden signs executive order on semiconductor supply chains", False),
    ],
)
def test_a_wire_report_of_an_executive_order_on_minerals_alerts(title, alerts):
    """The press tells the order the day it is signed, before the White House feed carries its
    title: the same policy, the same direction."""
    verdict = assess(shipped(), title, "The order directs agencies to act within 30 days.")
    assert verdict.alert is alerts, verdict.rules
    if alerts:
        assert verdict.event_types == ("gov_funding",) and verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    "title",
    [
        "EU picks 47 strategic raw materials projects for fast-track permits",
        "EU fast-tracks 13 critical raw materials projects",
    ],
)
def test_projects_fast_tracked_by_a_government_are_support(title):
    """Fast-tracking eases what stands in a project's way: projects, money or permits sped up are
    more of them, where controls sped through are less control."""
    verdict = assess(shipped(), title, "The projects include rare earth separation plants.")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


def test_magnet_makers_added_to_the_entity_list_are_a_listing():
    """"Rare earth magnet makers" are companies, though "rare earth magnet" is a material too:
    adding them to a list is a listing, not a control on magnets."""
    verdict = assess(shipped(), "US adds Chinese rare earth magnet makers to Entity List", "")
    assert verdict.alert and verdict.event_types == ("entity_list",)


@pytest.mark.parametrize(
    ("title", "types"),
    [
        # Kept in place is the news; the truce it survives is background.
        ("China keeps gallium export ban on US in place despite truce - Reuters", ("export_control_new",)),
        # What is suspended is the news; what is kept in place is the qualification.
        (
            "China suspends sweeping rare earth curbs for a year but keeps April licensing in place",
            ("export_control_eased",),
        ),
    ],
)
def test_a_restriction_kept_in_place_outranks_background_not_an_act(title, types):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == types, verdict.matched


@pytest.mark.parametrize(
    "title",
    ["School magnet program draws record applications", "Lady Magnets climb to a record eighth straight win"],
)
def test_a_record_for_a_magnet_school_or_team_is_no_price(title):
    """"Magnet" alone is a school or a team as often as a material: its price needs a mineral."""
    assert assess(shipped(), title, "Parents lined up early.").rules == ()


def test_a_magnet_price_with_the_mineral_named_is_a_price_move():
    verdict = assess(shipped(), "NdFeB magnet prices hit record in China", "", kind="sector")
    assert verdict.event_types == ("price_move",) and "mineral-price-frame" in verdict.rules


@pytest.mark.parametrize(
    "title",
    [
        "China puts seven rare earths and magnets under licence in retaliation for US tariffs",
        "China places gallium exports under licence",
    ],
)
def test_minerals_put_under_licence_are_new_controls(title):
    """Licences granted ease controls; minerals put under licence need one from now on: the
    opposite direction, in nearly the same words."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("export_control_new",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


def test_of_one_tariff_moved_two_ways_for_different_countries_chinas_leg_decides():
    """A pause for partners that did not retaliate and a rise for China in one order: for a desk
    trading on US-China trade, the rise is the news."""
    verdict = assess(
        shipped(),
        "Modifying Reciprocal Tariff Rates To Reflect Trading Partner Retaliation and Alignment",
        "Order suspends for 90 days the country-specific reciprocal rates above 10% for partners that have not "
        "retaliated, and raises the reciprocal rate applied to goods of the People's Republic of China to 125 percent.",
        kind="official",
        feed="whitehouse-presidential-actions",
    )
    assert verdict.event_types == ("tariff_up",) and verdict.impacts["F"] == "bearish", verdict.matched


@pytest.mark.parametrize(
    ("title", "controls"),
    [
        ("People's Daily hints China could wield rare earths in trade war with US", True),
        # Company news, but nobody's export controls.
        ("Lynas chief wields influence over the board in strategy reset", False),
    ],
)
def test_rare_earths_wielded_are_a_threat_of_controls(title, controls):
    verdict = assess(shipped(), title, "")
    assert (verdict.event_types == ("export_control_new",)) is controls, verdict.matched
    assert any(frame.instrument == "export_control" for frame in verdict.frames) is controls


@pytest.mark.parametrize(
    "title",
    [
        "Fighting near Chipwi cuts off Myanmar rare earth supply to China",
        "Clashes halt rare earth shipments from Myanmar",
    ],
)
def test_trouble_that_cuts_supply_is_a_disruption(title):
    """The fighting is what acts: what it does to the supply says which way, not a second
    negation ("the shortage eases" is the trouble undone, "fighting cuts off supply" is not)."""
    verdict = assess(shipped(), title, "Border trade was suspended.")
    assert verdict.alert and verdict.event_types == ("supply_disruption",), verdict.matched
    assert verdict.impacts["MP"] == "bullish" and verdict.impacts["F"] == "bearish"


def test_an_anti_subsidy_probe_is_a_trade_remedy_not_a_subsidy():
    verdict = assess(shipped(), "EU launches anti-subsidy probe into Chinese rare earth magnets", "")
    assert verdict.event_types == ("tariff_up",), verdict.matched


@pytest.mark.parametrize(
    ("title", "types"),
    [
        # A government suspending a deal to export restricts exports.
        ("India asks IREL to suspend rare earth export deal with Japan", ("export_control_new",)),
        # Tighter checks on smuggling are controls enforced harder.
        ("Beijing tightens checks on rare earth smuggling", ("export_control_new",)),
    ],
)
def test_exports_stopped_or_policed_by_a_government(title, types):
    verdict = assess(shipped(), title, "Officials gave no timeline.")
    assert verdict.alert and verdict.event_types == types, verdict.matched
    assert verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    "title",
    ["How to trade the rare earth squeeze: an explainer", "Rare earth squeeze deepens as China curbs exports - analysis"],
)
def test_a_headline_that_says_it_is_an_explainer_at_its_end_is_ignored(title):
    assert assess(shipped(), title, "What investors need to know.").rules == ()


@pytest.mark.parametrize(
    ("title", "types", "mp"),
    [
        # A quota is an allowance: a bigger one is less restriction, a smaller one more.
        ("China's rare earth output quota rises 6% this year", ("export_control_eased",), "bearish"),
        ("China raises 2026 rare earth mining quota by 10%", ("export_control_eased",), "bearish"),
        ("China cuts rare earth mining quota for 2026", ("export_control_new",), "bullish"),
        # Imposing one is a restriction all the same (it read as supply added).
        ("China imposes export quota on gallium", ("export_control_new",), "bullish"),
    ],
)
def test_a_quota_moves_the_other_way_from_its_size(title, types, mp):
    verdict = assess(shipped(), title, "The ministry set the figures for the year.")
    assert verdict.alert and verdict.event_types == types, verdict.matched
    assert verdict.impacts["MP"] == mp


@pytest.mark.parametrize(
    ("title", "kind", "alerts"),
    [
        ("Fastmarkets: NdPr oxide assessed at 14-month high on restocking", "sector", True),
        ("Dysprosium slides to 18-month low as magnet demand cools", "sector", True),
    ],
)
def test_a_price_at_a_months_high_or_low_is_a_price_move(title, kind, alerts):
    verdict = assess(shipped(), title, "Chinese prices moved 6% week on week.", kind=kind)
    assert verdict.alert is alerts and verdict.event_types == ("price_move",), verdict.matched


def test_a_carmaker_cutting_rare_earths_from_its_motors_is_bad_for_producers():
    verdict = assess(
        shipped(),
        "Tesla cuts rare earths from next-generation motors",
        "The new drive unit uses no heavy rare earths in its motors.",
    )
    assert verdict.rules == ("designed-out",) and verdict.impacts["MP"] == "bearish"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # The approvals are what the lines wait for, not a licence to export: the lines idle.
        ("Automakers in Europe idle lines waiting for Chinese magnet approvals", "Suppliers say processing has stalled."),
        # Supply stopped to the defence firms; the end users are whom it went to, not a control
        # eased ("were halted" read as end-user controls halted).
        ("China stops supplying rare earths to Japan's defence firms", "Exports to military end users were halted."),
    ],
)
def test_supply_stopped_told_indirectly_is_a_disruption(title, summary):
    verdict = assess(shipped(), title, summary)
    assert verdict.alert and verdict.event_types == ("supply_disruption",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "types", "ticker", "direction"),
    [
        # Exports that hit a record reached it: more supply, not less.
        ("Chinese magnet exports to US hit record in October", None, "MP", "bearish"),
        # Easing of exports lets the flow go; the shares fall on it.
        ("MP Materials falls as China signals easing of magnet exports", {"export_control_eased", "price_move"}, "MP", "bearish"),
        # A share sale is new shares at a discount: bad for holders.
        ("USA Rare Earth to raise $500 million in share sale", ("corporate",), "USAR", "bearish"),
        # Money a company warns it needs is new shares or debt to come.
        ("Northern Minerals warns it may need new funds as China-linked holders defy sell-down order",
         ("corporate",), "NTU.AX", "bearish"),
    ],
)
def test_words_that_read_the_other_way_in_context(title, types, ticker, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.impacts[ticker] == direction, (verdict.event_types, verdict.matched)
    if isinstance(types, set):
        assert verdict.event_types and set(verdict.event_types) <= types, verdict.event_types
    elif types is not None:
        assert verdict.event_types == types


@pytest.mark.parametrize(
    "title",
    ["China's top court upholds conviction in rare earth smuggling case", "Three jailed in US for smuggling gallium to China"],
)
def test_a_smuggler_convicted_is_no_new_control(title):
    assert not assess(shipped(), title, "The sentence was 10 years.").alert


def test_a_government_funding_a_companys_expansion_is_the_government_acting():
    """"Lynas's expansion" names whose project it is; Japan funds it: government money."""
    verdict = assess(shipped(), "Japan to fund Lynas heavy rare earth expansion with $100 million", "")
    assert verdict.event_types == ("gov_funding",) and verdict.impacts["LYC.AX"] == "bullish", verdict.matched


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        ("Pentagon sells its stake in MP Materials", "bearish"),
        ("Pentagon doubles stake in MP Materials", "bullish"),
    ],
)
def test_a_stake_sold_is_money_taken_out(title, direction):
    verdict = assess(shipped(), title, "The Defense Department traded preferred shares.")
    assert verdict.alert and verdict.impacts["MP"] == direction, verdict.matched


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("US-China trade talks stall over rare earths", "No date was set for the next round."),
        ("Trump and Xi agree to restart trade talks, hold off new tariffs", "Both sides will return to negotiations."),
    ],
)
def test_trade_talks_are_negotiations_not_a_flow_of_goods(title, summary):
    """Talks that stall are no supply cut; talks restarted are a deal in the making."""
    verdict = assess(shipped(), title, summary)
    assert "supply_disruption" not in verdict.event_types, verdict.matched
    assert all(frame.instrument != "supply" for frame in verdict.frames)


def test_a_chip_rule_warning_of_entity_list_designations_does_not_alert():
    """A BIS rule on AI chips that says diverting them "may lead to Entity List designations":
    chips, a warning, and no listing of anyone."""
    verdict = assess(
        shipped(),
        "Advanced Computing Items: Revised License Review Policy and Reporting Requirements for Data Center Exports",
        "BIS revises the license review policy for exports of advanced AI chips such as high-bandwidth GPU "
        "accelerators to data centers outside allied countries, adds a quarterly reporting duty for validated end "
        "users, and warns that diverting such chips to restricted parties may lead to Entity List designations.",
        kind="official",
        feed="federalregister-bis-rules",
    )
    assert not verdict.alert, (verdict.rules, verdict.matched)


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        ("Canada fast-tracks two rare earth mines", True),
        ("US opens federal lands to critical minerals mining", True),
        ("India to boost rare earth mining with new state-run projects", True),
        ("Brazil speeds up permits for rare earth mines", True),
        # Not a state growing its own supply: imports, China's own output, another commodity.
        ("US boosts imports of rare earths from Australia", False),
        ("Canada boosts oil sands output", False),
        ("World's most powerful MRI magnet produced in France delivers first images", False),
    ],
)
def test_a_government_growing_its_own_mineral_supply_is_support(title, alerts):
    """Fast-tracking mines, opening land to mining or boosting output is a state backing its
    producers, as money is: the producers gain. Producing or importing is no such act."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, (verdict.rules, verdict.matched)
    if alerts:
        assert verdict.event_types == ("gov_funding",), verdict.matched
        assert verdict.impacts["MP"] == "bullish" and verdict.impacts["LYC.AX"] == "bullish"


@pytest.mark.parametrize(
    "title",
    [
        "Greenland opens tender for rare earth exploration licences",
        "Malaysia revokes mining licences of illegal rare earth miners",
    ],
)
def test_a_licence_to_explore_or_mine_is_no_export_licence(title):
    """An exploration or mining licence lets a company dig, not ship: opening a tender for them
    is not China (or anyone) easing export controls."""
    verdict = assess(shipped(), title, "")
    assert not {"export_control_eased", "export_control_new"} & set(verdict.event_types), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        ("China extends suspension of rare earth export curbs until end-2026", "export_control_eased", "bearish"),
        ("China extends suspension of rare earth export curbs to year-end", "export_control_eased", "bearish"),
        ("China extends suspension of rare earth export curbs until the end of 2026", "export_control_eased", "bearish"),
        # "End" as a verb still ends the pause.
        ("China to end suspension of rare earth export curbs", "export_control_new", "bullish"),
    ],
)
def test_end_in_a_date_does_not_end_anything(title, event_type, mp):
    """"until end-2026" says how long the suspension lasts; read as "ends", it flipped an
    extension into curbs coming back."""
    verdict = assess(shipped(), title, "")
    assert verdict.event_types == (event_type,) and verdict.impacts["MP"] == mp, verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        "China rejects report it plans rare earth export ban",
        "China dismisses reports of new rare earth export curbs",
        "China denies report it plans rare earth export ban",
    ],
)
def test_a_report_rejected_is_denied(title):
    """A government rejecting or dismissing a report of new curbs denies them, as "denies"
    does: not curbs announced."""
    verdict = assess(shipped(), title, "")
    assert "export_control_new" not in verdict.event_types, verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "directions"),
    [
        # A restriction doubted is denied, as "has no plans to" is: not one announced.
        ("China unlikely to restrict rare earth exports, analysts say", "export_control_eased", {"MP": "bearish"}),
        ("Beijing seen unlikely to tighten rare earth curbs before summit", "export_control_eased", {"MP": "bearish"}),
        ("US unlikely to raise tariffs on Chinese magnets, official says", "tariff_down", {"MP": "bearish"}),
        # Anything else doubted is only forecast: the project is in doubt, not undone.
        ("Lynas says Texas processing plant unlikely to proceed", "corporate", {"LYC.AX": "neutral"}),
        # A threat is still a restriction coming.
        ("China may restrict rare earth exports", "export_control_new", {"MP": "bullish"}),
    ],
)
def test_a_restriction_said_to_be_unlikely_is_denied(title, event_type, directions):
    assert_reads(title, event_type, directions)


@pytest.mark.parametrize(
    ("title", "summary", "event_type"),
    [
        (
            "Why is Critical Metals Corp's stock soaring premarket?",
            "The U.S. is eyeing a stake in the company to gain access to its Greenland project, a report said.",
            "gov_funding",
        ),
        (
            "Why did the Arafura share price plunge 19% today?",
            "Arafura raised A$100 million in a placement priced at a steep discount to its last close.",
            "corporate",
        ),
        # Nothing in the first sentence explains the move: it stays a price move.
        ("Why is Critical Metals Corp's stock soaring premarket?", "Shares were up 30% before the open.", "price_move"),
    ],
)
def test_a_share_move_takes_its_cause_from_the_first_sentence(title, summary, event_type):
    """A headline that only asks why shares moved leaves the news to the first sentence: a stake
    the government is eyeing, a discounted raising."""
    verdict = assess(shipped(), title, summary)
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "ticker", "direction"),
    [
        ("Malaysia relaxes Lynas licence, allowing feedstock imports until 2026", "corporate", "LYC.AX", "bullish"),
        ("Malaysia plant makes Lynas the sole heavy rare earths producer outside China", "corporate", "LYC.AX", "bullish"),
        ("US-backed Lynas opens Texas rare earths plant", "corporate", "LYC.AX", "bullish"),
        ("Lynas lands A$200 million from Japan, gives Tokyo priority rights to supply", "gov_funding", "LYC.AX", "bullish"),
        ("Lynas flags 'significant uncertainty' over Texas heavy rare earths plant", "corporate", "LYC.AX", "bearish"),
    ],
)
def test_a_producers_own_licence_plant_and_money(title, event_type, ticker, direction):
    """A licence relaxed is more allowed; a plant that makes a producer the only one outside China
    is its good news; who backs a company describes it, the act is what it does; money from a
    government is public money; doubt over a plant is a setback."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts[ticker] == direction, verdict.impacts


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        ("US eyes stake in Critical Metals", True),
        ("China eyes curbs on rare earth technology exports", True),
        ("Investors eye rare earth stocks as talks near", False),
    ],
)
def test_eyeing_is_a_plan(title, alerts):
    """"Eyes a stake" is a stake planned; a price that investors eye has not moved."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert any(frame.action.startswith("eye") for frame in verdict.frames), verdict.frames


@pytest.mark.parametrize(
    ("title", "summary", "event_type"),
    [
        ("Europe's magnesium stocks run low", "", "supply_disruption"),
        ("Magnet stocks could run out by November, carmakers say", "", "supply_disruption"),
        # Shares are still stocks: a sector's stocks that rally moved in price.
        ("Rare earth stocks rally as NdPr prices climb", "", "price_move"),
        (
            "Magnet makers lift Shanghai after presidential visit",
            "Chinese equities climbed as makers of rare-earth magnetic materials extended their surge.",
            "price_move",
        ),
    ],
)
def test_stocks_that_run_low_are_inventories_and_equities_are_shares(title, summary, event_type):
    """A material's stocks that run low are inventories running out, not share prices falling;
    "equities" that climb are shares, not an equity stake."""
    verdict = assess(shipped(), title, summary)
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


def test_a_company_known_by_a_name_the_rules_take_only_in_context_acts_in_a_frame():
    """"Neo" is ambiguous to the rules (it needs a context word); written with its capital in a
    clause about a magnet plant, it is Neo Performance opening the plant: good news for it."""
    verdict = assess(shipped(), "Neo opens Estonian magnet plant to cut Europe's reliance on China", "")
    assert verdict.event_types == ("corporate",) and verdict.impacts["NEO.TO"] == "bullish", verdict.matched
    assert verdict.frames[0].actor == "NEO.TO"


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        ("USA Rare Earth jumps after Pentagon deal talk", "gov_funding"),
        ("Lynas rises as Japan signs supply deal", "gov_funding"),
        # Two governments: a pact between them, policy whose move the headline leads with.
        ("MP Materials soars after US-Australia minerals pact", "price_move"),
    ],
)
def test_one_governments_deal_behind_a_share_move_is_its_deal_with_the_company(title, event_type):
    """A company's shares that move on one government's deal move on that government's deal with
    the company (money or an offtake), not on a pact between governments."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        ("China drops requirement for licences on rare earth exports to EU", "export_control_eased", "bearish"),
        ("China imposes requirement for licences on gallium exports", "export_control_new", "bullish"),
        ("China revokes general licences for some magnet exporters", "export_control_new", "bullish"),
        ("Beijing slows rare earth licence approvals for US chipmakers", "supply_disruption", "bullish"),
        ("US ITC votes against duties on Chinese graphite, ending case", "tariff_down", "bearish"),
        ("Trade court rules against Trump's emergency tariffs", "legal", "bearish"),
    ],
)
def test_licences_required_revoked_or_slowed_and_duties_voted_down(title, event_type, mp):
    """A "requirement for licences" is a control, so dropping it eases; revoking licences is a
    tightening; approvals slowed are a hold-up; a commission voting against duties, or a court
    ruling against tariffs, takes them away."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["MP"] == mp, verdict.matched


def test_a_rally_that_slows_is_no_fall():
    """"The rally slows": prices still rising, more slowly; no fall is read into it."""
    verdict = assess(shipped(), "Rare earth price rally slows", "")
    assert all(frame.polarity != "down" for frame in verdict.frames), verdict.frames


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        ("Syrah lifts force majeure at Balama graphite mine", "bullish"),
        ("Syrah declares force majeure at Balama", "bearish"),
    ],
)
def test_force_majeure_lifted_is_the_trouble_gone(title, direction):
    """Lifting output raises it, but lifting a force majeure ends the trouble: supply is back."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.impacts["SYR.AX"] == direction, verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        ("Beijing pauses its rare-earth 'FDPR' - but the April licences stay", "export_control_eased"),
        ("China imposes its own foreign direct product rule on rare earths", "export_control_new"),
    ],
)
def test_a_foreign_direct_product_rule_is_an_export_control(title, event_type):
    """The foreign direct product rule (FDPR) reaches goods made abroad with a country's inputs:
    an export control, paused or imposed."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "summary", "alerts"),
    [
        # The Federal Register publishes for every agency: a "rule" on magnets from an agency
        # nobody names is not an export control (here a safety standard for toys).
        (
            "Safety Standard for Magnets",
            "The Consumer Product Safety Commission issues a rule establishing a mandatory safety standard for "
            "products containing loose magnets, to cut injuries from children swallowing them.",
            False,
        ),
        # The Export Administration Regulations are the US export controls, whoever publishes them.
        ("Export Administration Regulations: Rare Earth Magnets", "", True),
    ],
)
def test_a_federal_register_rule_is_an_export_control_only_when_it_says_so(title, summary, alerts):
    verdict = shipped().assess(
        title, summary, Source(name="federal-register", kind="official", weight=SOURCE_WEIGHTS["official"]),
        link="https://www.federalregister.gov/documents/2025/01/16/2025-00001/x",
    )
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.event_types == ("export_control_new",)


@pytest.mark.parametrize(
    ("title", "alerts", "event_type"),
    [
        ("Lutnick: US will not lift chip curbs as part of China deal", False, None),
        ("Trade truce under strain as China delays magnet shipments", True, "export_control_new"),
        ("US-China truce frays as Beijing slows rare earth licences", True, "supply_disruption"),
    ],
)
def test_a_truce_under_strain_is_no_truce_and_chip_curbs_kept_are_not_the_desks(title, alerts, event_type):
    """A truce "under strain" or "fraying" is no de-escalation: what strains it is the news. Chip
    curbs kept in a deal are chip policy."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.event_types == (event_type,) and verdict.impacts["MP"] == "bullish", verdict.matched


@pytest.mark.parametrize(
    ("title", "alerts", "mp"),
    [
        # A US-China truce undone is the truce's news, the other way round: the fight resumes.
        ("US-China trade truce collapses", True, "bullish"),
        ("US-China trade truce under strain over rare earths", True, "bullish"),
        ("US-China trade talks stall over rare earths", True, "bullish"),
        ("US and China end trade truce", True, "bullish"),
        ("US and China sign trade agreement", True, "bearish"),
        # Pacts on other affairs, made or broken, are no trade truce.
        ("US and China sign climate agreement", False, None),
        ("US-China climate agreement collapses", False, None),
        ("US and China end student exchange agreement", False, None),
        ("US-China science and technology agreement lapses", False, None),
    ],
)
def test_a_truce_undone_resumes_the_fight_and_pacts_on_other_affairs_are_no_truce(title, alerts, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.event_types == ("truce",) and verdict.impacts["MP"] == mp, verdict.matched
        assert verdict.impacts["F"] == ("bearish" if mp == "bullish" else "bullish")


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        ("China to require rare earth exporters to report buyers' identities", True),
        ("China requires gallium exporters to disclose end users", True),
        # A duty on exporters of another trade's goods is not the desk's.
        ("US requires exporters to file more paperwork for soybeans", False),
        ("Rare earth exporters report record sales", False),
    ],
)
def test_a_duty_laid_on_exporters_is_an_export_control(title, alerts):
    """A government requiring exporters to report or disclose is controlling exports, though no
    licence or ban is named."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.event_types == ("export_control_new",), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "ticker", "direction"),
    [
        ("MP Materials stock hits all-time high", "price_move", "MP", "bullish"),
        ("Court of International Trade orders refunds of IEEPA tariffs", "legal", "F", "bullish"),
        ("WTO panel rules Indonesia's nickel ore export ban breaks trade rules", "legal", None, None),
    ],
)
def test_all_time_highs_refunds_and_wto_panels(title, event_type, ticker, direction):
    """An all-time high is a move up; tariffs refunded are tariffs undone; a WTO panel rules as a
    court does."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    if ticker:
        assert verdict.impacts[ticker] == direction, verdict.impacts


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        ("Lynas secures Korean offtake for heavy rare earths", "corporate"),
        ("Arafura signs German offtake for Nolans NdPr", "corporate"),
        # A country's loan is its government's money.
        ("Lynas wins US loan for Texas plant", "gov_funding"),
    ],
)
def test_a_countrys_offtake_is_a_buyer_from_there_its_loan_is_public_money(title, event_type):
    """"A Korean offtake" names where the buyer is; "a US loan" whose money it is."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "ticker", "direction"),
    [
        ("China vows to strengthen rare earth export enforcement", "export_control_new", "MP", "bullish"),
        ("China to set up rare earth tracking system for exports", "export_control_new", "MP", "bullish"),
        ("AXT says China permit delays will hit quarterly revenue", "supply_disruption", "AXTI", "bearish"),
    ],
)
def test_enforcement_tracking_and_delays_that_hit(title, event_type, ticker, direction):
    """Export enforcement strengthened and a tracking system for exports are controls; permit
    delays that "will hit revenue" are delays, the revenue is what they hit."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts[ticker] == direction, verdict.impacts


@pytest.mark.parametrize(
    ("title", "event_type", "axti"),
    [
        ("China keeps gallium export ban despite truce", "export_control_new", "bearish"),
        ("China keeps gallium export ban suspended", "export_control_eased", "bullish"),
        ("China exempts EU carmakers from gallium licence checks", "export_control_eased", "bullish"),
        ("China tightens licence checks on gallium exports", "export_control_new", "bearish"),
    ],
)
def test_a_ban_kept_despite_a_truce_and_licence_checks(title, event_type, axti):
    """A ban China "keeps" despite a truce is the news, not the truce; licence checks are a
    control, so an exemption from them eases."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["AXTI"] == axti, verdict.impacts


@pytest.mark.parametrize(
    ("title", "summary", "event_type"),
    [
        ("Commission proposes export restrictions on permanent magnet scrap", "", "export_control_new"),
        # What a ministry "said on Thursday that" it would do is the news, not background.
        (
            "Beijing moves on minerals again",
            "China's commerce ministry said on Thursday that it would suspend export controls on gallium.",
            "export_control_eased",
        ),
        (
            "Presidential Determination Pursuant to Section 303 of the Defense Production Act",
            "The President determines that action to expand domestic production of rare earth magnets is essential "
            "to the national defense.",
            "gov_funding",
        ),
        ("EU to set up raw materials centre, curb magnet scrap exports in push to cut China reliance", "", None),
    ],
)
def test_scrap_that_clauses_and_reliance(title, summary, event_type):
    """Magnet scrap is a material, not "scrap" the verb; a reporting verb's "that" clause is the
    news even after "on Thursday"; "in a push to cut China reliance" cuts the reliance, not the
    curbs before it."""
    verdict = shipped().assess(
        title, summary, Source(name="whitehouse-presidential-actions" if "Determination" in title else "wire",
                               kind="official" if "Determination" in title else "wire", weight=1.0),
    )
    assert verdict.alert, verdict.matched
    if event_type:
        assert verdict.event_types == (event_type,), verdict.matched
        # The frame read decided (the "why" ends with it), not a phrase rule alone.
        assert any(m.startswith("frame: ") and "contradictory" not in m for m in verdict.matched), verdict.matched
    else:
        assert "export_control_eased" not in verdict.event_types, verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        "China's new rare earth rules take effect on Dec 1",
        "China's new rules on rare earth exports take effect",
        "Beijing's measures on gallium to apply from August",
    ],
)
def test_a_governments_own_rules_on_minerals_are_controls(title):
    """"China's new rare earth rules": the government that owns the rules issued them, and rules
    over exports govern the flow rather than being one."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("export_control_new",), verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        "Japan to subsidise rare earth mining off Minamitorishima",
        "US to subsidize domestic magnet production",
        "Pentagon to bankroll new rare earth refinery",
    ],
)
def test_subsidising_is_funding(title):
    """A government that subsidises or bankrolls mining or a refinery funds it."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched


@pytest.mark.parametrize(
    ("title", "summary", "event_type", "mp"),
    [
        # The plant makes trucks; what it lacks is the magnets the sentence names after "because".
        (
            "Another blow for Detroit",
            "General Motors said it would idle its Fort Wayne truck plant next week because suppliers "
            "cannot get rare earth magnets.",
            "supply_disruption",
            "bullish",
        ),
        # Trade measures the two powers pause are their tariffs: a truce.
        (
            "Markets cheer Kuala Lumpur handshake",
            "The United States and China agreed to pause their latest trade measures for a year after "
            "leaders met on the sidelines of the ASEAN summit.",
            "truce",
            "bearish",
        ),
        # Guards: a plant idled for chips, trade measures between other parties.
        ("GM idles truck plant over chip shortage", "", None, None),
        ("China announces trade measures against Japan over Taiwan remarks", "", None, None),
    ],
)
def test_a_vague_headline_takes_its_event_from_the_first_sentence(title, summary, event_type, mp):
    verdict = assess(shipped(), title, summary)
    assert verdict.alert is (event_type is not None), verdict.matched
    if event_type:
        assert verdict.event_types == (event_type,) and verdict.impacts["MP"] == mp, verdict.matched


@pytest.mark.parametrize(
    ("title", "summary", "ticker", "direction"),
    [
        # A project or its construction stopped or resumed is the company's supply: its news.
        (
            "Bad week for Perpetua",
            "Perpetua Resources said a federal judge paused work on its Stibnite antimony project pending "
            "an environmental review.",
            "PPTA",
            "bearish",
        ),
        ("Judge halts Perpetua's Stibnite antimony project", "", "PPTA", "bearish"),
        ("Court lets Perpetua resume Stibnite construction", "", "PPTA", "bullish"),
    ],
)
def test_a_court_that_stops_a_companys_project_is_the_companys_news(title, summary, ticker, direction):
    """A court halting a mine is a setback for its owner, not a ruling on tariffs or controls."""
    verdict = assess(shipped(), title, summary)
    assert verdict.alert and verdict.event_types == ("corporate",), verdict.matched
    assert verdict.impacts[ticker] == direction


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        ("Chinese magnet makers win first year-long general export licences", "export_control_eased"),
        ("Beijing's new rule starts a licence clock for magnet makers outside China", "export_control_new"),
    ],
)
def test_magnet_makers_say_what_the_licences_are_for(title, event_type):
    """A clause that names no goods but names magnet makers is about their magnets."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        "Rare earths: Myanmar-China border shut again weeks after reopening",
        "Myanmar shuts border to rare-earth ore shipments into China",
    ],
)
def test_a_border_shut_to_ore_is_a_disruption(title):
    """A border is a flow of goods: shut, the ore stops."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("supply_disruption",), verdict.matched
    assert verdict.impacts["LYC.AX"] == "bullish"


def test_a_wire_services_lead_tag_is_not_the_metal():
    """Yonhap's "(LEAD)" marks an updated story; read as the metal lead it made the truce a deal
    about other commodities."""
    verdict = assess(shipped(), "(LEAD) US, China to restart trade talks; Washington to refrain from new levies: Xinhua", "")
    assert verdict.alert and verdict.event_types == ("truce",), verdict.matched


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        # "Neo-" as a prefix is no company; Neo acting is.
        ("Neo-liberal critics slam magnet plant subsidies", False),
        ("Neo opens magnet plant in Estonia", True),
        # How much changes hands is not a price.
        ("Trading picks up in rare earth stocks", False),
        ("Volume surges in rare earth stocks", False),
        ("Rare earth stocks surge in early trading", True),
    ],
)
def test_a_prefix_and_trading_volume_are_not_what_they_look_like(title, alerts):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # Beijing's approvals, in a sentence about magnets, are its export licences.
        ("Magnet shortage eases as Chinese approvals pick up", "export_control_eased"),
        # Approvals of new mines are not.
        ("Chinese approvals for new rare earth mines rise", None),
    ],
)
def test_chinas_approvals_are_export_licences_unless_of_mines(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is (event_type is not None), verdict.matched
    if event_type:
        assert verdict.event_types == (event_type,) and verdict.impacts["MP"] == "bearish"


@pytest.mark.parametrize(
    ("title", "ticker", "direction"),
    [
        # A company's results say which way its news goes, though they name a loss or a guidance.
        ("Lynas misses production guidance as Kalgoorlie ramp-up lags", "LYC.AX", "bearish"),
        ("MP Materials narrows loss as magnet output ramps", "MP", "bullish"),
        ("MP Materials posts wider loss", "MP", "bearish"),
        ("Lynas quarterly revenue jumps on higher NdPr prices", "LYC.AX", "bullish"),
        ("Lynas revenue falls 20% on weak prices", "LYC.AX", "bearish"),
        ("Lynas upgraded to buy by Macquarie", "LYC.AX", "bullish"),
    ],
)
def test_a_companys_results_and_ratings_set_its_direction(title, ticker, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("corporate",), verdict.matched
    assert verdict.impacts[ticker] == direction


@pytest.mark.parametrize(
    "title",
    ["Commerce delays affiliates rule by 60 days", "Commerce postpones affiliates rule", "Commerce suspends affiliates rule for a year"],
)
def test_the_affiliates_rule_delayed_is_a_listing_paused(title):
    """Delayed or suspended, the rule that reached Chinese subsidiaries steps back: an easing."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("entity_list",), verdict.matched
    assert verdict.impacts["MP"] == "bearish" and verdict.impacts["F"] == "bullish"


@pytest.mark.parametrize(
    ("title", "event_type", "f"),
    [
        # Exports tightened are fewer exports let out: a control, not an easing.
        ("China tightens rare earth exports", "export_control_new", "bearish"),
        ("China tightens exports of gallium", "export_control_new", "bearish"),
        # Supply that tightens is less supply: the cause of a price record hurts carmakers.
        ("Tungsten prices hit record high as Chinese supply tightens", "price_move", "bearish"),
    ],
)
def test_exports_or_supply_tightened_are_less_of_them(title, event_type, f):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["MP"] == "bullish" and verdict.impacts["F"] == f


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # A flow named after its goods is a noun: an unknown verb before them says nothing of
        # which way, so no easing is read into it.
        ("China caps rare earth exports to the US", None),
        # Watching over exports holds them back.
        ("China scrutinises rare earth exports to the US", "export_control_new"),
        ("China cracks down on rare earth exports to the US", "export_control_new"),
        ("China turns the screws on rare earth exports", "export_control_new"),
        # A lid kept or a cap put on a flow holds it down (the bare verb "caps" stays unread above).
        ("China keeps a lid on rare earth exports", "export_control_new"),
        ("China puts a cap on rare earth exports", "export_control_new"),
        ("China cracks down on rare earth smuggling", "export_control_new"),
        # The flow's own verb after its actor still acts.
        ("China exports more rare earths to US", "export_control_eased"),
        # Trimmed is cut.
        ("US trims tariffs on Chinese rare earth magnets", "tariff_down"),
        ("China trims rare earth exports", "export_control_new"),
    ],
)
def test_a_flow_named_after_its_goods_is_not_its_own_verb(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is (event_type is not None), verdict.matched
    if event_type:
        assert verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        "China rejects export licences for rare earth magnets",
        "China tightens export licences for rare earth magnets",
        "China scrutinises export licences for rare earth magnets",
    ],
)
def test_licences_rejected_or_tightened_are_fewer(title):
    """Licences rejected, tightened or scrutinised hold supply up: never an easing."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types[0] in ("supply_disruption", "export_control_new"), verdict.matched
    assert verdict.impacts["MP"] == "bullish" and verdict.impacts["F"] == "bearish"


@pytest.mark.parametrize(
    ("title", "mp"),
    [
        # Money pulled or a stake exited is support withdrawn; a bail-out is support given.
        ("Pentagon pulls funding from MP Materials", "bearish"),
        ("Pentagon exits stake in MP Materials", "bearish"),
        ("Pentagon bails out MP Materials", "bullish"),
    ],
)
def test_public_money_pulled_out_or_put_in(title, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched
    assert verdict.impacts["MP"] == mp


def test_a_government_that_pulls_out_of_a_pact_undoes_the_partnership():
    """Not a new pact: the partnership's news the other way, as a truce that collapses is."""
    verdict = assess(shipped(), "UK pulls out of minerals pact", "")
    assert verdict.event_types == ("partnership",), verdict.matched
    assert verdict.impacts["MP"] == "bearish"


@pytest.mark.parametrize(
    ("title", "ticker"),
    [
        # A company taken off, spared or escaping a list gains; the sector loses its edge.
        ("US removes Shenghe from Entity List", "600392.SS"),
        ("US takes Shenghe off Entity List", "600392.SS"),
        ("Shenghe escapes Entity List", "600392.SS"),
        ("US spares Shenghe from Entity List", "600392.SS"),
        ("China removes Lockheed from unreliable entity list", "LMT"),
    ],
)
def test_a_company_taken_off_a_list_gains(title, ticker):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("entity_list",), verdict.matched
    assert verdict.impacts[ticker] == "bullish"


def test_prices_that_take_off_still_rise():
    verdict = assess(shipped(), "Rare earth prices take off", "")
    assert verdict.alert and verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        ("NdPr prices retreat", "bearish"),
        ("NdPr prices extend losses", "bearish"),
        ("NdPr prices extend gains", "bullish"),
        ("NdPr prices pare gains", "bearish"),
        ("NdPr prices dragged down by weak demand", "bearish"),
        ("NdPr rally fizzles", "bearish"),
        ("NdPr prices recover", "bullish"),
        ("NdPr prices weaken", "bearish"),
        ("NdPr prices buoyed by restocking", "bullish"),
    ],
)
def test_the_words_of_a_price_move_say_which_way(title, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("price_move",), verdict.matched
    assert verdict.impacts["MP"] == direction


def test_a_company_that_recovers_from_an_outage_is_past_its_trouble():
    verdict = assess(shipped(), "Lynas recovers from Malaysian plant outage", "")
    assert verdict.alert and verdict.impacts["LYC.AX"] == "bullish", verdict.matched


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        # However the headline says a company's shares went, the move is the news and says which way.
        ("MP Materials shares retreat", "bearish"),
        ("MP Materials shares rebound", "bullish"),
        ("MP Materials shares hit 52-week low", "bearish"),
        ("MP Materials shares double", "bullish"),
        ("MP Materials shares falter", "bearish"),
        ("MP Materials shares crater", "bearish"),
    ],
)
def test_a_companys_shares_moving_is_a_price_move_its_way(title, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("price_move",), verdict.matched
    assert verdict.impacts["MP"] == direction


@pytest.mark.parametrize(
    "title",
    ["China dials back export controls on gallium", "China repeals export controls on gallium",
     "China abolishes export controls on gallium", "China waters down rare earth export curbs",
     "China dilutes rare earth export curbs"],
)
def test_controls_dialled_back_or_repealed_are_eased(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("export_control_eased",), verdict.matched


def test_doubling_down_on_curbs_keeps_them_and_is_no_price_doubling():
    verdict = assess(shipped(), "China doubles down on rare earth export curbs", "")
    assert verdict.alert and verdict.event_types == ("export_control_new",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        ("Trump walks back China tariff threat", "tariff_down"),
        ("Trump says China tariffs will come down substantially", "tariff_down"),
        ("Bessent says China tariffs unsustainable", "tariff_down"),
        ("US tempers tariffs on Chinese goods", "tariff_down"),
        ("US tones down tariffs on Chinese goods", "tariff_down"),
        ("US reins in tariffs on Chinese goods", "tariff_down"),
        ("US puts the brakes on tariffs on Chinese goods", "tariff_down"),
        ("US sunsets tariffs on Chinese goods", "tariff_down"),
        # Coming down hard on smuggling is enforcement, not an easing.
        ("China comes down hard on rare earth smuggling", "export_control_new"),
    ],
)
def test_tariffs_walked_back_or_coming_down(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # An agreement reached on tariffs is a deal; one the two fail to reach is the fight going on.
        ("US and China reach agreement on tariffs", "truce", "bearish"),
        ("US and China reach tariff agreement", "truce", "bearish"),
        ("US and China fail to reach agreement", "truce", "bullish"),
        ("US raises tariffs on China despite trade agreement", "tariff_up", "bullish"),
    ],
)
def test_an_agreement_reached_or_not_on_tariffs(title, event_type, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["MP"] == mp


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        # A shortage that eases is trouble passing, not a new disruption.
        ("Shortage of rare earth magnets eases for carmakers", False),
        # A shortage given as the reason output was cut is the disruption, not its undoing.
        ("Indian EV makers cut output on magnet shortage", True),
        ("Ford halts Explorer production on rare earth shortage", True),
    ],
)
def test_a_shortage_easing_or_blamed(title, alerts):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.event_types == ("supply_disruption",) and verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # A wire's label before the headline is no verb: China still acts.
        ("UPDATE 2-China halts rare earth exports to US", "export_control_new"),
        ("EXCLUSIVE-China weighs curbs on rare earth technology exports", "export_control_new"),
        # Factboxes, timelines and insight pieces explain; they report no new event.
        ("Factbox: What are China's rare earth export controls?", None),
        ("Timeline: China's rare earth export controls", None),
        ("Insight: Inside China's rare earth licensing machine", None),
    ],
)
def test_wire_labels_and_explainers(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is (event_type is not None), verdict.matched
    if event_type:
        assert verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "ticker"),
    [
        ("Brazil offers tax breaks for rare earth projects", "gov_funding", "MP"),
        # A company that partners or teams up with another makes a deal: its news, good for it.
        ("Saudi Arabia's Maaden partners with MP Materials on rare earths", "corporate", "MP"),
        ("Lynas teams up with Texas utility", "corporate", "LYC.AX"),
    ],
)
def test_tax_breaks_and_partnering(title, event_type, ticker):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts[ticker] == "bullish"


def test_ex_im_written_short_is_the_export_import_bank():
    verdict = assess(shipped(), "NioCorp rallies on Ex-Im letter of interest", "")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched
    assert verdict.impacts["NB"] == "bullish"


@pytest.mark.parametrize("title", ["MP Materials included in S&P 500", "MP Materials to be added to S&P MidCap 400"])
def test_a_company_joining_an_index_is_good_news_for_it(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.impacts["MP"] == "bullish", verdict.matched


def test_a_spokespersons_briefing_takes_its_news_from_what_was_said():
    """"Answers reporters' questions on export control measures" is a briefing, not controls
    imposed: the first sentence says which way."""
    verdict = assess(
        shipped(),
        "MOFCOM Spokesperson Answers Reporters' Questions on Export Control Measures for Rare Earth Items",
        "The spokesperson said China had approved a number of compliant export licence applications for rare earths.",
        kind="official",
    )
    assert verdict.alert and verdict.event_types == ("export_control_eased",), verdict.matched
    assert verdict.impacts["MP"] == "bearish"


@pytest.mark.parametrize(
    ("title", "mp"),
    [
        # A reserve released or drawn down is stock sold into the market; one added to is bought.
        ("US releases antimony from strategic reserve", "bearish"),
        ("Japan draws down rare earth stockpile", "bearish"),
        ("US adds antimony to strategic reserve", "bullish"),
        # Funding stripped is support cut.
        ("Congress strips funding for critical minerals stockpile", "bearish"),
    ],
)
def test_a_reserve_released_sells_and_one_filled_buys(title, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched
    assert verdict.impacts["MP"] == mp


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # Rejected is turned down: a bid to halt tariffs rejected leaves them; tariffs rejected go.
        ("Court rejects bid to halt tariffs", "legal", "bullish"),
        ("Supreme Court rejects Trump's tariffs", "legal", "bearish"),
        ("ITC rejects duties on Chinese graphite", "tariff_down", "bearish"),
        ("US and China reject truce proposal", "truce", "bullish"),
    ],
)
def test_what_is_rejected_is_turned_down(title, event_type, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["MP"] == mp


def test_an_appeal_rejected_is_the_appellants_setback():
    verdict = assess(shipped(), "Malaysia rejects Lynas appeal", "")
    assert verdict.alert and verdict.impacts["LYC.AX"] == "bearish", verdict.matched


@pytest.mark.parametrize(
    ("title", "mp"),
    [
        # A pact China makes does nothing for producers outside China; the West's pacts help them.
        ("China and Russia sign rare earth cooperation pact", "neutral"),
        ("China signs rare earth deal with Malaysia", "neutral"),
        ("US and Australia sign critical minerals pact", "bullish"),
        ("US moves to counter China on minerals with new Kazakhstan pact", "bullish"),
    ],
)
def test_a_pact_of_chinas_is_not_the_wests(title, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("partnership",), verdict.matched
    assert verdict.impacts["MP"] == mp


@pytest.mark.parametrize("title", ["China injects $2 billion into China Rare Earth Group", "Beijing subsidises rare earth magnet makers"])
def test_beijing_backing_its_own_lifts_chinese_producers_not_the_wests(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched
    assert verdict.impacts["600111.SS"] == "bullish" and verdict.impacts["MP"] == "neutral"


@pytest.mark.parametrize(
    ("title", "summary", "ticker", "alerts"),
    [
        # "ASM" needs context: the company's full name in the text gives it.
        (
            "ASM raises A$50.8m in placement priced 25.5% below last close",
            "Australian Strategic Materials is issuing 42.3 million shares at A$1.20, a steep discount to its "
            "last traded price, to fund the expansion of its Korean Metals Plant.",
            "ASM.AX",
            True,
        ),
        ("ASM raises A$50.8m in placement", "ASM International, the Dutch chip equipment maker, is issuing new shares.",
         "ASM.AX", False),
        # A placement the headline names as the company's, though the company does not act in it.
        ("Terms out for Lynas' $425m placement and entitlement offer", "", "LYC.AX", True),
        # "Why ... fell 23%": a share move by its figure happened.
        ("Why Arafura shares fell 23% despite securing A$475 million in funding", "", "ARU.AX", True),
    ],
)
def test_company_names_placements_and_share_moves_from_blind_batch_ak(title, summary, ticker, alerts):
    verdict = assess(shipped(), title, summary)
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.impacts[ticker] == "bearish", verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # "Speed" approvals is to grant them faster, as "speed up" is.
        ("China willing to set up green channel to speed rare earth export approvals for EU firms",
         "export_control_eased", "bearish"),
        # After "but", the point: the US flow stays at zero.
        ("China's December antimony exports recover, but US shipments stay at zero", "supply_disruption", "bullish"),
    ],
)
def test_approvals_sped_and_the_point_after_but(title, event_type, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["MP"] == mp


@pytest.mark.parametrize(
    ("title", "summary", "event_type"),
    [
        # Courts listed among the agencies that act do not make it a ruling.
        (
            "National export control coordination office deploys special campaign against strategic mineral smuggling",
            "MOFCOM, public and state security, customs and the courts met in Shenzhen to tighten enforcement on "
            "gallium, germanium, antimony, tungsten and medium-heavy rare earths.",
            "export_control_new",
        ),
        # A country's court is still a court.
        ("US trade court blocks Trump's emergency-powers tariffs, including duties on China", "", "legal"),
    ],
)
def test_courts_listed_among_agencies_are_not_the_actor(title, summary, event_type):
    verdict = assess(shipped(), title, summary, kind="official")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


def test_an_initiative_governments_launch_together_is_a_partnership():
    verdict = assess(
        shipped(),
        "Joint Statement of the Quad Foreign Ministers: launch of the Quad Critical Minerals Initiative",
        "The US, Australia, India and Japan announced an initiative to secure and diversify critical mineral "
        "supply chains, citing concern over the sudden use of export restrictions by others.",
        kind="official",
    )
    assert verdict.alert and verdict.event_types == ("partnership",), verdict.matched


@pytest.mark.parametrize(
    "title",
    ["Malaysia lets Lynas keep importing and processing concentrate until March 2026", "US allows Lynas to build Texas plant"],
)
def test_a_government_letting_a_company_operate_is_good_for_it(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("corporate",), verdict.matched
    assert verdict.impacts["LYC.AX"] == "bullish"


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        ("Lynas loses lawsuit over Kalgoorlie plant", "bearish"),
        ("Malaysian court rules in favour of Lynas", "bullish"),
    ],
)
def test_a_case_lost_or_won_by_the_company(title, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.impacts["LYC.AX"] == direction, verdict.matched


@pytest.mark.parametrize(
    "title",
    ["Lynas extends offtake deal with Japan", "Lynas signs supply agreement with Japan's JARE"],
)
def test_a_companys_own_deal_with_a_foreign_buyer_is_its_news(title):
    """A deal beside a country's name is kept for pacts between governments, unless the company
    made it."""
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("corporate",), verdict.matched
    assert verdict.impacts["LYC.AX"] == "bullish"


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # Goods taken off a control list are controls eased; firms taken off are a listing undone.
        ("China removes rare earth items from export control list", "export_control_eased"),
        ("China removes US firms from export control list", "entity_list"),
    ],
)
def test_goods_or_firms_taken_off_a_control_list(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        # A regulator's conditions or curbs on one company restrict it: lifted, they are its good
        # news; imposed or kept, its setback. Not a control on the trade in minerals.
        ("Malaysia lifts conditions on Lynas licence", "bullish"),
        ("Malaysia eases Lynas licence conditions", "bullish"),
        ("Malaysia lifts curbs on Lynas", "bullish"),
        ("Malaysia imposes new conditions on Lynas licence", "bearish"),
        ("Malaysia keeps conditions on Lynas licence", "bearish"),
        ("Lynas loses court bid to overturn licence conditions", "bearish"),
        ("Lynas wins court bid to overturn licence conditions", "bullish"),
        # After "but", a ban naming no one is on the company named before it: the point.
        ("Malaysia renews Lynas licence but keeps ban on local cracking and leaching", "bearish"),
        ("Malaysia renews Lynas licence but lifts ban on cracking", "bullish"),
    ],
)
def test_restrictions_on_one_company_are_its_news(title, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("corporate",), verdict.matched
    assert verdict.impacts["LYC.AX"] == direction, verdict.matched


def test_mofcoms_title_including_firms_in_the_unreliable_entity_list_is_a_listing():
    """MOFCOM titles a listing "... on Including X in the Unreliable Entity List": firms added
    to a list, whatever the first sentence says they are barred from."""
    verdict = assess(
        shipped(),
        "Announcement on Including Lockheed Martin Corporation and Raytheon Missiles & Defense in the Unreliable "
        "Entity List",
        "The two US defence contractors are barred from China-related import and export activity.",
        kind="official",
        feed="mofcom-announcements",
    )
    assert verdict.alert and verdict.event_types == ("entity_list",), verdict.matched
    assert verdict.impacts["LMT"] == verdict.impacts["RTX"] == "bearish"


@pytest.mark.parametrize(
    ("title", "named"),
    [
        # Neo's magnet plant is in Narva: the town named with the sector names the company.
        ("Canadian company's magnet factory opens in Narva", True),
        ("Narva city council elects new mayor", False),
    ],
)
def test_a_plants_town_with_the_sector_names_its_company(title, named):
    verdict = assess(shipped(), title, "")
    assert ("NEO.TO" in verdict.relevance) is named, verdict.relevance
    assert verdict.alert is named


@pytest.mark.parametrize(
    ("title", "summary", "event_type"),
    [
        # China's title for new controls enacts them, whatever background the first sentence gives.
        (
            "Announcement No. 10 of 2025 on Export Control Measures for Tungsten, Tellurium and Indium Items",
            "Exporters must now hold licences, in a package released the day Beijing answered new US tariffs.",
            "export_control_new",
        ),
        # A title with a verb of its own still lets the first sentence say which way.
        (
            "Announcement No. 70 of 2025 on Adjusting Export Control Measures for Rare Earth Items",
            "MOFCOM suspends the October measures for one year.",
            "export_control_eased",
        ),
    ],
)
def test_chinas_title_for_new_controls_is_the_act(title, summary, event_type):
    verdict = assess(shipped(), title, summary, kind="official", feed="mofcom-announcements")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


def test_a_chip_rule_rescinded_is_no_truce():
    """A "framework" near "Chinese" in a release about AI chips is a chip rule, not a truce."""
    verdict = assess(
        shipped(),
        "Department of Commerce rescinds AI diffusion rule and issues guidance on advanced computing chips",
        "BIS will not enforce the Biden-era framework and warns that using certain Chinese AI chips anywhere may "
        "breach US export rules.",
        kind="official",
    )
    assert not verdict.alert, verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type", "ticker", "direction"),
    [
        # Licences waved through, green-lit or rubber-stamped are granted.
        ("China waves through some rare earth export licences as automakers warn of shortages",
         "export_control_eased", "MP", "bearish"),
        ("Beijing green-lights rare earth export licences for US firms", "export_control_eased", "MP", "bearish"),
        ("China rubber-stamps magnet export licences", "export_control_eased", "MP", "bearish"),
        # A government approving a company's project is the company's good news.
        ("Australia approves Arafura Nolans project", "corporate", "ARU.AX", "bullish"),
        ("Australia greenlights Arafura Nolans project", "corporate", "ARU.AX", "bullish"),
    ],
)
def test_approvals_in_other_words(title, event_type, ticker, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts[ticker] == direction, verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        # A government asking or instructing its exporters to stop, or shelving an export deal,
        # restricts exports.
        "India asks state miner IREL to halt rare earth exports to Japan to keep supply at home",
        "India likely to suspend rare earth export deal with Japan",
        "India asks IREL to put Japan rare earth export pact on ice to keep supply at home",
        "Beijing instructs exporters to stop shipping gallium to US",
    ],
)
def test_a_government_stopping_its_own_exports_is_an_export_control(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("export_control_new",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


def test_curbs_put_on_ice_are_paused():
    verdict = assess(shipped(), "China puts rare earth export curbs on ice", "")
    assert verdict.alert and verdict.event_types == ("export_control_eased",), verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        # Fighting that puts supply at risk is the trouble acting, not a second turn of the flow.
        "Myanmar fighting puts rare earth supply at risk",
        "Myanmar fighting puts rare earth supply in jeopardy",
        # A buyer that stops buying stops the flow; an inflected phrasal verb still reaches the rule.
        "China stops buying Myanmar rare earths",
        "China warns Kachin rebels it will stop buying their rare earths if they take Bhamo",
    ],
)
def test_supply_put_at_risk_or_no_longer_bought(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("supply_disruption",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


def test_a_meeting_still_to_come_names_no_party_to_the_pact():
    verdict = assess(shipped(), "Trump, Takaichi sign minerals supply pact in Tokyo before Xi meeting", "")
    assert verdict.alert and verdict.event_types == ("partnership",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    "title",
    [
        # A bloc "with price floors" is the bloc proposed; tariffs "enforcing" it are its means.
        "Vance pitches allied critical minerals bloc with price floors enforced by tariffs",
        "US launches FORGE minerals bloc and floats price floors at 54-nation ministerial",
    ],
)
def test_a_minerals_bloc_with_price_floors_is_a_partnership(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("partnership",), verdict.matched
    assert verdict.impacts["MP"] == "bullish"


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # The sector's shares told after the event go the way the headline says ...
        ("Vance proposes allied critical minerals bloc with price floors; miners' shares fall", "partnership",
         "bearish"),
        # ... but a move told first may be the whole market's.
        ("Stocks tumble as Trump vows 100% China tariff; rare earth names buck the slide", "tariff_up", "bullish"),
    ],
)
def test_a_sector_move_told_after_the_event_sets_the_producers_direction(title, event_type, mp):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched
    assert verdict.impacts["MP"] == mp, verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        "Supreme Court pulls the plug on Trump's emergency tariffs",
        # What "stays in place" in another clause is other tariffs, not these.
        "Learning Resources v. Trump: the justices pull the plug on emergency tariffs, and what stays in place",
    ],
)
def test_a_court_pulling_the_plug_on_tariffs_voids_them(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("legal",), verdict.matched
    assert verdict.impacts["F"] == "bullish" and verdict.impacts["MP"] == "bearish"


@pytest.mark.parametrize(
    "title",
    [
        # Exports barred to named firms are a listing, and the "firms" are no share price firming.
        "China bars dual-use exports to 10 US firms including MP Materials and USA Rare Earth",
        "China bars exports of dual-use items to 15 US firms after tariff hike",
        # Curbs on firms suspended are that listing paused.
        "China suspends unreliable-entity curbs on 17 U.S. firms for 90 days",
    ],
)
def test_controls_on_named_firms_are_a_listing(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("entity_list",), verdict.matched


@pytest.mark.parametrize(
    ("title", "ticker", "direction"),
    [
        # Chosen by a buyer or a programme is good news; sued, fined or shorted is a setback.
        ("Pentagon selects MP Materials", "MP", "bullish"),
        ("Pentagon shortlists MP Materials", "MP", "bullish"),
        ("Lynas named preferred bidder for Texas plant", "LYC.AX", "bullish"),
        ("MP Materials sued by shareholders over guidance", "MP", "bearish"),
        ("Lynas fined by Malaysian regulator", "LYC.AX", "bearish"),
        ("Pentagon penalises MP Materials", "MP", "bearish"),
        ("USA Rare Earth hit by short seller report", "USAR", "bearish"),
    ],
)
def test_a_company_chosen_or_sued(title, ticker, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("corporate",), verdict.matched
    assert verdict.impacts[ticker] == direction, verdict.matched


@pytest.mark.parametrize(
    ("title", "direction"),
    [
        # A grant frozen, cancelled or clawed back is money withdrawn; a deal walked away from, undone.
        ("US freezes grant to USA Rare Earth", "bearish"),
        ("Commerce claws back grant from USA Rare Earth", "bearish"),
        ("Pentagon walks away from deal with USA Rare Earth", "bearish"),
        ("DOE announces new grant for USA Rare Earth", "bullish"),
    ],
)
def test_government_money_withdrawn_in_other_words(title, direction):
    assert_reads(title, "gov_funding", {"USAR": direction})


@pytest.mark.parametrize(
    ("title", "mp"),
    [
        ("US and Saudi Arabia ink critical minerals pact", "bullish"),
        # A pact that collapses, is shelved or walked away from is support for producers undone.
        ("US-Japan critical minerals agreement collapses", "bearish"),
        ("Australia walks away from US minerals deal", "bearish"),
        ("US and Malaysia shelve rare earth pact", "bearish"),
    ],
)
def test_a_pact_made_or_undone(title, mp):
    assert_reads(title, "partnership", {"MP": mp})


@pytest.mark.parametrize(
    ("title", "mp"),
    [
        # A challenge to tariffs is a bid to undo them: rejected or thrown out, the tariffs stand.
        ("Court rejects challenge to Trump tariffs", "bullish"),
        ("Court dismisses challenge to rare earth tariffs", "bullish"),
        ("Court throws out lawsuit against Section 232 tariffs", "bullish"),
        # Doubting justices are no ruling that keeps the tariffs: the doubt rule's direction holds.
        ("Justices skeptical of Trump tariff powers", "bearish"),
    ],
)
def test_a_challenge_to_tariffs_rejected_keeps_them(title, mp):
    assert_reads(title, "legal", {"MP": mp})


@pytest.mark.parametrize(
    ("title", "ticker", "direction"),
    [
        # A target or estimate missed is a setback; a rally missed out on still went up.
        ("USA Rare Earth misses Stillwater magnet plant target", "USAR", "bearish"),
        ("MP Materials misses revenue estimates", "MP", "bearish"),
        ("Investors miss out on rare earth rally", "MP", "bullish"),
    ],
)
def test_what_is_missed(title, ticker, direction):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.impacts[ticker] == direction, verdict.matched


@pytest.mark.parametrize("title", ["South Korea expands rare metals stockpile", "US DOE announces critical materials funding"])
def test_rare_metals_and_critical_materials_are_the_desks_minerals(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("gov_funding",), verdict.matched


@pytest.mark.parametrize("title", ["US delays 50 percent rule until 2026", "US suspends 50 per cent rule for a year"])
def test_the_affiliates_rule_by_its_percentage_written_out(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("entity_list",), verdict.matched
    assert verdict.impacts["MP"] == "bearish"


def test_a_truce_violated_is_a_truce_in_trouble():
    verdict = assess(shipped(), "China accuses US of violating Geneva consensus", "")
    assert verdict.alert and verdict.event_types == ("truce",), verdict.matched
    assert verdict.impacts["MP"] == "bullish" and verdict.impacts["F"] == "bearish"


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # Share moves a headline leads with, caused by policy, are the market's story, with or
        # without their size ...
        ("China Northern Rare Earth up 9%, JL Mag jumps 12% as Beijing expands export curbs", "price_move"),
        ("MP Materials and USA Rare Earth each surge 22% on China curbs and tariff threat", "price_move"),
        ("China Northern Rare Earth rallies as Beijing expands export curbs", "price_move"),
        ("US miners jump premarket as Beijing restricts heavy rare earth exports", "price_move"),
        # ... a company's own news or one government's money always is the news ...
        ("US Antimony jumps 18% on $245 million Pentagon stockpile contract", "gov_funding"),
        # ... and the whole market's move is no price move of the desk's.
        ("Stocks tumble as Trump vows 100% China tariff; rare earth names buck the slide", "tariff_up"),
    ],
)
def test_a_share_move_caused_by_policy_is_a_price_move(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        # A tariff truce one side floats is the US-China truce ...
        ("Bessent floats a longer tariff truce if China shelves its rare earth licensing plan", True),
        # ... not a truce between other partners.
        ("US and EU strike trade truce setting 15% tariff on most European goods", False),
    ],
)
def test_a_tariff_truce_floated_by_one_side(title, alerts):
    verdict = assess(shipped(), title, "")
    assert verdict.alert is alerts, verdict.matched
    if alerts:
        assert verdict.event_types == ("truce",), verdict.matched


@pytest.mark.parametrize(
    "title",
    [
        # Companies off the watchlists known for what they mine make a stake in them the sector's.
        "US Energy Department to take 5% stake in Lithium Americas and its Thacker Pass venture",
        "Pentagon backs Ucore with $18 million award",
        "US to take 10% stake in Trilogy Metals as Trump approves Alaska's Ambler Road",
        "Pentagon lends $80 million to ReElement Technologies",
        "Graphite One wins $37.5 million Pentagon grant",
    ],
)
def test_government_money_for_a_known_minerals_company(title):
    assert_reads(title, "gov_funding", {"MP": "bullish"})


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # Several governments agreeing on price floors together make a pact ...
        ("EU, Japan and Mexico agree with US to pursue critical minerals price floors", "partnership"),
        # ... agreed or not: three governments developing price floors together.
        ("USTR: United States, European Union and Japan to develop price-floor measures for critical minerals",
         "partnership"),
        # ... one government's loan to a company abroad stays government money.
        ("Brazil's rare earth miner Serra Verde seals $565 million DFC loan with option for US equity stake",
         "gov_funding"),
    ],
)
def test_governments_agreeing_on_money_together(title, event_type):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == (event_type,), verdict.matched


def test_a_tariff_truce_that_expires_is_the_truce_the_other_way():
    """As a truce that collapses: the tariffs come back, producers up and carmakers down."""
    verdict = assess(shipped(), "US says China tariff truce will expire on schedule", "")
    assert verdict.alert and verdict.event_types == ("truce",), verdict.matched
    assert verdict.impacts["MP"] == "bullish" and verdict.impacts["F"] == "bearish"


def test_bare_shares_after_a_company_clause_are_that_companys():
    verdict = assess(shipped(), "Syrah and Tesla push back offtake default cure date again; shares slip", "")
    assert verdict.alert and verdict.impacts["SYR.AX"] == "bearish", verdict.matched


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # "The DPA" is the Defense Production Act: magnets put under it get its money ...
        ("Five presidential determinations put the REE magnet chain under the DPA", "gov_funding"),
        # ... while "DPA" heading a report is the German news agency.
        ("DPA: German carmakers warn of magnet shortage as China slows rare earth licences", "supply_disruption"),
    ],
)
def test_the_defense_production_act_by_its_initials(title, event_type):
    assert_reads(title, event_type, {"MP": "bullish"})


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # A government's minerals reserve is a stockpile: its money for the sector ...
        ("Australia names antimony, gallium and rare earths as first targets of minerals reserve", "gov_funding"),
        ("US plans $12 billion critical minerals reserve", "gov_funding"),
        # ... a miner's mineral reserve is ore in the ground, its own news.
        ("Energy Fuels declares maiden mineral reserve at Donald project", "corporate"),
    ],
)
def test_a_minerals_reserve_is_a_stockpile(title, event_type):
    assert_reads(title, event_type, {})


@pytest.mark.parametrize(
    ("title", "lead", "ticker"),
    [
        ("Ramaco breaks ground at Wyoming's Brook Mine with Energy Secretary Wright", "", "METC"),
        ("MP Materials broke ground on its Texas magnet factory", "", "MP"),
        # The company is named only in the first sentence, at the ribbon cutting.
        ("Wyoming coal mine opens as first new US rare earth mine in 70 years",
         "Energy Secretary Chris Wright joined Ramaco Resources at the ribbon cutting for its Brook Mine near "
         "Ranchester, where the company plans to extract rare earths from coal.", "METC"),
    ],
)
def test_ground_broken_or_ribbon_cut_is_the_company_building(title, lead, ticker):
    """Breaking ground and cutting the ribbon start a mine or plant: the company's good news, and no
    halt of production (the "cutting" of a ribbon cuts nothing)."""
    assert_reads(title, "corporate", {ticker: "bullish"}, lead)


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # China's export-control measures named without their goods are the minerals campaign ...
        ("China suspends October 9 export control measures until November 2026", "export_control_eased", "bearish"),
        ("Beijing halts enforcement of its October export control measures", "export_control_eased", "bearish"),
        ("China tightens export controls", "export_control_new", "bullish"),
        # ... and so are its export licences.
        ("MOFCOM: general licences in use, civilian export applications approved promptly", "export_control_eased",
         "bearish"),
        ("China slows export licence approvals", "supply_disruption", "bullish"),
        # ... the affiliates rule names the US-China fight over listings by itself.
        ("Commerce adopts 50% affiliates rule for Entity List", "entity_list", None),
    ],
)
def test_measures_named_without_their_goods(title, event_type, mp):
    assert_reads(title, event_type, {"MP": mp})


@pytest.mark.parametrize(
    "title",
    [
        "China lifts export ban on Nvidia H20 chips",  # another trade's goods
        "China tightens export controls on fentanyl precursor chemicals",  # goods named, not the desk's
        "MOFCOM bars exports of Nexperia China products",  # a chipmaker's goods are chips
        "Taiwan adopts affiliates rule for its entity list",  # a third government's own list
    ],
)
def test_measures_on_another_trades_goods_stay_quiet(title):
    assert not assess(shipped(), title, "").alert


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # The approval of licences is of export licences, though "export" is not written.
        ("China slows approval of rare earth licences", "supply_disruption", "bullish"),
        ("China speeds approval of rare earth licences", "export_control_eased", "bearish"),
        ("China delays approval of rare earth licences", "supply_disruption", "bullish"),
    ],
)
def test_approvals_of_licences_are_of_export_licences(title, event_type, mp):
    assert_reads(title, event_type, {"MP": mp})


@pytest.mark.parametrize(
    ("title", "event_type", "tickers"),
    [
        # A government buying the desk's goods pays for them: an offtake, its money for the sector.
        ("Pentagon to buy magnets from MP Materials", "gov_funding", {"MP": "bullish", "F": "neutral"}),
        ("US government to buy all magnets from MP Materials' 10X plant", "gov_funding", {"MP": "bullish"}),
        # A company buying another is its own news, and good news for the buyer.
        ("USA Rare Earth to buy UK metals maker Less Common Metals", "corporate", {"USAR": "bullish"}),
        # A carmaker buying a producer's magnets: the producer's customer, both companies' news.
        ("Ford to buy magnets from MP Materials", "corporate", {"MP": "bullish"}),
    ],
)
def test_goods_bought(title, event_type, tickers):
    assert_reads(title, event_type, tickers)


@pytest.mark.parametrize(
    "title",
    [
        # A sum with a government's name after it is that government's money.
        "Vulcan Elements lands $1.4 billion US package for 10,000-ton magnet plant",
        "Noveon wins $50 million US grant",
    ],
)
def test_a_government_named_after_the_sum_pays_it(title):
    assert_reads(title, "gov_funding", {"MP": "bullish"})


@pytest.mark.parametrize(
    ("title", "event_type", "tickers"),
    [
        # A company's move told by its size alone is its shares, and the restriction after it
        # the cause, whose own directions stand for the rest of the watchlist.
        ("Almonty up 41% in two days as tungsten buyers scramble after Beijing's curbs", "price_move",
         {"ALM.TO": "bullish", "MP": "bullish", "F": "bearish"}),
        ("Lynas down 5% after Malaysia extends curbs on its plant", "corporate", {"LYC.AX": "bearish"}),
        # The policy told first, then the company it moved: the same cause.
        ("China widens rare earth controls to foreign products; Northern Rare Earth jumps 9%", "price_move",
         {"600111.SS": "bullish", "MP": "bullish", "F": "bearish"}),
    ],
)
def test_a_sized_move_without_shares_is_the_company_s(title, event_type, tickers):
    assert_reads(title, event_type, tickers)


def test_china_northern_is_the_producer_not_the_country():
    """Traders shorten China Northern Rare Earth to "China Northern": its shares, not China's."""
    assert_reads("China Northern shares hit limit up on forecast of near 20-fold first-half profit jump", "corporate",
                 {"600111.SS": "bullish"})


@pytest.mark.parametrize(
    "title",
    [
        # China's easing and a US tariff cut told in one headline are the two sides of a truce.
        "Bessent says China to defer export curbs for a year, 100% tariff off the table",
        "Trump cuts China tariffs after Xi meeting; Beijing to pause rare earth curbs for a year",
    ],
)
def test_both_sides_concessions_in_one_headline_are_the_truce(title):
    assert_reads(title, "truce", {"MP": "bearish", "F": "bullish"})


@pytest.mark.parametrize(
    "title",
    [
        # What a government leaves in place beside what it pauses is kept, not the news.
        "China formally pauses October curbs but leaves April licensing in place",
        "China suspends October curbs but keeps April licensing in place",
    ],
)
def test_a_pause_beside_what_is_left_in_place_is_the_easing(title):
    assert_reads(title, "export_control_eased", {"MP": "bearish"})


@pytest.mark.parametrize(
    ("title", "alerts"),
    [
        # A court that curbs something names what; a ruling on injunctions is no trade case ...
        ("Supreme Court curbs nationwide injunctions in birthright citizenship case", False),
        # ... while one on the desk's exports or on tariffs is.
        ("Court bans rare earth exports from Myanmar mine", True),
        ("Trade court blocks Trump tariffs", True),
    ],
)
def test_a_court_curbing_something_else_is_no_trade_case(title, alerts):
    assert assess(shipped(), title, "").alert is alerts


@pytest.mark.parametrize(
    ("title", "producers", "buyers"),
    [
        # A material's price moves its producers with it and its buyers the other way ...
        ("Yttrium oxide in Europe up 4,400% this year as Chinese licences trickle", "bullish", "bearish"),
        ("NdPr prices slide as Chinese output quota rises", "bearish", "bullish"),
        # ... while the sector's shares say nothing of what the material costs.
        ("Rare earth stocks rally", "bullish", None),
    ],
)
def test_a_materials_price_moves_its_buyers_the_other_way(title, producers, buyers):
    assert_reads(title, "price_move", {"MP": producers, "F": buyers})


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # The desk's goods banned to a country's buyers, whoever they are, are controls ...
        ("China bars shipments of gallium and germanium to American buyers", "export_control_new", "bullish"),
        ("China curbs heavy rare earth and magnet exports to Japanese firms, WSJ reports", "export_control_new", "bullish"),
        # ... while firms counted, or the country's firms with no goods named, are a list of them ...
        ("China bars dual-use exports to 15 US firms", "entity_list", None),
        ("China imposes export controls against US entities", "entity_list", None),
        # ... and so are the firms a blacklisting verb names, though rare earths are their trade.
        ("Beijing blacklists two US rare earth producers", "entity_list", None),
        ("China blacklists US rare earth producers over Taiwan arms sales", "entity_list", None),
        ("Beijing blacklists two US rare earth producers in reply to Pentagon military-company list", "entity_list", None),
    ],
)
def test_goods_banned_to_a_countrys_buyers_are_controls_not_a_listing(title, event_type, mp):
    assert_reads(title, event_type, {"MP": mp})


@pytest.mark.parametrize(
    ("title", "event_type", "mp"),
    [
        # Watching over exports is a control: stepped up, it tightens; eased, it eases.
        ("China's commerce ministry says it will step up scrutiny of rare earth exports", "export_control_new", "bullish"),
        ("Beijing tightens customs checks on gallium shipments", "export_control_new", "bullish"),
        ("China to relax oversight of magnet exports", "export_control_eased", "bearish"),
    ],
)
def test_scrutiny_of_exports_is_a_control(title, event_type, mp):
    assert_reads(title, event_type, {"MP": mp})


@pytest.mark.parametrize(
    ("title", "event_type", "directions"),
    [
        # A government that will not export or supply the desk's goods restricts them, whether
        # or not the headline reports it as said ...
        ("China will not supply rare earths to US defence firms", "export_control_new", {"MP": "bullish", "F": "bearish"}),
        ("China says it will not supply rare earths to US defence firms", "export_control_new", {"MP": "bullish"}),
        ("China says it will not export rare earths to US defence firms", "export_control_new", {"MP": "bullish"}),
        # ... a company that supplies them grows its business ...
        ("Lynas to supply heavy rare earths to US magnet maker", "corporate", {"LYC.AX": "bullish"}),
        # ... and "supply" with no goods after it is a noun: no supply was promised here.
        ("Asian rare earth miners jump after veiled Chinese supply threat", "price_move", {"LYC.AX": "bullish", "F": None}),
    ],
)
def test_supply_as_a_verb_with_its_goods(title, event_type, directions):
    assert_reads(title, event_type, directions)


@pytest.mark.parametrize(
    "title",
    [
        # "With no extension" after the verb says nothing more was done: the truce still ends,
        # and the tariffs it held off come back.
        "US-China tariff truce expires with no extension",
        "US-China tariff truce expires",
    ],
)
def test_no_extension_after_an_expiry_leaves_it_expired(title):
    assert_reads(title, "truce", {"MP": "bullish", "F": "bearish"})


@pytest.mark.parametrize(
    ("title", "event_type", "directions"),
    [
        # Shares in a clause of their own are the company's the sentence is about, though a
        # passive verb names a buyer after it ...
        ("Neo Performance to be acquired by Chinese group, shares soar", "price_move", {"NEO.TO": "bullish", "MP": None}),
        # ... and a court's ruling on a company's licence moves that company.
        ("Judge blocks Perpetua's Stibnite mine permit", "legal", {"PPTA": "bearish"}),
        ("Court upholds Perpetua's Stibnite mine permit", "legal", {"PPTA": "bullish"}),
        ("Court of Appeal dismisses activists' challenge to Lynas licence extension", "legal", {"LYC.AX": "bullish"}),
        # A case heard has not moved anything yet.
        ("Court hears challenge to Perpetua's mine permit", "legal", {"PPTA": None}),
    ],
)
def test_the_company_a_sentence_or_a_ruling_is_about_moves(title, event_type, directions):
    assert_reads(title, event_type, directions)


@pytest.mark.parametrize(
    ("title", "lead", "event_type", "mp"),
    [
        # A headline that names no lever leaves the first sentence to say China's controls moved ...
        ("A reprieve for carmakers", "China will suspend the export controls it announced on October 9 for one "
         "year, the commerce ministry said, giving automakers breathing room.", "export_control_eased", "bearish"),
        ("Beijing turns the screw", "China will require export licences for five more heavy rare earths from "
         "December, the commerce ministry said.", "export_control_new", "bullish"),
    ],
)
def test_chinas_controls_told_only_in_the_first_sentence(title, lead, event_type, mp):
    assert_reads(title, event_type, {"MP": mp}, lead=lead)


@pytest.mark.parametrize(
    ("title", "lead"),
    [
        # ... unless the goods are another trade's.
        ("Nvidia news", "China will lift export controls on drone parts, the commerce ministry said."),
        ("Week ahead", "China will suspend its export curbs on fentanyl precursors, the commerce ministry said."),
    ],
)
def test_chinas_controls_on_other_goods_in_the_first_sentence_stay_quiet(title, lead):
    assert not assess(shipped(), title, lead).alert


@pytest.mark.parametrize(
    "title",
    [
        # "and" before a new subject and its verb starts a clause of its own: each verb acts on
        # its own lever, so two easings are not one reversal of the other.
        "China pauses rare earth curbs and US halves fentanyl tariff",
        "China will pause its rare earth curbs and the US will halve its fentanyl tariff under the deal",
    ],
)
def test_and_before_a_new_subject_starts_a_clause(title):
    assert_reads(title, "truce", {"MP": "bearish", "F": "bullish"})


@pytest.mark.parametrize(
    ("title", "lead"),
    [
        # A government that sets up a reserve or a fund for the desk's goods gives money to the sector.
        ("Canberra moves", "Australia will set up a A$1.2 billion strategic reserve of critical minerals, buying "
         "output from local miners, the treasurer said."),
        ("Japan sets up rare earth stockpile fund", ""),
    ],
)
def test_a_reserve_set_up_is_government_money(title, lead):
    assert_reads(title, "gov_funding", {"MP": "bullish"}, lead=lead)


def test_an_offtake_from_the_armed_services_is_government_money():
    """The US Army and Navy buy for the Department of Defense: their offtake is public money."""
    assert_reads("Almonty secures US Army offtake for tungsten oxide", "gov_funding", {"ALM.TO": "bullish"})


def test_stockouts_and_lagging_licences_are_a_shortage():
    assert_reads("European carmakers face magnet stockouts as Chinese licences lag", "supply_disruption",
                 {"MP": "bullish", "F": "bearish"})


@pytest.mark.parametrize(
    "title",
    [
        # Sanctions on a kind of firm list firms, though the desk's goods are their trade.
        "US lifts sanctions on Chinese rare earth refiner",
        "China imposes sanctions on US rare earth processors",
    ],
)
def test_sanctions_on_firms_of_the_trade_are_a_listing(title):
    verdict = assess(shipped(), title, "")
    assert verdict.alert and verdict.event_types == ("entity_list",), verdict.matched


def test_a_verbs_form_after_of_is_a_noun():
    """"100 days of demand" names an amount, not a demand made: the government still stockpiles."""
    assert_reads("South Korea to stockpile rare earths for 100 days of demand", "gov_funding", {"MP": "bullish"})


@pytest.mark.parametrize(
    ("title", "producers", "buyers"),
    [
        # A producer's listing price is the material's price, whichever way it goes ...
        ("China Northern cuts NdPr listing price for July", "bearish", "bullish"),
        ("China Northern raises NdPr listing price for July", "bullish", "bearish"),
    ],
)
def test_a_producers_listing_price_is_the_materials(title, producers, buyers):
    assert_reads(title, "price_move", {"MP": producers, "600111.SS": producers, "F": buyers})


def test_a_producers_shares_are_its_own():
    # ... while its shares are its own.
    assert_reads("China Northern shares fall 5%", "price_move", {"600111.SS": "bearish", "MP": None})


@pytest.mark.parametrize(
    "title",
    [
        # China breaking or walking away from its commitments on the desk's goods undoes the
        # truce, whoever reports it ...
        "US official: China not complying with rare earth commitments",
        "China violates rare earth deal, US officials say",
        "China backs out of rare earth commitments",
    ],
)
def test_china_breaking_its_rare_earth_commitments_undoes_the_truce(title):
    assert_reads(title, "truce", {"MP": "bullish", "F": "bearish"})


def test_a_pact_china_scraps_with_another_power_is_no_truce():
    # ... while a pact it scraps with another government is theirs.
    assert_reads("China and Russia scrap rare earth pact", "partnership", {"MP": "neutral"})


@pytest.mark.parametrize(
    ("title", "event_type", "directions"),
    [
        # "Banned" after "of" still bans: only a bare verb form there is a noun ("days of demand").
        ("China adds magnet know-how to its list of banned technology exports", "export_control_new", {"MP": "bullish"}),
        # A question mark ends a clause: what the report says next is a clause of its own.
        ("Why is Lynas stock falling today? Report says US backs away from price floors", "price_move",
         {"LYC.AX": "bearish"}),
    ],
)
def test_participles_after_of_and_clauses_after_a_question(title, event_type, directions):
    assert_reads(title, event_type, directions)


@pytest.mark.parametrize(
    "title",
    [
        # Buyers taking delivery of Chinese shipments again: China let them through.
        "India's EV makers get first Chinese magnet shipments in months",
        "European carmakers receive Chinese rare earth shipments again",
    ],
)
def test_buyers_receiving_chinese_shipments_is_an_easing(title):
    assert_reads(title, "export_control_eased", {"MP": "bearish", "F": "bullish"})
