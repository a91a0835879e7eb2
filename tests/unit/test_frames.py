"""Event frames read from headlines: who does what to which instrument, and the event type it gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.rules import load_ruleset
from service.rules.frames import FrameReader, _prepare, event_types, watchlist_lexicon
from service.rules.schema import WatchlistFile
from service.yamlfile import read_yaml, validate
from tests.rulesets import assess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reader() -> FrameReader:
    spec = validate(read_yaml(ROOT / "rules" / "watchlists.yaml"), WatchlistFile)
    return FrameReader(watchlist_lexicon(spec))


def deciding(reader: FrameReader, headline: str, lead: str = ""):
    """The frame that tells the headline's event: the first main clause where something is done."""
    reading = reader.read(headline, lead)
    facts = [f for f in reading.facts if f.main and event_types(f)]
    acted = [f for f in facts if f.acted] or facts
    contrast = [f for f in acted if f.contrast]
    return (contrast or acted or [None])[0], reading


@pytest.mark.parametrize(
    ("headline", "instrument", "polarity", "event_type"),
    [
        # Nested modality: every reversing verb or noun flips the sign once.
        ("China extends suspension of rare earth export controls", "export_control", "down", "export_control_eased"),
        ("China lets suspension of gallium export ban lapse", "export_control", "up", "export_control_new"),
        ("China keeps rare-earth curbs suspended for another year", "export_control", "down", "export_control_eased"),
        ("Beijing shelves planned curbs on graphite exports", "export_control", "down", "export_control_eased"),
        ("US pushes back the affiliates rule by six months", "entity_list", "down", "entity_list"),
        ("MOFCOM halts enforcement of its earlier notices on rare earths", "export_control", "down", "export_control_eased"),
        ("China will not extend the pause on its antimony export ban", "export_control", "up", "export_control_new"),
        ("China suspends ban on gallium exports to US", "export_control", "down", "export_control_eased"),
        ("US lifts tariffs on Chinese goods to 60%", "tariff", "up", "tariff_up"),
        # A flow lifted is up; a suspension of it lifted is gone, and so is a ban.
        ("MP Materials lifts NdPr output to a record", "supply", "up", "corporate"),
        ("Lynas lifts heavy rare earth production at Kalgoorlie", "supply", "up", "corporate"),
        ("Myanmar lifts the suspension of rare earth exports to China", "supply", "up", "export_control_eased"),
        ("China lifts its export ban on gallium", "export_control", "down", "export_control_eased"),
        # Who makes weapons buys magnets: cutting supply to them is a restriction, not an easing.
        ("Beijing sounds out industry on cutting rare-earth supply to US weapons makers", "supply", "down",
         "export_control_new"),
        # A phrasal verb with its object inside: "pushes the tariffs back to December" is a delay.
        ("Trump backs off, pushes many new China tariffs back to December", "tariff", "down", "tariff_down"),
        ("US rolls some tariffs on Chinese goods back", "tariff", "down", "tariff_down"),
        ("Trump puts the tariffs back in place", "tariff", "up", "tariff_up"),
        # Duties that lose their basis are gone; a pledge to refrain from them is a hold.
        ("Reciprocal duties lose their legal basis", "tariff", "down", "tariff_down"),
        ("Washington to refrain from new levies on China", "tariff", "down", "tariff_down"),
        # What a halt is traced to is its cause, not a curb halted.
        ("Suzuki Swift output halt traced to China's rare earth curbs", "supply", "down", "supply_disruption"),
        ("Congo prolongs cobalt export halt by three months", "supply", "down", "export_control_new"),
        ("China puts licence duty on seven heavy rare earths", "export_control", "up", "export_control_new"),
        ("Rare earth stocks get rocked", "price", "down", "price_move"),
        # What is answered is the cause; what it is answered with is the news.
        ("Trump answers court loss with 10% global import surcharge", "tariff", "up", "tariff_up"),
        ("China responds to US tariffs with export curbs on gallium", "export_control", "up", "export_control_new"),
        # Delays, cancellations and a ruling upheld, however they are worded.
        ("Trump pushes planned rise in China tariffs back two weeks", "tariff", "down", "tariff_down"),
        ("Trump says the Oct. 15 tariff hike is off", "tariff", "down", "tariff_down"),
        ("Section 232 magnet import investigation concludes without tariffs", "tariff", "down", "tariff_down"),
        ("US ends duty-free treatment for parcels from China", "tariff", "up", "tariff_up"),
        ("Trade court sustains Section 301 tariffs on Chinese goods", "tariff", "up", "legal"),
        # Whom a measure is meant to hurt is no supply hit.
        ("Beijing eyes limits on rare earth sales to hit American weapons makers", "supply", "down",
         "export_control_new"),
        # A placement the headline leads with is new shares at a discount: bad news for holders.
        ("Lynas launches A$750 million placement to fund expansion", "funding", "down", "corporate"),
        ("Lynas wins A$120 million Pentagon contract", "funding", "up", "gov_funding"),
        ("US cuts tariffs on Chinese goods to 30%", "tariff", "down", "tariff_down"),
        ("Trump threatens extra 100% tariffs on China", "tariff", "up", "tariff_up"),
        ("China to require export licences for gallium and germanium", "export_control", "up", "export_control_new"),
        ("Graphite may not be exported without a licence from December", "export_control", "up", "export_control_new"),
        # Minerals named without "rare earth".
        ("China bans exports of antimony to the United States", "export_control", "up", "export_control_new"),
        ("Beijing restricts tungsten and molybdenum exports", "export_control", "up", "export_control_new"),
        ("China curbs lithium battery cathode technology exports", "export_control", "up", "export_control_new"),
        # Entity lists in other words.
        ("China adds 28 US defence firms to export control list", "entity_list", "up", "entity_list"),
        ("Commerce widens trade blacklist to cover subsidiaries of listed firms", "entity_list", "up", "entity_list"),
        ("China puts US drone makers on unreliable entity list", "entity_list", "up", "entity_list"),
        ("China bars dual-use exports to 15 US firms", "export_control", "up", "entity_list"),
        ("China bars dual-use exports to six more firms", "export_control", "up", "entity_list"),
        ("China bars dual-use exports to US entities", "export_control", "up", "entity_list"),
        # A class of companies that need licences is a licensing duty, not a list of firms.
        ("Beijing's new rule requires export licences for magnet makers outside China", "export_control", "up",
         "export_control_new"),
        # Allied governments and their programmes.
        ("EU selects 47 strategic projects under the Critical Raw Materials Act", "funding", "up", "gov_funding"),
        ("JOGMEC to invest in Australian heavy rare earth production", "funding", "up", "gov_funding"),
        ("Pentagon takes $400 million stake in MP Materials", "funding", "up", "gov_funding"),
        ("Vulcan Elements lands $1.4 billion package backed by the Pentagon", "funding", "up", "gov_funding"),
        ("US, Japan sign framework on critical minerals and rare earths", "agreement", "up", "partnership"),
        ("Apple to spend $500 million on magnets from MP Materials", "funding", "up", "corporate"),
        # Disruption told indirectly.
        ("Only a handful of rare earth export licences granted, magnet makers say", "permit", "down", "supply_disruption"),
        ("China approved 5 of 180 rare earth export licence requests", "permit", "down", "supply_disruption"),
        ("Ford idles Chicago plant as rare earth magnet shortage bites", "supply", "down", "supply_disruption"),
        ("Myanmar rebels seize rare earth mining hub near China border", "supply", "down", "supply_disruption"),
        ("Chinese rare earth magnet exports plunge 74% in April", "supply", "down", "supply_disruption"),
        ("China halts rare earth exports to US defence contractors", "supply", "down", "export_control_new"),
        # Truces, and the ceasefires that are not the desk's.
        ("US and China agree to extend tariff truce by 90 days", "tariff", "down", "truce"),
        ("US, China agree to slash tariffs for 90 days", "tariff", "down", "truce"),
        # Prices, and their causes.
        ("NdPr oxide prices hit two-year high", "price", "up", "price_move"),
        ("China export curbs propel tungsten to highest since 2013", "price", "up", "price_move"),
        ("Germanium price hits record as Chinese curbs dry up supply", "price", "up", "price_move"),
        # Courts.
        ("Supreme Court strikes down Trump's IEEPA tariffs", "tariff", "down", "legal"),
        # A company's own setback; a consequence that undoes what it names.
        ("Syrah declares force majeure at its Mozambique graphite operation", "supply", "down", "corporate"),
        ("Ceasefire talk deflates the rare earth rally", "price", "down", "price_move"),
        # A grade of product is no price gone high; a regime that starts is a requirement;
        # licences issued are licences granted; what is kept in place is not the news.
        ("China to license exports of high-end cathode materials", "export_control", "up", "export_control_new"),
        ("Beijing sets a March start for antimony export permits", "export_control", "up", "export_control_new"),
        ("Beijing starts granting antimony export permits", "permit", "up", "export_control_eased"),
        ("China issues general rare earth export licences to magnet makers", "permit", "up", "export_control_eased"),
        ("China suspends gallium curbs for a year but keeps licensing in place", "export_control", "down",
         "export_control_eased"),
        # A price level crossed is a price move; a floor it passes is where it went, not money given.
        ("Dysprosium oxide breaks $300/kg as buyers scramble", "price", "up", "price_move"),
        ("Antimony clears 200,000 yuan a tonne", "price", "up", "price_move"),
        ("NdPr prices climb above the US floor price for MP Materials", "price", "up", "price_move"),
        # A second verb acts on the last instrument, reversing nouns and all.
        ("Executive order keeps the tariff on Chinese goods at 10% and extends the suspension of the rest", "tariff",
         "down", "tariff_down"),
        ("China exported no gallium in August", "supply", "down", "supply_disruption"),
        # "Detailed plans" are a noun: no second verb to contradict the suspension.
        ("China to suspend Oct. 9 export control measures for one year and study detailed plans", "export_control",
         "down", "export_control_eased"),
        # A restriction after "under" or "amid" is why the flow moved; "falls under" a control is
        # brought under it.
        ("China's rare earth magnet exports plunge 74% in April under new licensing", "supply", "down",
         "supply_disruption"),
        ("Rare earth mining and smelting fall under state total-quantity control", "export_control", "up",
         "export_control_new"),
        ("China hits back with licence rule on seven heavy rare earths", "export_control", "up",
         "export_control_new"),
        # A company's licence to operate is its own news; licences made lighter are licences eased.
        ("Malaysia renews Lynas operating licence for six months", "permit", "up", "corporate"),
        ("Malaysia revokes Lynas operating licence", "permit", "down", "corporate"),
        ("China streamlines rare earth export licences for civilian users", "permit", "up", "export_control_eased"),
        ("US streamlines export controls on critical minerals for allies", "export_control", "down",
         "export_control_eased"),
        ("China grants fewer rare earth export licences in October", "permit", "down", "supply_disruption"),
        ("Beijing clears magnet maker JL Mag to export rare earths to the US", "supply", "up", "export_control_eased"),
        ("China's rare earth magnet exports to US jump 660% in June", "supply", "up", "export_control_eased"),
        ("Myanmar rare earth flows to China slump to a trickle after border shut", "supply", "down",
         "supply_disruption"),
        ("Perpetua Resources secures approval from US Forest Service for Stibnite antimony project", "permit", "up",
         "corporate"),
        # Exports held back on purpose; a law passed; a licence a company must now seek.
        ("China will not rule out using rare earth exports as leverage", "export_control", "up", "export_control_new"),
        ("Beijing could use gallium as a bargaining chip in talks", "export_control", "up", "export_control_new"),
        ("China passes export control law allowing curbs on strategic items", "export_control", "up",
         "export_control_new"),
        ("AXT's subsidiary will seek permits to export germanium substrates", "export_control", "up",
         "export_control_new"),
        # Where a price got to says which way it went.
        ("Lynas shares hit a five-month low", "price", "down", "price_move"),
        # A date is not an ending; a federal loan is public money.
        ("JOGMEC to invest in Lynas heavy rare earths by the end of March", "funding", "up", "gov_funding"),
        ("Arafura's Nolans gets A$840m federal debt backing", "funding", "up", "gov_funding"),
        # An ally's promise inside a pact is a partnership, not China easing.
        ("Australia promises no export bans on rare earths to the US under a new minerals pact", "export_control",
         "down", "partnership"),
        # "Streamlined permits" are permits: the adjective turns nothing around.
        ("Beijing eases rare earth export licensing with streamlined permits", "export_control", "down",
         "export_control_eased"),
        # Permits granted under a regime are granted: the regime is what they come under.
        ("MOFCOM approves first graphite export applications under the December 1 rules", "permit", "up",
         "export_control_eased"),
        ("China issues first permits under gallium export rules", "permit", "up", "export_control_eased"),
        # Licences a government hits back with are imposed, not granted.
        ("China hits back with export licences on seven heavy rare earths and magnets", "export_control", "up",
         "export_control_new"),
        # Items added to a licence list, or a licence requirement extended, need licences now.
        ("China adds five more heavy rare earths to export licence list from November 8", "export_control", "up",
         "export_control_new"),
        ("China extends export licence requirement to five more rare earths", "export_control", "up",
         "export_control_new"),
        # A government clearing a company to operate grants its licence; a mine's record of
        # decision is the company's permit.
        ("Malaysia clears Lynas to keep processing Mt Weld concentrate", "permit", "up", "corporate"),
        ("Perpetua wins final record of decision for Stibnite antimony project", "permit", "up", "corporate"),
        # A price that softens fell.
        ("EU antimony softens slightly on improved availability", "price", "down", "price_move"),
        # A quarter's miss is a company's own bad news.
        ("MP Materials reports second-quarter miss", "funding", "down", "corporate"),
        # A Chinese magnet maker's export licences are China letting exports through.
        ("JL Mag wins export licences for US, EU shipments", "permit", "up", "export_control_eased"),
        # A company that signs with the Pentagon takes public money.
        ("MP Materials signs agreement with the Department of Defense", "agreement", "up", "gov_funding"),
        # Force majeure at a producer's mine is its own supply cut.
        ("Syrah declares force majeure at Mozambique graphite mine", "supply", "down", "corporate"),
        ("Syrah declares Mozambique graphite force majeure", "supply", "down", "corporate"),  # the country names the graphite
        # A producing country's export ban, and a suspension of exports however it is named.
        ("Zimbabwe to ban lithium concentrate exports from January 2027", "export_control", "up", "export_control_new"),
        ("Extension of the temporary suspension of cobalt exports from the DRC", "supply", "down", "export_control_new"),
        # An agency's "Decision No." is what it decides, not a court's; curbing a glut is no export curb.
        ("ARECOMS Decision No. 001/ARECOMS/2025 on the temporary suspension of cobalt exports", "supply", "down",
         "export_control_new"),
        ("Congo's regulator suspends all cobalt exports for four months to curb a glut", "supply", "down",
         "export_control_new"),
        # Rebels who seize a mining hub disrupt its supply, whatever the verb.
        ("Rebels take control of Myanmar rare earth mining hub", "supply", "down", "supply_disruption"),
        # A price move whose cause is a control is a price move; exports that plummet fell.
        ("Rare-earth prices triple to new records on China export curbs", "price", "up", "price_move"),
        ("China's export curbs on gallium drive European prices sharply higher", "price", "up", "price_move"),
        # Exports allowed only with a licence need one; a first-half loss is a setback.
        ("Gallium may be exported only with a licence from August 1", "export_control", "up", "export_control_new"),
        ("China Rare Earth Group flags first-half loss as heavy rare earth prices slide", "funding", "down",
         "corporate"),
        # A results warning below guidance is bad news for holders.
        ("AXT revenue to come in below prior guidance on slow permits", "funding", "down", "corporate"),
        # Fears of a restriction are the restriction feared; fears for supply are a shortage.
        ("Tariff fears grow as rare earth talks stall", "tariff", "up", "tariff_up"),
        ("Export curb worries ease after US-China talks", "export_control", "down", "export_control_eased"),
        ("Magnet supply fears mount among carmakers", "supply", "down", "supply_disruption"),
        # Delays and pauses by other names.
        ("China puts October rare earth export curbs on hold until November 2026", "export_control", "down",
         "export_control_eased"),
        ("Higher US tariffs on Chinese goods put off for another 90 days", "tariff", "down", "tariff_down"),
        ("US holds off on new tariffs on Chinese graphite", "tariff", "down", "tariff_down"),
        # A duty demanded is a requirement; a long-delayed deal is a deal signed; a pact between
        # two governments stays theirs, though a company benefits from it.
        ("China to demand export permits for some graphite products from Dec. 1", "export_control", "up",
         "export_control_new"),
        ("US and Ukraine sign long-delayed minerals deal", "agreement", "up", "partnership"),
        ("Arafura gallium plant first to benefit from US-Australia minerals pact", "agreement", "up", "partnership"),
        # China's trade negotiators act for China: a deal they sign with the US is a truce.
        ("Trump and Liu He sign first-stage trade deal at White House", "agreement", "up", "truce"),
        # Limiting exports lessens them; a market's daily limit limits nothing; a record is a
        # record, whatever "to break" does elsewhere; exports barred without a permit need one.
        ("China will limit exports of antimony", "supply", "down", "export_control_new"),
        ("Rare earth stocks hit daily limits after Xi visit", "price", "up", "price_move"),
        ("Lithium futures jump limit up as supply fears mount", "price", "up", "price_move"),
        ("Antimony prices set to break records after China's export ban to the US", "price", "up", "price_move"),
        ("Graphite products may not be exported without a permit from December 1", "export_control", "up",
         "export_control_new"),
        ("Australia orders China-linked investors to sell down stakes in rare earths miner Northern Minerals",
         "funding", "down", "corporate"),
        # A government ordering holders to sell is news of the company's holders, not public money.
        ("Australia orders China-linked investors to cut stakes in rare earths miner Northern Minerals", "funding",
         "down", "corporate"),
        # Trade talks both sides agree to restart are the agreement lever, not a flow of goods.
        ("Trump and Xi agree to restart trade talks, hold off new tariffs", "agreement", "up", "truce"),
        # Export prices are a price, not the exports.
        ("Dysprosium and terbium export prices climb as Japan supply fears build", "price", "up", "price_move"),
        # "For lack of" names why the line stopped; it does not undo the halt.
        ("Ford halts Explorer line for lack of magnets", "supply", "down", "supply_disruption"),
        # In the passive, the restriction after `by` is the cause of what the verb did.
        ("Suzuki's Swift output halted by China rare earth curbs", "supply", "down", "supply_disruption"),
        # ... also when a reporting verb comes first: the participle, not "say", moves the supply
        # (China's restrictions cutting it: the controls biting, never controls eased).
        ("Parts makers say supply chains disrupted by China rare earth export restrictions", "supply", "down",
         "export_control_new"),
    ],
)
def test_a_headline_reads_into_its_frame(reader, headline, instrument, polarity, event_type):
    """Each pattern a phrase rule gets wrong is read by its structure."""
    fact, _reading = deciding(reader, headline)
    assert fact is not None, headline
    assert (fact.instrument, fact.polarity, event_types(fact)[0]) == (instrument, polarity, event_type)


def test_what_two_parties_agree_carries_on_to_the_next_verb(reader):
    """"Trump and Xi agree to restart trade talks, hold off new tariffs": the tariffs are held
    off by both, as part of what they agreed."""
    reading = reader.read("Trump and Xi agree to restart trade talks, hold off new tariffs", "")
    held = [fact for fact in reading.facts if fact.instrument == "tariff"]
    assert held and held[0].polarity == "down" and held[0].agreed
    assert event_types(held[0])[0] == "truce"


@pytest.mark.parametrize(
    ("headline", "lead", "actor"),
    [
        ("Critical Minerals Strategy 2023-2030",
         "The industry department releases Australia's strategy, with an extra A$500 million for the Critical "
         "Minerals Facility and support for rare earths.", "Australia"),
        ("Immediate Measures to Increase American Mineral Production",
         "The President directs the DFC and the Defense Department to finance domestic mineral production.",
         "DFC, DoD"),
        ("Future Made in Australia: Critical Minerals Production Tax Incentive",
         "A refundable tax offset for processing critical minerals is offered from 2027.", "Australia"),
    ],
)
def test_money_set_aside_or_ordered_spent_is_public_funding(reader, headline, lead, actor):
    """"With A$500 million for the facility", "directs the DFC to finance": money announced or
    ordered is given, though the verb only reports it; a programme's name says whose it is."""
    facts = [f for f in reader.read(headline, lead).facts if f.instrument == "funding" and (f.headline or f.acted)]
    assert facts, headline
    assert event_types(facts[0]) == ("gov_funding",)
    assert facts[0].actor.endswith(actor)


@pytest.mark.parametrize(
    ("headline", "lead"),
    [
        # A general programme used for something else is not the desk's news.
        ("Biden invokes Defense Production Act to speed baby formula supplies", ""),
        # Section 232's test names a threat to security, not to supply.
        ("Section 232 investigation of imports of NdFeB permanent magnets",
         "BIS asks whether imports of sintered magnets threaten to impair national security."),
    ],
)
def test_words_of_a_programme_or_a_statute_are_not_the_event(reader, headline, lead):
    reading = reader.read(headline, lead)
    types = {t for f in reading.facts for t in event_types(f) if "programme" in f.labels or f.instrument == "supply"}
    assert types == set(), [(f.action, f.instrument, event_types(f)) for f in reading.facts]


def test_open_options_after_whether_are_no_contradiction(reader):
    """"... and will decide whether to modify, extend or end it": none of those is done."""
    reading = reader.read(
        "Congo extends cobalt export suspension",
        "The board extends the suspension by three months and will decide before September whether to "
        "modify, extend or end it.",
    )
    assert reading.contradiction == ""
    assert [(f.action, f.polarity) for f in reading.facts if f.headline] == [("extends suspension", "down")]


def test_verbs_joined_by_or_are_options_not_a_contradiction(reader):
    """"A further decision may modify, extend or end it": a choice to come, not two acts."""
    reading = reader.read("Congo extends cobalt export suspension", "A further decision may modify, extend or end it.")
    assert reading.contradiction == ""
    assert reader.read("China suspends and reinstates gallium curbs", "").contradiction


def test_two_verbs_far_apart_across_a_list_do_not_clash(reader):
    """"the first weekly fall in a year, as offers from Myanmar, Laos and Cambodia increased": the
    "and" joins countries, not "fall" and "increased"."""
    reading = reader.read(
        "Antimony slips", "Prices slipped, the first weekly fall in almost a year, as offers from Myanmar, Laos "
        "and Cambodia increased.",
    )
    assert reading.contradiction == ""


@pytest.mark.parametrize(
    ("headline", "clash"),
    [
        # Each verb has its own object: purposes listed, nothing undone.
        ("EU adopts raw materials plan to secure supply, reduce dependencies and boost competitiveness", False),
        ("Japan funds gallium plant to cut its reliance and raise output", False),
        # "Reverses course" says a turn, not which way: the verb after it does.
        ("Beijing reverses course and reinstates gallium export controls", False),
        # One object shared by both verbs, directly or across an adverb: a contradiction.
        ("China suspends and reinstates gallium export controls", True),
        ("China suspends temporarily and reinstates gallium export controls", True),
    ],
)
def test_verbs_with_their_own_objects_do_not_clash(reader, headline, clash):
    """Two verbs pulling opposite ways contradict each other only when they act on the same
    thing; "reduce dependencies" is cut dependence, and "boost competitiveness" a separate aim."""
    reading = reader.read(headline, "")
    assert bool(reading.headline_contradiction) is clash, reading.headline_contradiction
    if not clash:
        assert all(f.polarity == "up" for f in reading.headline_facts), [(f.action, f.polarity) for f in reading.headline_facts]


@pytest.mark.parametrize(
    ("headline", "levels"),
    [
        ("China breaks off talks on rare earths", False),  # "break" crosses no price level
        ("Antimony passes $60,000 per tonne", True),
        ("Ministry clears review of gallium exports", False),
    ],
)
def test_a_level_verb_moves_a_price_only_before_a_price(reader, headline, levels):
    reading = reader.read(headline, "")
    assert any(f.instrument == "price" for f in reading.facts) is levels


def test_a_court_ruling_is_legal_news_and_says_which_way_tariffs_go(reader):
    """One event type, legal; a ruling voiding tariffs moves groups like a tariff cut."""
    from service.rules.frames import directions

    fact, _ = deciding(reader, "Appeals court strikes down the emergency tariffs")
    assert event_types(fact) == ("legal",)
    assert directions(fact, ("legal",))["us_allied_producers"] == "bearish"
    kept, _ = deciding(reader, "Court rules tariffs unlawful but leaves them in place pending appeal")
    assert directions(kept, event_types(kept)) == {}


@pytest.mark.parametrize(
    "headline, kept",
    [
        ("Court voids the tariffs, which stay in force pending appeal", True),
        ("Court voids the emergency tariffs but they remain in effect for now", True),
        ("Court voids the emergency tariffs; duties remain until the appeal", True),
        ("Court voids the emergency tariffs but keeps them in place pending appeal", True),
        ("Appeals court strikes down tariffs but lets them stay during appeal", True),
        ("Court voids the emergency tariffs", False),
        # "remaining" names which tariffs, it does not keep them.
        ("Court voids the emergency tariffs remaining on Chinese goods", False),
    ],
)
def test_a_ruling_whose_tariffs_stay_in_force_moves_nothing_today(reader, headline, kept):
    """A ruling that voids tariffs but leaves them in force is news of the case, not a tariff cut."""
    from service.rules.frames import directions

    fact, _ = deciding(reader, headline)
    assert event_types(fact) == ("legal",)
    assert fact.kept is kept
    assert bool(directions(fact, ("legal",))) is not kept


def test_a_date_that_opens_a_sentence_does_not_make_its_subject_a_target(reader):
    """"From August 1 exporters must obtain licences": a licensing duty, not a list of firms."""
    reading = reader.read("Gallium export rule", "", lead="From August 1 exporters of gallium must obtain licences")
    (fact,) = [f for f in reading.facts if not f.headline and f.acted]
    assert (fact.instrument, fact.firms_targeted, event_types(fact)) == ("export_control", False, ("export_control_new",))


def test_a_company_carried_over_from_the_headline_is_still_a_producer(reader):
    """"... after it said it would halt operations": Lynas's own halt is company news."""
    reading = reader.read("Lynas shares slide after it said it would halt Malaysian operations", "")
    halts = [f for f in reading.facts if f.instrument == "supply"]
    assert [(f.actor, event_types(f)) for f in halts] == [("LYC.AX", ("corporate",))]


@pytest.mark.parametrize(
    ("headline", "actor", "countries"),
    [
        ("MOFCOM suspends gallium export ban", "MOFCOM", {"China"}),
        ("Pentagon takes stake in MP Materials", "DoD", {"United States"}),
        ("Bessent: China to delay rare earth regime for a year", "China", {"China"}),
        ("China, which controls most of the world's supply, tightens export rules", "China", {"China"}),
        ("Magnet shipments out of China collapse", "", set()),
        # "Commerce" with a capital is the department.
        ("Commerce adds Shenghe to Entity List", "Commerce Department", {"United States"}),
    ],
)
def test_the_actor_is_who_acts(reader, headline, actor, countries):
    """Agencies act for their country; a speaker before a colon, an appositive and "out of China" are not the actor."""
    fact, _reading = deciding(reader, headline)
    assert fact is not None
    assert fact.actor == actor
    assert (fact.actor_country and {fact.actor_country} or set()) == countries


def test_a_limit_on_something_else_is_no_limit_on_exports(reader):
    """"Limiting the strength of magnets" is a safety rule: nothing the desk trades is limited."""
    fact, _reading = deciding(reader, "Regulator issues final rule limiting the strength of small magnets")
    assert fact is None


@pytest.mark.parametrize(
    ("headline", "acted"),
    [
        ("USTR Announces Next Steps on Proposed 10 Percent Tariff on Imports from China", False),
        ("US announces next steps on planned tariffs on Chinese magnets", False),
        ("US proposed tariffs on Chinese magnets on Tuesday", True),
    ],
)
def test_a_plan_named_after_a_preposition_is_not_a_plan_made(reader, headline, acted):
    """"Next Steps on Proposed Tariff" names a plan: what is done to it is for the first
    sentence to say (here, a delay), unlike "US proposed tariffs"."""
    facts = reader.read(headline, "").headline_facts
    assert [(f.instrument, f.acted, f.hedged) for f in facts] == [("tariff", acted, True)]


@pytest.mark.parametrize(
    "headline",
    ["US asks China to resume rare earth exports", "India asks state miner IREL to halt rare earth exports to Japan"],
)
def test_what_a_government_asks_for_is_a_request(reader, headline):
    """Asked for, not yet done: the frame is hedged, as a plan or a proposal is."""
    facts = reader.read(headline, "").headline_facts
    assert facts and all(f.hedged for f in facts)


def test_a_chamber_of_commerce_is_not_the_department(reader):
    """A business lobby asking for relief is nobody's government acting."""
    fact, _reading = deciding(reader, "Chamber of Commerce urges tariff relief on magnets")
    assert fact is not None
    assert (fact.actor, fact.public) == ("", False)


@pytest.mark.parametrize(
    ("headline", "public", "event_type"),
    [
        ("Critical Metals wins Washington stake", True, "gov_funding"),
        ("Lithium miner wins US loan for Nevada project", True, "gov_funding"),
        ("Korea Zinc to build $7.4 billion US smelter with Washington taking a stake", True, "gov_funding"),
        # Funds tied to a country are not its government's money.
        ("Treasurer orders Chinese-linked funds to cut stakes in Northern Minerals", False, "corporate"),
    ],
)
def test_a_government_named_with_the_money_makes_it_public(reader, headline, public, event_type):
    """A stake or a loan a government's name stands before is public money, though a company acts."""
    fact, _reading = deciding(reader, headline)
    assert fact is not None and fact.instrument == "funding"
    assert (fact.public, event_types(fact)[0]) == (public, event_type)


@pytest.mark.parametrize(
    ("headline", "actor", "objects"),
    [
        # Passive: the name before the verb is acted on; the agent follows `by` or owns the list.
        ("MP Materials was put on China's unreliable entity list", "China", ("MP",)),
        ("Shenghe Resources added to US Entity List by Commerce Department", "Commerce Department", ("600392.SS",)),
        ("Lynas granted export permit by Malaysia", "Malaysia", ("LYC.AX",)),
        ("Lynas awarded $258 million US defense contract", "United States", ("LYC.AX",)),
        ("Chinese magnet makers were formally placed on the US Entity List", "United States", ()),
        # With no agent, the list's name says whose it is.
        ("Shenghe Resources has been added to the Entity List", "United States", ("600392.SS",)),
        ("MP Materials put on unreliable entity list", "China", ("MP",)),
        ("Northern Rare Earth, JL Mag added to Entity List", "United States", ("600111.SS", "6680.HK")),
        # Not passive: a progressive, an active past tense, "agreed to" after a reporting verb.
        ("AXT shares are tumbling today", "AXTI", ("AXTI",)),
        ("China added gallium to its export control list on Tuesday", "China", ("gallium",)),
        ("Trump says Xi agreed to resume rare earth flows", "White House, Chinese leadership", ("rare earth",)),
    ],
)
def test_a_passive_subject_is_acted_on(reader, headline, actor, objects):
    """Who acts in a passive sentence is the agent or the owner of the list, never its subject."""
    fact, _reading = deciding(reader, headline)
    assert fact is not None
    assert (fact.actor, fact.objects) == (actor, objects)


@pytest.mark.parametrize(
    "headline",
    [
        "China, which controls 70% of rare earth mining, says nothing new",  # dominance, not a control
        "Announcement No. 70 of 2025 of the Ministry of Commerce",  # "No." is no negation, "70 of 2025" no ratio
        "Israel and Hamas agree ceasefire in Gaza",  # a war's ceasefire is no trade truce
        "Documentary 'Rare Earth' wins audience award at film festival",  # a prize is no public money
        "Lanthanum carbonate generic wins approval for dialysis patients",  # a drug's approval is no export licence
        "Rate-cut bets make bullion a magnet for investors",  # interest rates, an idiom
        "Beijing tightens control of rare earth output",  # production quotas, not export controls
        "Carmaker opens magnet plant to cut EU reliance on China",  # less dependence, not less supply
        "Rare earths must not be used to curb China's development, Beijing says",  # containment, no export curb
    ],
)
def test_look_alikes_read_into_no_event(reader, headline):
    """Words of the trade in another sense give no event type."""
    reading = reader.read(headline, "")
    assert [event_types(f) for f in reading.facts if event_types(f)] == []


def test_a_ribbon_cut_at_a_mine_opens_it(reader):
    """A ribbon cutting is a ceremony that opens a mine: the company's supply grows, nothing is cut."""
    facts = [f for f in reader.read("Ramaco holds ribbon cutting at Wyoming rare earth mine", "").facts if event_types(f)]
    assert [(event_types(f), f.polarity, f.actor) for f in facts] == [(("corporate",), "up", "METC")]


def test_a_producer_opening_a_plant_to_cut_reliance_is_its_own_good_news(reader):
    """"To cut EU reliance on China" is less dependence, not less supply: Neo's plant is more of
    its own supply, company news."""
    [fact] = [f for f in reader.read("Neo opens magnet plant to cut EU reliance on China", "").facts if event_types(f)]
    assert event_types(fact) == ("corporate",) and fact.polarity == "up" and fact.actor == "NEO.TO"


@pytest.mark.parametrize(
    "headline",
    [
        "China and the US suspend and reinstate rare earth controls",
        "China eases some rare earth curbs, tightens others",
    ],
)
def test_contradictory_frames_are_said_not_guessed(reader, headline):
    """Frames pulling opposite ways are reported as a contradiction and give no facts."""
    reading = reader.read(headline, "")
    assert reading.contradiction
    assert reading.facts == ()


def test_a_negation_of_a_verb_the_reader_does_not_know_stays_with_it(reader):
    """"..., and their managers may not enter the country": the "not" is about entering, not the
    bar on trade the clause before it tells."""
    reading = reader.read("Announcement", "", lead="The two companies are barred from China-related import and export "
                          "activities, and their senior managers may not enter the country.")
    assert [(f.instrument, f.polarity) for f in reading.facts if f.instrument == "export_control"] == [("export_control", "up")]


def test_rebels_taking_a_mining_hub_disrupt_supply(reader):
    """Whatever the verb, an armed group's seizure of a mine is supply down: two outlets' accounts
    of one seizure must not read as opposite moves."""
    facts = [f for f in reader.read("Myanmar rebels claim control of rare earth mining hub that supplies China", "").facts
             if f.instrument == "supply"]
    assert facts and {f.polarity for f in facts} == {"down"}
    assert all(event_types(f) == ("supply_disruption",) for f in facts)


def test_a_court_takes_the_country_named_before_it(reader):
    """"A US court" acts for the United States, as "the Chinese government" does for China."""
    facts = [f for f in reader.read("US court strikes down Trump's tariffs", "").facts if f.instrument == "tariff"]
    assert [(f.actor, f.actor_kind, f.actor_country) for f in facts] == [("United States", "court", "United States")]
    # Markets lifted by the ruling: the ruling voided the tariffs; nothing lifted them.
    lifted = [f for f in reader.read("US court ruling voiding tariffs lifts Asian markets", "").facts if f.instrument == "tariff"]
    assert [(f.polarity, event_types(f)) for f in lifted] == [("down", ("legal",))]


def test_a_semicolon_ends_a_clause_and_an_exemption_is_no_contradiction(reader):
    """After a semicolon comes a clause of its own: two reversals of one tariff in two clauses are
    two reversals, not one undoing the other. A measure and what it spares do not contradict."""
    delayed = reader.read("Next Steps on Proposed Tariff", "", lead="Duties on laptops and toys will be delayed to "
                          "December 15; other products are removed from the list.")
    assert delayed.contradiction == ""
    assert {(f.instrument, f.polarity) for f in delayed.facts if not f.headline} == {("tariff", "down")}
    spared = reader.read("Copper tariff", "", lead="A 50% tariff is imposed on copper products; refined cathode "
                         "and concentrates are exempt.")
    assert spared.contradiction == ""


def test_but_says_which_clause_counts(reader):
    """'Pauses most tariffs but raises China's rate' is the raise, not a contradiction."""
    fact, reading = deciding(reader, "Trump pauses most new tariffs for 90 days but raises China rate to 125%")
    assert reading.contradiction == ""
    assert (fact.instrument, fact.polarity) == ("tariff", "up")


def test_the_first_sentence_is_read_only_when_asked(reader):
    """A reading reads each sentence once, the first sentence only when something asks for it."""
    from service.rules.frames import Reading

    calls = []

    def sentence(text, headline):
        def read():
            calls.append(headline)
            return reader._sentence(text, headline, None)

        return read

    reading = Reading(
        sentence("China suspends gallium export ban", True),
        sentence("MOFCOM said the ban is suspended until 2026.", False),
    )
    assert calls == []
    assert reading.headline_facts and reading.headline_contradiction == "" and calls == [True]
    assert reading.lead_facts and calls == [True, False]
    assert reading.facts and reading.contradiction == "" and calls == [True, False]
    assert reader.read("China suspends gallium export ban", "").headline_facts == reading.headline_facts


def test_a_frame_shows_as_the_json_contract(reader):
    """`scan --format json` shows each frame as {actor, action, polarity, instrument, object}."""
    fact, _ = deciding(reader, "China suspends ban on gallium exports to US")
    assert fact.frame.as_json() == {
        "actor": "China", "action": "suspends", "polarity": "down", "instrument": "export_control", "object": "gallium",
    }


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "|||", ": : :", "$ $ $", "5 of 2025 of 10", "up 5% down 3% up", "No. No. No.", "(((", "—–—",
        "a" * 5000, "China " * 400 + "bans", "ban and lift and ban and lift", "\u202egallium\u202c ban",
    ],
)
def test_any_text_reads_without_error(reader, text):
    """Odd and long texts give a reading (possibly empty), never an exception."""
    reading = reader.read(text, text)
    assert isinstance(reading.facts, tuple)


@pytest.mark.parametrize(
    ("sentence", "prepared"),
    [
        # A mark takes the spaces after it: "(Filer) - Item" is one break, not two.
        (
            "8-K - MP Materials Corp. (Filer) - Item 1.01 Entry into a Material Definitive Agreement",
            " 8 k | mp materials corp | filer | item 1 01 entry into a material definitive agreement ",
        ),
        # An em dash after a space is a break of its own; a spaced en dash is one too.
        ("China halts exports — and then —— resumes them", " china halts exports | and then | | resumes them "),
        ("Tariffs rise – again, duties – on magnets", " tariffs rise | again | duties | on magnets "),
        # A hyphen inside a word breaks nothing; after a space (or a tab) it breaks a clause.
        ("Rare-earth curbs widen, U.S.-China tariffs rise", " rare earth curbs widen | u s china tariffs rise "),
        ("U.S.-China rare-earth talks", " u s china rare earth talks "),
        ("Curbs widen\t- tariffs rise, 1,200 tonnes", " curbs widen | tariffs rise | 1 200 tonnes "),
        # A semicolon ends a clause for good: its own mark, not a comma's.
        ("Tariffs rise; duties fall", " tariffs rise semicolonbreak duties fall "),
        # A phrasal verb's particle is put back beside it, where the meaning is sure.
        ("US pushes the tariffs back to March", " us pushes back the tariffs to march "),
        ("Trump puts the tariffs back in place", " trump puts the tariffs back in place "),
        ("Stocks push prices back up", " stocks push prices back up "),
        # Few of many is scarcity; a year after "of" is not a total.
        ("Beijing: licences approved for 5 of 180 requests", " beijing colonbreak licences approved for few 5 of 180 requests "),
        ("Approved 5 of 2025 requests and 90 of 100 others", " approved 5 of 2025 requests and 90 of 100 others "),
        ("A list of minerals, none of them priced", " a list of minerals | none of them priced "),
        # Money given, a price per unit, a move by a figure, a percentage.
        ("Lynas raises A$750 million, NdPr at $60,000 per tonne", " lynas raises moneyamount | ndpr at priceamount "),
        ("Tungsten at $600/mtu, gallium at 2,000 yuan a kg", " tungsten at priceamount | gallium at priceamount "),
        # "a" and "per" are words: a figure before "at" is a date, a time or a share count.
        ("The ban takes effect on December 1 at noon", " the ban takes effect on december 1 at noon "),
        ("ASM raises A$30 million at a 12% discount", " asm raises moneyamount at a 12 pct discount "),
        ("Shares rose 5 at the open", " shares rose 5 at the open "),
        # "Up" or "down" and a figure is a move, unless the figure is a length of time.
        ("Lynas down 7% on the news", " lynas downmove 7 pct on the news "),
        ("Trump backs down 2 days after the threat", " trump backs down 2 days after the threat "),
        (
            "India sets aside ₹7,280 crore for magnets, up 12% on last year",
            " india sets aside moneyamount for magnets | upmove 12 pct on last year ",
        ),
        # A firm included in a list is added to it; a list that includes things is no listing.
        (
            "Announcement on Including Lockheed Martin and Raytheon in the Unreliable Entity List",
            " announcement on adding lockheed martin and raytheon to the unreliable entity list ",
        ),
        ("Skydio included in China's entity list", " skydio added to china s entity list "),
        ("A list including gallium in the annex", " a list including gallium in the annex "),
        # A question or an exclamation inside a headline ends a clause.
        ("Why is MP falling? Report says floors dropped", " why is mp falling | report says floors dropped "),
        # A comma inside a figure is no clause break, with or without a dash elsewhere.
        ("Backlog of licence applications grows to 1,000", " backlog of licence applications grows to 1 000 "),
        ("Exports fall to 1,200 tonnes - lowest since 2020, data show",
         " exports fall to 1 200 tonnes | lowest since 2020 | data show "),
        # A grade of product is one word; underscores and accented words are read as words.
        ("Prices of high-purity gallium fall", " prices of highpurity gallium fall "),
        ("snake_case and naïve café déjà-vu", " snake case and naïve café déjà vu "),
    ],
)
def test_a_sentence_is_prepared_as_the_reader_sees_it(sentence, prepared):
    """Lower case, single spaces, clause marks as "|", amounts and counts as the words the
    lexicon knows: what every frame is read from."""
    assert _prepare(sentence) == prepared


@pytest.mark.parametrize(
    ("title", "event_type"),
    [
        # A measure named for exports is an export control: halting its enforcement eases it,
        # where halting the exports themselves stops the flow.
        ("China halts enforcement of its October rare earth export notices", "export_control_eased"),
        ("China suspends implementation of rare earth export notices", "export_control_eased"),
        ("China halts rare earth exports", "export_control_new"),
        # Firms put on a list are a listing; an item put on a control list is an export control.
        ("Commerce adds 12 Chinese rare earth firms to Entity List", "entity_list"),
        ("China adds rare earth magnet technology to its export control list", "export_control_new"),
    ],
)
def test_what_a_measure_is_named_for_sets_the_event(title, event_type):
    verdict = assess(load_ruleset(Path(__file__).resolve().parents[2] / "rules"), title)
    assert verdict.event_types[:1] == (event_type,)
