"""Event frames: who does what to which policy instrument, on what, clause by clause.

A phrase rule knows that "suspend" and "export controls" are both in a headline; it cannot tell
"China suspends its export controls" (an easing) from "China lets the suspension of its export
controls lapse" (new controls again). A frame reads the clause's structure instead:

    China        extends   the suspension of   its export controls   on gallium
    actor        action    (reverses)          instrument            object

Each clause of the headline and of the first sentence gives at most a few frames. Every verb or
noun that reverses what it acts on (suspend, lift, cut, delay, pause, exemption, lapse, few...)
flips the sign once, so nesting resolves by itself: "extends (+) the suspension (-) of controls"
is controls down; "lets the suspension (-) lapse (-)" is controls up; "will not (-) extend (+)
the pause (-)" is up. The instrument's polarity (up: more controls, higher tariffs, more money, a
deal made, more supply, a higher price) and the actor decide the event type (`event_types`),
and the event type decides each watchlist group's direction through the impact map.

The words that carry structure (verbs, instruments, negations, clause breaks) are built in: they
are English, not a desk's choice. The names (countries, agencies and the country they act for,
elements, companies, programmes and the other objects policy acts on) come from watchlists.yaml.
No I/O; one Aho-Corasick pass over each sentence finds every word the reader knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Final, NamedTuple

from service.domain.scoring import RESTRICTIONS, Frame
from service.rules.phrases import distinct, lower, matcher_of, split_lead, squeeze, word_forms

# ---------------------------------------------------------------------------------------------
# The built-in lexicon. Each entry is a lower-case phrase; verbs are inflected automatically
# (suspend -> suspends, suspended, suspending), irregular forms are listed.

#: Verbs that reverse what they act on: a suspended control is less control, a cut tariff a
#: smaller tariff, a lapsed pause no pause, a fall in prices a lower price.
REVERSING_VERBS: Final = tuple(
    verb.strip()
    for verb in """
scale back, roll back, push back, put off, hold off, sell down, divest, offload, pull back, phase out, wind down, call off, back off, back down,
back out of, back away from,
dry up, strike down, knock down, off the table, shut down, close down, run short, run out, hold up,
suspend, pause, delay, postpone, defer, exempt, waive, exclude, lift, remove, drop, scrap, end,
terminate, revoke, rescind, withdraw, ease, relax, loosen, cut, lower, reduce, limit, slash, halve, trim,
shelve, halt, stop, cancel, lapse, expire, fall, slump, plunge, slide, tumble, sink, decline, dip,
slip, crash, collapse, plummet, nosedive, stall, freeze, narrow, soften, dismantle, abandon, unwind, reverse,
invalidate, overturn, void, shrink, unlawful, illegal, invalid, unconstitutional, exceed,
reduction, rescission, termination, elimination, cancellation, withdrawal, idle, shut, curtail,
disrupt, seize, capture, attack, starve, choke, squeeze, throttle, strand, stick, undermine,
derail, scupper, jeopardize, jeopardise, cut off, block, lack, default, lose, refrain from, is off, are off, streamline, simplify, expedite,
speed up, speed, fast track, slow, slow down, rule against, find against, under strain, fray, teeter, in jeopardy, refund,
pull out, spare, escape, retreat, pare, fizzle, weaken, drag down, sag, sour, stumble, falter, skid, crater,
dial back, repeal, abolish, annul, nullify, walk back, come down, unsustainable, strip, draw down, reject, water down, dilute,
temper, tone down, rein in, ratchet down, hit the brakes on, put the brakes on, sunset, at risk, stop buying, halt purchases of, pull the plug on, sue, walk away from, claw back,
toss, throw out, challenge to, challenges to, challenge against, lawsuit against, lawsuits against,
suit against, case against, miss, fall short of, violate, keep a lid on, put a cap on, put a lid on, lag
""".replace("\n", " ").split(",")
)

#: Verbs that keep the sign: they make, keep or raise what they act on.
KEEPING_VERBS: Final = tuple(
    verb.strip()
    for verb in """
step up, ramp up, impose, introduce, add, revive, expand, extend, prolong, broaden, tighten, toughen, strengthen,
recover, buoy, deepen,
answer, respond, sustain,
raise, hike, increase, boost, double, triple, slap, levy, enact, adopt, unveil, announce, issue,
publish, implement, approve, grant, award, sign, agree, reach, strike, seal, conclude, finalize,
finalise, keep, maintain, retain, remain, leave, stay, continue, bite, renew, reinstate, restore, resume, restart, reopen, require,
demand, mandate, order, target, hit, put, place, take, invest, fund, finance, lend, back, buy,
acquire, purchase, stockpile, rise, climb, jump, surge, soar, rally, spike, gain, top,
threaten, plan, propose, consider, weigh, mull, eye, seek, warn, determine, vow, pledge, commit, launch, start,
regulate, monitor, scrutinise, scrutinize, vet, crack down on, clamp down on, come down hard on, double down on,
fall under, bring under, ask, instruct, pitch, float, enforce, ink, turn the screws on, tighten the screws on,
dismiss challenge to, dismiss challenges to, dismiss lawsuit against, dismiss suit against, dismiss case against,
miss out on, wave through, green light, greenlight, rubber stamp, sign off on,
begin, uphold, affirm, confirm, allow, permit, let, make, move, prepare, designate, select, pick, choose, name,
release, present, outline, direct, detail, question, doubt, decide, hit back, strike back, hope, bet,
establish, create, set up, provide, offer, list, say, tell, report, welcome, deny, hear, open, build, expect, need, must,
ink, produce, deliver, ship, commission, authorize, authorise, secure, land, win, receive, obtain, get, addition, imposition,
implementation, expansion, extension, weaponise, weaponize, wield, as leverage, as a weapon, as a bargaining chip,
as a trump card, as a lever, as a counter weapon, as a countermeasure, score, break ground, cut the ribbon,
ribbon cutting
""".replace("\n", " ").split(",")
)

#: Verbs that move a price only when a price level follows: "NdPr breaks 1 million yuan a tonne".
LEVEL_VERBS: Final = {"break": 1, "clear": 1, "cross": 1, "breach": 1, "pass": 1}

#: Verbs with forms `word_forms` does not make.
IRREGULAR: Final = {
    "take": ["took", "taken", "takes", "taking"],
    "keep": ["kept"],
    "hit": ["hits", "hitting"],
    "strike": ["struck", "strikes", "striking"],
    "strike down": ["struck down", "strikes down", "striking down"],
    "break ground": ["broke ground", "broken ground"],
    "seek": ["sought"],
    "rise": ["rose", "risen", "rises", "rising"],
    "fall": ["fell", "fallen"],
    "lose": ["loses", "lost", "losing"],
    "sink": ["sank", "sunk"],
    "slide": ["slid", "slides", "sliding"],
    "set": ["sets", "setting"],
    "set up": ["sets up", "setting up"],
    "put": ["puts", "putting"],
    "cut": ["cuts", "cutting"],
    "let": ["lets", "letting"],
    "say": ["said", "says"],
    "tell": ["told"],
    "buy": ["bought"],
    "lend": ["lent"],
    "begin": ["began", "begun"],
    "make": ["made"],
    "hear": ["heard"],
    "build": ["built"],
    "freeze": ["froze", "frozen"],
    "withdraw": ["withdrew", "withdrawn"],
    "drop": ["drops", "dropped", "dropping"],
    "stop": ["stops", "stopped", "stopping"],
    "slip": ["slips", "slipped", "slipping"],
    "dip": ["dips", "dipped", "dipping"],
    "plan": ["plans", "planned", "planning"],
    "top": ["tops", "topped", "topping"],
    "ban": ["bans", "banned", "banning"],
    "curb": ["curbs", "curbed", "curbing"],
    "run": ["ran", "runs", "running"],
    "hold": ["held", "holds", "holding"],
    "stick": ["stuck", "sticks"],
    "shut": ["shuts", "shutting"],
    # A compound verb inflects its last word.
    "fast track": ["fast tracks", "fast tracked", "fast tracking"],
    "bail out": ["bails out", "bailed out", "bailing out"],
    "green light": ["green lights", "green lighted", "green lit", "green lighting"],
    "greenlight": ["greenlights", "greenlighted", "greenlit", "greenlighting"],
    "rubber stamp": ["rubber stamps", "rubber stamped", "rubber stamping"],
    "pull out": ["pulls out", "pulled out", "pulling out"],
    "eye": ["eyes", "eyed", "eyeing", "eying"],
    "must": [],
}

#: A spokesperson's briefing, told in its title: a report, not an act.
QUESTIONS_ANSWERED: Final = [f"{verb} {whose}{noun}" for verb in ("answer", "answers", "answered", "answering")
                             for whose in ("", "reporters ", "reporter s ", "a reporter s ", "media ", "journalists ")
                             for noun in ("question", "questions", "query", "queries")]
#: Words that turn what follows around: "will not extend", "no longer requires", "denies".
NEGATIONS: Final = ["not", "no", "never", "no longer", "nor", "won t", "doesn t", "didn t", "isn t", "aren t",
             "deny", "denies", "denied", "rule out", "rules out", "ruled out", "refuse", "refuses", "refused",
             # A report rejected or dismissed is denied: "rejects report it plans an export ban".
             *(f"{verb} {noun}" for verb in ("reject", "rejects", "rejected", "dismiss", "dismisses", "dismissed")
               for noun in ("report", "reports")),
             # "ITC votes against duties": the duties are turned down.
             "vote against", "votes against", "voted against",
             # "fail to reach agreement": none reached.
             "fail to", "fails to", "failed to", "failing to",
             # "China unlikely to restrict exports": a restriction doubted is none made (only of a
             # restriction: see `_DOUBTING`).
             "unlikely to"]
#: Quantities that make a flow or a permission small: "only a handful of licences granted".
SCARCITY: Final = ["few", "fewer", "only a handful", "a handful", "a trickle", "a fraction", "scarce", "sparse", "barely any",
            "at zero",
            "a quarter of", "a third of", "a fifth of", "a tenth of", "only a quarter", "only a third", "only a fraction"]
#: Verbs and words that make a frame a threat or a plan rather than a fact.
HEDGES: Final = {"threaten", "plan", "propose", "pitch", "float", "ask", "consider", "weigh", "mull", "eye", "seek", "warn", "vow", "expect", "prepare",
          "move", "question", "doubt", "decide", "hear", "review", "hope", "bet"}
#: Hedges that are a mood of onlookers, not a plan of whoever acts.
MOODS: Final = frozenset({"hope", "bet", "expect", "doubt", "question"})

#: Nouns that reverse the instrument they are about: "a pause on tariffs", "an exemption from".
RELIEF_NOUNS: Final = ["suspension", "pause", "exemption", "waiver", "exclusion", "reprieve", "moratorium",
                "grace period", "relief", "truce", "ceasefire", "cease fire", "halt", "freeze", "rollback",
                "delay", "postponement", "lifting", "removal", "easing"]

#: Words that name an instrument. `None` marks a generic one ("measures", "rules") whose kind the
#: rest of the sentence settles.
INSTRUMENT_WORDS: Final[dict[str | None, list[str]]] = {
    "export_control": [
        "export control", "export controls", "export-control", "control measure", "control measures",
        "export restriction", "export restrictions", "restriction", "restrictions", "restrict", "curb",
        "curbs", "export curb", "ban", "bans", "export ban", "embargo", "licensing requirement",
        "licence requirement", "license requirement", "licence duty", "license duty", "licensing duty",
        "licensing regime", "licensing rule",
        # Conditions attached to a licence restrict it: lifting them lets the holder do more.
        "licence conditions", "license conditions", "licensing conditions", "permit conditions", "conditions on",
        "licensing system", "export licensing", "licensing", "end use check", "end user check",
        # The controls on end users, not the end users themselves ("exports to military end users
        # were halted" is exports halted).
        "end user control", "end user controls", "end use control", "end use controls", "end user rule",
        "end user rules", "end user requirement", "end user requirements", "end user certificate",
        "end user certificates", "end user review", "end user reviews", "end use",
        "foreign direct product rule", "export prohibition", "prohibit", "prohibition",
        "dual use export", "control regime", "licence checks", "license checks", "licensing checks",
        "licensing regime", "licensing requirement", "licensing requirements", "export enforcement", "enforcement",
        "tracking system", "traceability system", "export administration regulations", "commerce control list",
        "fdpr", "foreign direct product rules", "direct product rule", "direct product rules", "tighter controls", "new controls", "controls on",
        "control on", "control over", "controls over", "its controls", "the controls", "those controls",
        "these controls", "such controls", "export rules", "export regime", "controls", "grip", "weapon",
        # A generic measure named for exports is an export control: "halts enforcement of its
        # export notices" eases them, where "halts ... exports" stops the flow.
        "export notice", "export notices", "export measure", "export measures", "export announcement",
        "export announcements", "export regulation", "export regulations", "export requirement",
        "export requirements", "export decree",
        "without a licence", "without a license", "without licences", "without licenses", "without an export licence",
        "without an export license", "without export licences", "without export licenses", "without approval",
        "without a permit", "without permits", "without an export permit", "without export permits",
        "only with a licence", "only with a license", "only with an export licence", "only with an export license",
        "only with licences", "only with licenses", "only under licence", "only under license",
        "to license", "to licence", "will license", "will licence", "licensing of", "licence exports", "license exports",
        "weapons", "weaponise", "weaponize", "weaponised", "weaponized", "trump card",
        "tighten grip", "chokehold", "stranglehold", "licence rule", "licence rules", "license rule",
        "license rules", "licensing rules", "licence regime", "license regime", "licence system", "license system",
        "subject to licensing", "subject to licence", "subject to license", "subject to export licensing",
        "subject to export licences", "subject to export licenses",
        # Checks on smuggling are controls enforced: "tightens checks on rare earth smuggling".
        "smuggling", "anti smuggling",
        # Watching over exports is a control: "steps up scrutiny of rare earth exports".
        "scrutiny", "oversight", "vetting", "export checks", "export inspections", "customs checks",
        "customs inspections",
        # A cap on what may be mined, made or exported (which way a change moves it: `_QUOTAS`).
        "quota", "quotas", "export quota", "export quotas", "mining quota", "mining quotas", "production quota",
        "production quotas", "output quota", "output quotas",
    ],
    "tariff": [
        "tariff", "tariffs", "duty", "duties", "levy", "levies", "import tax", "import taxes", "surcharge",
        "section 301", "section 232", "anti dumping", "countervailing", "customs duty", "customs duties",
        "reciprocal rate", "reciprocal rates", "rate", "rates", "less than fair value", "antidumping", "dumping",
        "anti dumping duty", "countervailing duty",
        # A duty on subsidised imports, not a subsidy.
        "anti subsidy", "antisubsidy", "anti subsidy duty", "anti subsidy duties",
        # What two trading powers pause or impose on each other's goods: tariffs, by and large.
        "trade measure", "trade measures",
    ],
    "entity_list": [
        "entity list", "entity listing", "entity listings", "blacklist", "trade blacklist", "blacklisted",
        "unreliable entity list", "unreliable entities list", "export control list", "export control control list",
        "affiliates rule", "affiliate rule", "affiliates", "50 rule", "50 percent rule", "50 per cent rule", "50 pct rule", "sanctions list",
        "sdn list", "military end user list", "sanction", "sanctions",
    ],
    "funding": [
        "stake", "equity stake", "equity", "investment", "invest", "loan", "lend", "shareholder", "floor",
        "minimum price", "guaranteed minimum price", "price guarantee",
        "largest shareholder", "preferred stock", "warrants",
        "financing", "finance", "funding", "fund", "price floor", "floor price", "offtake", "off take",
        "guarantee", "backstop", "subsidy", "subsidies", "incentive", "incentives", "tax credit", "tax break",
        "tax breaks", "tax holiday",
        "letter of interest", "letter of intent", "conditional commitment", "stockpile", "stockpiling",
        "strategic reserve", "national stockpile", "purchase agreement", "procurement", "contract",
        "scheme", "bailout", "capital", "backing", "support package", "credit facility", "debt",
        "strategic project", "strategic raw materials project", "strategic raw material project",
        "raw materials project", "moneyamount",
        # A company's own money: what it raises and what it earns.
        "placement", "raising", "capital raising", "equity raising", "rights issue", "share purchase plan",
        "entitlement offer", "offering", "share sale", "share offering", "stock offering", "equity offering",
        "public offering", "offerings", "profit", "profits", "net profit", "earnings", "results", "quarterly results",
        "net loss", "half loss", "year loss", "quarter loss", "quarterly loss", "annual loss",
        "annual results", "half year results", "earnings miss", "quarter miss", "revenue miss", "guidance",
        "revenue", "revenues", "net income",
    ],
    "agreement": [
        "deal", "agreement", "pact", "framework", "accord", "memorandum of understanding",
        "mou", "partnership", "alliance", "treaty", "arrangement", "consensus",
        "detente", "joint statement", "cooperation", "collaboration", "compact", "understanding",
        "trade deal", "trade talks", "trade negotiations", "thaw", "détente", "rapprochement", "commitment", "work together", "cooperate", "coordinate", "coalition", "action plan",
        "initiative",
        "plan of action", "joint", "club", "buyers club", "trade bloc", "trading bloc", "trade zone", "trading zone",
        "bloc", "minerals bloc",
    ],
    "permit": [
        "licence", "licences", "license", "licenses", "export licence", "export licences",
        "export license", "export licenses", "permit", "permits", "approval", "approvals",
        "export approval", "export approvals", "general licence", "general license",
        "record of decision", "records of decision",
        # "eases licensing with streamlined permits": a kind of permit, not a second verb.
        "streamlined permit", "streamlined permits", "streamlined licence", "streamlined licences",
        "streamlined license", "streamlined licenses", "streamlined approval", "streamlined approvals",
        # Applications approved are licences granted, where exports are in view.
        "application", "applications", "licence application", "licence applications", "license application",
        "license applications",
    ],
    "supply": [
        "export", "exports", "shipment", "shipments", "supply", "supplies", "production", "output",
        "delivery", "deliveries", "imports", "flow", "flows", "cargo", "cargoes", "sales", "operations",
        "mining", "processing", "production line", "assembly line", "line", "lines", "plant", "plants",
        "trade", "crossing", "crossings", "border crossing", "border crossings", "border", "borders", "shipping",
        "factory", "factories", "mine", "mines", "refinery", "refineries", "smelter", "smelters",
        "supplying", "project", "projects", "construction",
        # A deal to export is the flow itself: suspended, the exports stop.
        "export deal", "export deals", "export agreement", "export agreements", "export contract",
        "export contracts", "export pact", "export pacts", "export arrangement", "export arrangements",
    ],
    "price": [
        "priceamount", "price", "prices", "quote", "quotes", "price index", "index", "shares", "share price", "stock",
        "stocks", "equities", "valuation", "premium", "premiums", "market value",
        # "export prices climb": the price of what is exported, not the exports.
        "export price", "export prices", "import price", "import prices",
    ],
    "court": ["ruling", "lawsuit", "case", "appeal", "hearing", "verdict", "decision", "judgment",
              "opinion", "slip op"],
    None: ["measure", "measures", "rule", "rules", "regulation", "regulations", "notice", "notices",
           "announcement", "announcements", "decree", "provisions", "regime", "requirements",
           "countermeasure", "countermeasures"],
}
#: Which instruments a clause reads first when it names several: a restriction before the money,
#: the deal, the licences and the flows it bears on.
HEAD_ORDER: Final = ("export_control", "tariff", "entity_list", "funding", "agreement", "permit", "court", "supply", "price")
#: Verbs that name an instrument by themselves: "China bans exports" is export controls, up.
PRICE_VERBS: Final = ("rise", "climb", "jump", "surge", "soar", "rally", "spike", "gain", "break through", "surpass", "top", "fall", "slump",
               "plunge", "slide", "tumble", "sink", "decline", "dip", "slip", "crash", "rebound", "retreat", "soften",
               "plummet", "nosedive", "skyrocket", "double", "triple", "quadruple")
VERB_INSTRUMENTS: Final = {**{verb: "price" for verb in PRICE_VERBS}, "produce": "supply", "ship": "supply",
                    # "breaks ground at Brook Mine": building starts, supply to come.
                    "break ground": "supply", "cut the ribbon": "supply", "ribbon cutting": "supply",
                    # "will stop buying their rare earths": the buyer's imports stop.
                    "stop buying": "supply", "halt purchases of": "supply",
                    # "Pentagon to buy magnets from MP": goods bought are a flow to the buyer.
                    "buy": "supply", "purchase": "supply",
                    "deliver": "supply", "award": "funding", "back": "funding", "ban": "export_control",
                    "bar": "export_control", "adjust imports": "tariff", "restrict": "export_control", "curb": "export_control",
                    "prohibit": "export_control", "embargo": "export_control",
                    "blacklist": "entity_list", "sanction": "entity_list", "invest": "funding",
                    "lend": "funding", "fund": "funding", "finance": "funding", "stockpile": "funding",
                    "subsidise": "funding", "subsidize": "funding", "bankroll": "funding",
                    "levy": "tariff", "export": "supply", "supply": "supply",
                    # "using rare earth exports as leverage": exports held back on purpose.
                    **{verb: "export_control" for verb in ("weaponise", "weaponize", "wield", "as leverage", "as a weapon",
                                                          "as a bargaining chip", "as a trump card", "as a lever",
                                                          "as a counter weapon", "as a countermeasure")},
                    "score": "funding", "bail out": "funding", "partner": "agreement", "team up": "agreement"}
#: Verbs that make a licence a requirement (export controls up), not a permission granted.
REQUIRING: Final = {"require", "demand", "mandate", "need", "must", "impose", "introduce", "implement", "subject"}
#: Licences a government answers with are imposed: "China hits back with export licences".
_RETALIATING: Final = frozenset({"hit back", "strike back", "retaliate", "respond", "answer"})
#: A licence regime that starts is a requirement; licences a government starts granting are not.
_STARTING: Final = frozenset({"start", "begin", "launch"})
_GRANTING: Final = frozenset({"grant", "issue", "approve", "award", "receive", "obtain", "get", "win", "secure", "allow",
                       "permit", "let", "wave through", "green light", "greenlight", "rubber stamp", "sign off on"})
#: A company's money news that holders take badly: a raise below the market, a loss, a cost blow-out.
_SETBACK_MONEY: Final = re.compile(r"\b(?:discount(?:ed)?|net loss|(?:half|year|quarter|quarterly|annual) loss|loss of|cost blow ?outs?|"
                            r"costs? (?:blows?|blew|blown|balloons?|ballooned|soars?|soared|jumps?|jumped) (?:out |up )?(?:to|by)|"
                            r"blow ?outs? (?:hit|in cost)|cost overruns?|write ?downs?|impairments?|going concern|"
                            r"(?:earnings|quarter|revenue|results) miss(?:es)?|(?:cuts?|lowers?) (?:its )?guidance|"
                            r"miss(?:es|ed)? (?:its |the )?(?:\w+ )?(?:guidance|forecasts?|estimates?|expectations|targets?)|"
                            r"below (?:its |prior |previous |earlier )?(?:guidance|forecasts?|expectations)|"
                            # "warns it may need new funds": more shares or debt to come.
                            r"needs? (?:new |more |fresh |further |additional |extra )?(?:funds|funding|capital|cash|money))\b")
#: What a company earns: its results when a company is named, nothing to the desk otherwise.
_EARNINGS: Final = frozenset({"revenue", "revenues", "net income"})
#: A loss that shrinks or turns to profit is better news, though it names a loss.
_BETTER_MONEY: Final = re.compile(r"\b(?:narrow(?:s|ed|ing)? (?:its |the )?(?:\w+ )?loss|narrower (?:\w+ )?loss|"
                           r"(?:swings?|swung|returns?|returned|turns?|turned) to (?:a )?profit)\b")
#: A company selling new shares: holders are diluted, usually at a discount.
_EQUITY_RAISES: Final = frozenset({"placement", "placements", "share purchase plan", "entitlement offer", "capital raising",
                            "equity raising", "rights issue", "share sale", "share offering", "stock offering",
                            "equity offering", "public offering"})
#: Idioms of a share price beaten down: "rare earth stocks get rocked".
BEATEN: Final = [f"{verb} {hurt}" for verb in ("get", "gets", "got")
          for hurt in ("rocked", "hammered", "crushed", "battered", "pummeled", "pummelled", "clobbered")] + [
    f"{verb} a {blow}" for verb in ("take", "takes", "took") for blow in ("beating", "hit")]
#: Verbs that say a price got somewhere, not which way it went.
_REACHING: Final = frozenset({"hit", "reach", "touch", "mark"})
#: Selling a holding takes money out; selling a good is a flow like any other. Not "sold",
#: which is more often an adjective ("products sold for entertainment").
_SELLING: Final = frozenset({"sell", "sells", "selling", "dump", "dumps", "unload", "unloads", "pull", "pulls", "pulled",
                             "pulling", "exit", "exits", "exited", "exiting"})
#: Verbs of watching over what they act on.
_WATCHING: Final = frozenset({"regulate", "monitor", "scrutinise", "scrutinize", "vet"})
#: Verbs that keep a control up and let a flow through less ("China scrutinises rare earth
#: exports", "cracks down on smuggling").
_RESTRAINING: Final = _WATCHING | frozenset({"crack down on", "clamp down on", "come down hard on", "turn the screws on",
                                              "tighten the screws on"})
#: Verbs that, done to licences, grant fewer of them.
_HOLDING_UP: Final = _WATCHING | frozenset({"reject", "tighten"})
#: Verbs that loosen a restraint: done to a flow, they let more of it through.
_LOOSENING: Final = frozenset({"ease", "relax", "loosen"})
#: Verbs the lexicon knows as nouns: they say which way, but whose ("Japan to fund Lynas's
#: expansion") is for the clause's own verb or instrument to say.
_NOMINAL_VERBS: Final = frozenset({"expansion", "extension", "addition", "imposition", "implementation", "reduction",
                                   "rescission", "termination", "elimination", "cancellation", "withdrawal"})
#: Verbs of a company asking for a licence: with an export, the licence is a new duty.
_SEEKING: Final = frozenset({"seek", "apply"})
_ADDING: Final = frozenset({"add", "include", "extend"})
_PLACING: Final = frozenset({"put", "place"})
#: A cap on how much may be mined, produced or exported, as the lexicon keys it.
_QUOTAS: Final = frozenset(word for word in INSTRUMENT_WORDS["export_control"] if word.endswith(("quota", "quotas")))
#: Verbs that move a level up or down (not the ones that bring a thing into being or end it).
_LEVEL_CHANGING: Final = frozenset({"raise", "increase", "boost", "rise", "expand", "double", "cut", "reduce", "lower",
                                    "slash", "halve", "shrink", "trim"})
#: Target markers that as often start a date ("from August 1", "by July").
_TIME_MARKERS: Final = frozenset({"from", "by", "at", "over"})
#: Verbs that make a process lighter: fewer controls, or more licences sooner.
_FACILITATING: Final = frozenset({"streamline", "simplify", "expedite", "speed up", "speed", "fast track"})
#: A modal or "to" between a noun and its verb: the noun acts ("delays will hit revenue").
_ACTIVE_AFTER: Final = re.compile(r" (?:will|would|could|may|might|to|set to|likely to|expected to) ")
#: What a government does to take back a permission it gave: "revokes general licences".
_REVOKING: Final = frozenset({"revoke", "cancel", "withdraw", "rescind", "terminate", "scrap"})
#: What a government does to grow a supply it wants ("boosts mining", "opens lands to mining").
_FOSTERING: Final = _FACILITATING | frozenset({"boost", "expand", "increase", "accelerate", "open", "develop", "build",
                                              "support", "promote", "ramp up", "scale up", "bolster", "strengthen",
                                              "spur", "revive", "restart",
                                              # "Malaysia lets Lynas keep processing": leave to go on
                                              "let", "allow",
                                              # "Australia approves Arafura's Nolans project"
                                              "approve", "wave through", "green light", "greenlight",
                                              "rubber stamp", "sign off on"})
#: What ends a clause. Subordinators also mark what follows as background to the main clause.
SUBORDINATORS: Final = ["after", "as", "amid", "following", "despite", "while", "because", "since", "ahead of",
                 "before", "even as", "in response to", "in retaliation for", "which", "that", "who",
                 "where", "when", "whereas", "although", "though", "if", "unless", "over", "citing",
                 "due to", "because of", "owing to", "traced to", "blamed on", "attributed to", "caused by",
                 "on concerns", "on fears", "on hopes", "in protest at",
                 "in retaliation", "in tariff retaliation", "in retaliation against", "as retaliation",
                 "to counter", "to reduce reliance", "to break", "to challenge", "to loosen", "in a bid to",
                 "in push to", "in a push to", "in its push to",
                 "aimed at", "in light of", "in view of", "given", "thanks to", "to shield", "to protect",
                 "to insulate", "to guard", "to safeguard", "to punish", "to pressure", "whether"]
#: Causes only a headline marks this briefly ("halts output over tariffs"); in a sentence
#: "over" is as often "about" ("duties over the flow of opioids").
HEADLINE_ONLY: Final = frozenset({"over", "citing", "on concerns", "on fears", "on hopes"})
CONJUNCTIONS: Final = ["and", "but", "or", "yet", "then", "and then"]
#: Prepositions before a country or company mark it as a target, not the actor.
TARGET_MARKERS: Final = ["on", "to", "against", "from", "for", "with", "into", "over", "toward", "towards", "by", "at",
                  "of", "out of"]
#: Words that say a price moved up or down although no verb of ours did.
PRICE_UP: Final = ["higher", "upmove", "record high", "record", "all time high", "multi year high", "two year high", "year high",
            "month high", "week high", "highest", "high", "rally", "surge", "jump", "spike", "gain", "gains"]
PRICE_DOWN: Final = ["downmove", "record low", "all time low", "multi year low", "two year low", "year low", "month low",
              "week low", "lowest", "low", "slump", "plunge", "slide", "drop", "decline", "losses", "loss", "selloff",
              "sell off"]
#: "controls 70% of", "controls most of": dominance, not a control.
_DOMINANCE_AFTER: Final = re.compile(r" (?:\d+|most|much|the|nearly|about|around|roughly|almost|a|an|over \d|more than|"
                              r"some|upwards|up to|virtually|practically|global|world|its|their|"
                              # "tightens control of output": production quotas, not exports
                              r"(?:of|over) (?:the |its |rare earth |domestic )?(?:output|production|mining|"
                              r"smelting|separation|refining|quotas?|industry|sector))\b")

US: Final = "United States"
CHINA: Final = "China"

# Tags of the tokens a sentence is read into.
ACTOR: Final = 0
VERB: Final = 1
RELIEF: Final = 2
INSTRUMENT: Final = 3
OBJECT: Final = 4
NEGATION: Final = 5
SCARCE: Final = 6
BREAK: Final = 7
SUBORDINATE: Final = 8
CONJUNCTION: Final = 9
TARGET: Final = 10
UP: Final = 11
DOWN: Final = 12
PROGRAMME: Final = 13
DEFICIT: Final = 14
EXCLUDE: Final = 15
INERT: Final = 16

#: Phrases read as nothing, so their words are not read apart: "executive order" names a
#: document, not an order given.
INERT_PHRASES: Final = ["executive order", "executive orders",
                 # Whom exports go to ("exports to military end users were halted"), not an ending
                 # and not a control (the controls on them are instrument words).
                 "end user", "end users",
                 # "may lead to Entity List designations": the verb, not the metal; a duty to
                 # report is no tariff.
                 "lead to", "leads to", "leading to", "reporting duty", "reporting duties",
                 # Trade as a relationship, not a flow of goods: "trade war" is no shipment.
                 "trade war", "trade wars", "trade dispute", "trade disputes",
                 "trade tensions", "trade fight", "trade row", "trade spat", "trade relations",
                 # A market's price band, not a limit put on anything: "shares hit the daily limit".
                 "daily limit", "limit up", "limit down", "price limit", "trading limit",
                 # Adjectives, not acts: "sign a long-delayed minerals deal" is a deal signed.
                 "long delayed", "long stalled", "long awaited", "long running", "long planned",
                 # Plans as a noun, worked out: "suspend the measures and study detailed plans".
                 "detailed plans", "detailed plan", "specific plans", "specific plan", "concrete plans",
                 "implementation plans", "implementation plan", "work plan", "work plans",
                 # Not a government's commerce department.
                 "chamber of commerce", "chambers of commerce", "e commerce", "ecommerce",
                 # A negation of something the frame does not read: "warns not to underestimate
                 # China's leverage", "fell with no company news".
                 "not to underestimate", "not underestimate", "no company news", "no company specific news",
                 "no news", "no new information",
                 # Interest rates, and "a magnet for investors".
                 "rate cut", "rate cuts", "interest rate", "interest rates", "rate hike", "rate hikes",
                 "a magnet for", "magnet for investors", "top magnet for", "magnet for millionaires",
                 # "rebels take control of the mining hub": a place seized, not an export control.
                 "take control", "takes control", "took control", "taken control", "seize control", "seized control",
                 "seizes control", "gain control", "gained control", "gains control",
                 # Curbing a glut, prices or emissions is no export curb.
                 "curb a glut", "curb the glut", "curb a supply glut", "curb oversupply", "curb an oversupply",
                 "curb the oversupply", "curb inflation", "curb emissions", "curb speculation", "curb glut",
                 # Beijing's phrase for containment: "must not be used to curb its development".
                 "curb its development", "curb china s development", "curb chinese development", "curb its rise",
                 "curb china s rise", "curb its growth", "curb china s growth",
                 # A ceremony, not a cut.
                 "ribbon cutting", "ribbon cut",
                 # Who makes weapons is a buyer of magnets, not rare earths used as a weapon:
                 # "cutting supply to US weapons makers" cuts supply.
                 "weapons maker", "weapons makers", "weapons manufacturer", "weapons manufacturers",
                 "weapons contractor", "weapons contractors", "weapons system", "weapons systems", "weapon system",
                 "weapon systems", "weapons programme", "weapons programmes", "weapons program", "weapons programs",
                 "weapons production", "weapons industry", "weapons supplier", "weapons suppliers"]

#: Nouns that are a flow gone short by themselves: a shortage is supply, down.
DEFICITS: Final = ["force majeure", "shortage", "shortages", "scarcity", "squeeze", "crunch", "disruption", "disruptions", "bottleneck",
            "bottlenecks", "outage", "fighting", "clashes", "conflict", "unrest", "backlog", "backlogs",
            "stockout", "stockouts", "stock out", "stock outs",
            "fear", "fears", "concern", "concerns", "worry", "worries",
            "supply crunch", "supply shock", "supply squeeze", "chokehold", "stranglehold", "choke point",
            "force majeure",
            # "halts its line for lack of magnets": the noun, not the verb "lack" undoing "halts".
            "lack of",
            # Stocks of a material that run low are inventories, not shares: "magnesium stocks run low".
            *(f"{stock} {modal}{verb}" for stock in ("stocks", "stockpiles", "inventories", "inventory")
              for modal in ("", "could ", "may ", "might ", "will ", "would ", "are ", "were ", "is ", "have ")
              for verb in ("run low", "running low", "ran low", "run out", "running out", "ran out", "run short",
                           "running short", "ran short", "dwindle", "dwindles", "dwindling", "dwindled"))]

#: Words that name a company or a government without naming which one.
SOME_COMPANY: Final = ["company", "companies", "firm", "firms", "entities", "organisations", "organizations", "miner", "miners", "producer", "producers", "manufacturer",
                "manufacturers", "carmaker", "carmakers", "automaker", "automakers", "supplier", "suppliers",
                "refiner", "refiners", "magnet maker", "magnet makers", "rare earth magnet maker", "ev maker", "ev makers",
                "electric vehicle maker", "electric vehicle makers",
                "rare earth magnet makers", "exporter", "exporters", "importer",
                "importers", "buyer", "buyers", "processor", "processors", "plant operator"]
#: Armed groups: fighting around a mine is a disruption, not a government's export control.
ARMED_GROUPS: Final = ["rebels", "rebel", "militia", "militias", "insurgents", "armed group", "armed groups", "fighters",
                "junta", "army", "troops", "kachin independence army", "kia"]
#: "Leaves" that keeps what follows as it is ("leaves April licensing in place"), not a consequence.
_LEAVING: Final = frozenset({"leave", "leaves", "left", "leaving"})
_LEFT_AS_IT_IS: Final = re.compile(r"(?: [a-z0-9]+){1,6}? (?:in place|intact|unchanged|untouched|in force|in effect)\b")
#: Verbs that start a new clause of consequence: "a shortage forces lines to halt".
CAUSES: Final = ["forces", "forced", "forcing", "prompts", "prompted", "prompting", "causes", "caused", "leads",
          "led", "drives", "drove", "compels", "compelled", "leaves", "left", "pushes", "pushed", "propel",
          "propels", "propelled", "sends", "sent", "sending", "sparks", "sparked", "triggers", "triggered",
          "fuels", "fueled", "fuelled", "push", "drive", "send", "force", "prompt", "spark", "trigger", "fuel",
          "deflate", "deflates", "deflated", "hit hopes", "erase", "erases", "erased", "wipe out", "wipes out",
          "wiped out", "cut short", "cuts short", "lift markets", "lifts markets", "lifted markets", "lifting markets",
          "boost markets", "boosts markets", "boosted markets", "boosting markets"]
#: Consequences that undo what follows: "truce hopes deflate the rare earth rally" ends a rally.
UNDOING: Final = frozenset({"deflate", "deflates", "deflated", "hit hopes", "erase", "erases", "erased", "wipe out",
                     "wipes out", "wiped out", "cut short", "cuts short"})
#: Verbs whose direction is unknown ("modifying tariff rates"): the frame waits for a clause that says.
UNSIGNED_VERBS: Final = ["set", "sets", "setting", "modify", "modifying", "modifies", "modified", "adjust", "adjusting", "adjusts", "adjusted",
                  # "reverses course and reinstates the ban": the turn is told by the next verb.
                  "reverse course", "reverses course", "reversed course", "reversing course",
                  "amend", "amending", "amends", "amended", "revise", "revising", "revises", "revised", "optimise",
                  "optimising", "optimize", "optimizing", "update", "updating", "updates", "updated", "change",
                  "changes", "changing", "changed", "reform", "reforms", "review", "reviews", "reviewing",
                  "revision", "revisions", "adjustment", "adjustments", "modification", "modifications",
                  "declined to", "declines to", "declining to", "refused to comment",
                  # Selling a holding takes money out (the reader reverses funding for these);
                  # selling shares says nothing of their price, selling a good nothing of how
                  # much of it there is.
                  *sorted(_SELLING)]
#: Words that name the other side, not a party: "pricing outside China", "reliance on China".
EXCLUDING: Final = ["outside", "ex", "beyond", "away from", "reliance on", "dependence on", "independent of", "without",
             "free of", "non"]
#: Companies news names often that are not on a watchlist: their deals are company news.
KNOWN_COMPANIES: Final = ["apple", "korea zinc", "nvidia", "amd", "catl", "vulcan elements", "noveon", "general electric", "bmw",
                   "volkswagen", "toyota", "suzuki", "hyundai", "bosch", "siemens", "alcoa", "rio tinto", "bhp",
                   "glencore", "albemarle", "solvay", "lithium americas", "ucore", "saudi aramco", "maaden",
                   "sumitomo", "sojitz", "posco", "samsung", "lg", "panasonic", "boeing", "northrop grumman",
                   "general dynamics", "microsoft", "google", "amazon", "trilogy metals", "reelement",
                   "reelement technologies", "graphite one"]
SOME_COURT: Final = ["court", "courts", "judge", "judges", "panel of judges", "trade court", "high court",
                     "wto panel", "wto dispute panel", "dispute panel", "appellate body"]
SOME_GOVERNMENT: Final = ["government", "governments", "ministry", "administration", "authorities", "regulator",
                   "regulators", "officials", "lawmakers", "congress", "senate", "parliament", "cabinet",
                   "state council", "commission", "president", "premier", "prime minister", "minister",
                   "department", "agency", "bureau", "federal", "commonwealth"]


class Token(NamedTuple):
    """One word or phrase of a sentence the reader knows."""

    tag: int
    start: int  # character offset in the prepared sentence
    end: int
    text: str  # the words as the sentence has them
    #: ACTOR: (kind, name, country); VERB: (lemma, sign, instrument or None); INSTRUMENT: kind;
    #: OBJECT: (label, labels); RELIEF/others: the lemma.
    value: Any = None


#: Builds a Token from its five fields without the keyword handling of Token(...): the reader
#: makes one per word it knows, and this is a measurable share of reading a sentence.
_new_token: Final = tuple.__new__


class FrameFact(NamedTuple):
    """One frame as the engine uses it: the public `Frame` plus what conditions and event types read."""

    actor: str
    actor_kind: str  # "government", "court", "company", "armed group" or "" (none named)
    actor_country: str  # the country the actor acts for, or ""
    action: str
    polarity: str  # "up" | "down"
    instrument: str
    objects: tuple[str, ...]  # names as a person reads them
    labels: frozenset[str]  # what `frame: {object: ...}` tests: categories, object groups, "company", tickers
    countries: frozenset[str]  # every country the clause names or implies (actor, agencies, targets)
    companies: tuple[str, ...]  # watchlist tickers the clause names
    relief: str = ""  # the relief noun the clause hangs on ("pause", "truce"), if any
    hedged: bool = False  # a threat, plan or proposal
    headline: bool = True  # from the headline (else the first sentence)
    trade_flow: bool = False  # the instrument is exports or shipments (a government can halt them by policy)
    #: Something is done to the instrument (a verb, a relief noun, a shortage): not a bare noun phrase.
    acted: bool = True
    #: The clause says the parties agreed ("agree", "reach", "strike", "sign").
    agreed: bool = False
    #: Every instrument kind the clause names, for telling a pact that funds from a grant.
    kinds: frozenset[str] = frozenset()
    #: The clause follows a "but" or a cause ("X, but Y"; "X drives Y"): Y is the point.
    contrast: bool = False
    #: A public body (an agency, "the government", a programme) is in the clause.
    public: bool = False
    #: The sentence says the instrument stays "in place", "in effect" or "in force".
    kept: bool = False
    #: A price frame about shares (a company's, the sector's), not the material's.
    shares: bool = False
    #: Companies are the target ("to 15 US firms"): controls on them are a list.
    firms_targeted: bool = False
    main: bool = True  # the main clause (else background: "after ...", "as ...")
    #: Hedged by a mood ("truce hopes grow", "bets on"), not by a plan someone has made.
    mood: bool = False
    #: The actor orders others to do it ("orders China-linked funds to cut their stakes").
    ordered: bool = False
    #: The actor grows or speeds a supply ("fast-tracks mines", "boosts output"), not imports.
    fostered: bool = False
    #: The actor takes back what it granted ("revokes general licences"), not merely slow to grant.
    revoked: bool = False

    @property
    def frame(self) -> Frame:
        return Frame(self.actor, self.action, self.polarity, self.instrument, ", ".join(self.objects))


#: Builds a FrameFact from all its fields in order, without FrameFact(...)'s keyword handling,
#: which runs as Python even in the compiled engine (a tenth of reading a clause's frame).
_new_fact: Final = tuple.__new__
#: The order `_frame` gives them in: a field added or moved must be added or moved there too.
_FACT_FIELDS: Final = (
    "actor", "actor_kind", "actor_country", "action", "polarity", "instrument", "objects", "labels", "countries",
    "companies", "relief", "hedged", "headline", "trade_flow", "acted", "agreed", "kinds", "contrast", "public",
    "kept", "shares", "firms_targeted", "main", "mood", "ordered", "fostered", "revoked",
)
if FrameFact._fields != _FACT_FIELDS:
    raise ImportError(f"FrameFact's fields changed ({FrameFact._fields}); update _FACT_FIELDS and _frame's order")


#: The instruments whose frames give each event type (what a `frame: {type: ...}` condition
#: must find words of before it reads any frame).
TYPE_INSTRUMENTS: Final[dict[str, tuple[str, ...]]] = {
    "export_control_new": ("export_control", "supply", "permit"),
    "export_control_eased": ("export_control", "supply", "permit"),
    "truce": ("agreement", "tariff", "export_control"),
    "tariff_up": ("tariff", "agreement"),
    "tariff_down": ("tariff",),
    "entity_list": ("entity_list", "export_control"),
    "gov_funding": ("funding", "agreement", "supply"),
    "partnership": ("agreement", "funding"),
    "supply_disruption": ("supply", "permit"),
    "corporate": ("funding", "agreement", "supply", "permit"),
    "legal": ("court", "tariff"),
    "price_move": ("price",),
}


#: Words of restrictions a regulator puts on one company ("lifts the conditions on Lynas's
#: licence"): all a company's news needs of the export-control words before reading a sentence.
COMPANY_RESTRICTIONS: Final = ("restriction", "restrictions", "curb", "curbs", "conditions", "licence conditions",
                               "license conditions", "licensing conditions", "permit conditions")


def head_words(programmes: Iterable = ()) -> dict[str, list[str]]:
    """Per instrument, every word that can start a frame of it (what the engine looks for in a
    sentence before it reads it), and under "company_restriction" those of `COMPANY_RESTRICTIONS`."""
    words = {kind: instrument_words({kind}, programmes) for kind in HEAD_ORDER}
    words["company_restriction"] = list(COMPANY_RESTRICTIONS)
    return words


def instrument_words(kinds: Iterable[str], programmes: Iterable = ()) -> list[str]:
    """Every word that can name one of these instruments: a frame of them needs one of these."""
    kinds = set(kinds)
    words: list[str] = []
    for kind in kinds:
        words.extend(INSTRUMENT_WORDS.get(kind, ()))
        for verb, instrument in VERB_INSTRUMENTS.items():
            if instrument == kind:
                words.extend((verb, *IRREGULAR.get(verb, ())))
                if " " in verb:
                    # A phrasal verb inflects its first word, as the lexicon has it ("stops buying").
                    words.extend(" ".join(form) for form in _forms(verb.split(), True))
    if kinds & {"export_control", "tariff", "entity_list", "funding"}:
        words.extend(INSTRUMENT_WORDS[None])  # "measures", "rules": what they are depends on the rest
    if "export_control" in kinds:
        words.extend(("exporter", "exporters"))  # "requires exporters to report buyers": a duty on them
        # "to require licences for antimony exports": a licence required is a control.
        words.extend(INSTRUMENT_WORDS["permit"])
    if "funding" in kinds:
        # The verb "grant" is money where a verb or "a" comes before it ("freezes grant to ...",
        # `FrameReader._tokens`).
        words.extend(("grant", "grants"))
    if "supply" in kinds:
        words.extend(DEFICITS)
        words.extend(INSTRUMENT_WORDS["permit"])
    if "agreement" in kinds:
        words.extend(["truce", "ceasefire"])
    if "court" in kinds:
        words.extend(SOME_COURT)
    for programme in programmes:
        if programme.instrument in kinds:
            words.extend((programme.name, *programme.aliases))
    if "price" in kinds:
        # "tungsten at its highest since 2013": a record named is a price, with no price word.
        words.extend(w.replace("upmove", "up").replace("downmove", "down") for w in (*PRICE_UP, *PRICE_DOWN))
    if "moneyamount" in words:
        # The reader marks amounts of money; the phrase prefilter sees their words.
        words.remove("moneyamount")
        words.extend(["million", "billion", "trillion", "crore", "bn", "mn"])
    return sorted(set(words))


def _no_sentence() -> tuple[list[FrameFact], str]:
    return [], ""


class Reading:
    """The frames of one article, the headline's first. Each sentence is read when something
    first asks for it: reading is the costly part of a verdict, and a headline usually says
    enough."""

    __slots__ = ("_headline", "_headline_facts", "_headline_clash", "_lead", "_lead_facts", "_lead_clash")

    def __init__(
        self,
        headline: Callable[[], tuple[list[FrameFact], str]] | None = None,
        lead: Callable[[], tuple[list[FrameFact], str]] | None = None,
    ) -> None:
        #: () -> (facts, clash) for each sentence; a missing sentence is never read (its facts
        #: are known to be none).
        self._headline = headline or _no_sentence
        self._lead = lead or _no_sentence
        self._headline_facts: tuple[FrameFact, ...] | None = None if headline is not None else ()
        self._lead_facts: tuple[FrameFact, ...] | None = None if lead is not None else ()
        self._headline_clash = self._lead_clash = ""

    @property
    def headline_facts(self) -> tuple[FrameFact, ...]:
        if self._headline_facts is None:
            facts, self._headline_clash = self._headline()
            self._headline_facts = () if self._headline_clash else tuple(facts)
        return self._headline_facts

    @property
    def lead_facts(self) -> tuple[FrameFact, ...]:
        if self._lead_facts is None:
            facts, self._lead_clash = self._lead()
            self._lead_facts = () if self._lead_clash else tuple(facts)
        return self._lead_facts

    @property
    def headline_contradiction(self) -> str:
        self.headline_facts
        return self._headline_clash

    @property
    def contradiction(self) -> str:
        """Why the frames cannot be trusted ("suspend / reinstate"), or "" when they can."""
        if self.headline_contradiction:
            return self._headline_clash
        self.lead_facts  # reads the first sentence, which sets its clash
        return self._lead_clash

    @property
    def facts(self) -> tuple[FrameFact, ...]:
        """Every frame of the headline and the first sentence; none if they contradict."""
        if self.contradiction:
            return ()
        return self.headline_facts + self.lead_facts

    @property
    def frames(self) -> tuple[Frame, ...]:
        return tuple(fact.frame for fact in self.facts)


NO_READING: Final = Reading()


_BEFORE_WORD: Final = r"(?<![^\W_])"
_AFTER_WORD: Final = r"(?![^\W_])"


@dataclass
class Lexicon:
    """The words a FrameReader knows, with their tags; built from the watchlists and the built-in words."""

    entries: dict[str, list[tuple[int, object]]] = field(default_factory=dict)
    #: Keys that count only where the original text writes them in capitals ("US", not "us").
    capitals: dict[str, re.Pattern] = field(default_factory=dict)
    #: Watchlist ticker -> its group, so a frame on "MP Materials" also names `us_allied_producers`.
    ticker_groups: dict[str, str] = field(default_factory=dict)

    def add(
        self, phrase: str, tag: int, value: object = None, *, inflect: bool | str = False, capitals: bool = False
    ) -> None:
        """Register a phrase; `inflect=True` adds a verb's forms (of its first word), "noun" a noun's."""
        words = _words(phrase)
        if not words:
            return
        for form in _forms(words, inflect):
            key = " " + " ".join(form) + " "
            self.entries.setdefault(key, []).append((tag, value))
            if capitals:
                written = r"[\W_]*".join(re.escape(w) for w in _words_as_written(phrase))
                known = self.capitals.get(key)
                if known is not None:
                    # "NEO" (the ticker) and "Neo" (the name): either way of writing it counts.
                    written = known.pattern[len(_BEFORE_WORD) : -len(_AFTER_WORD)] + "|" + written
                self.capitals[key] = re.compile(_BEFORE_WORD + "(?:" + written + ")" + _AFTER_WORD)


def _words(text: str) -> list[str]:
    return _prepare(text).split()


def _words_as_written(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def _forms(words: list[str], inflect: bool | str) -> list[list[str]]:
    if not inflect:
        return [words]
    phrase = " ".join(words)
    forms = {tuple(words)}
    if inflect == "noun":
        # A noun phrase inflects its last word: "rare earth" -> "rare earths".
        *head_words, last = words
        return [[*head_words, form] for form in sorted(_plurals(last))]
    # A phrasal verb inflects its first word ("pushes back"), a single verb itself.
    head, rest = words[0], words[1:]
    for form in word_forms(head) | {f for f in IRREGULAR.get(head, ())}:
        forms.add((form, *rest))
    for form in IRREGULAR.get(phrase, ()):
        forms.add(tuple(form.split()))
    return [list(f) for f in sorted(forms)]


def _plurals(noun: str) -> set[str]:
    """A noun and its plural (rare earth -> rare earths); a plural also stands for its singular."""
    if not noun.isalpha() or len(noun) < 3:
        return {noun}
    if noun.endswith("s"):
        return {noun, noun[:-1]} if not noun.endswith(("ss", "us", "is")) else {noun}
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return {noun, noun[:-1] + "ies"}
    if noun.endswith(("ch", "sh", "x", "z")):
        return {noun, noun + "es"}
    return {noun, noun + "s"}


# The sentence as the reader sees it: lower case, words single-spaced, clause punctuation kept
# as "|" and "%" as "pct" so "to 60%" stays readable.
_COLON: Final = re.compile(r":(?=\s)")
#: A phrasal verb with its object before the particle: "pushes the tariffs back to December" is
#: "pushes back the tariffs", "rolls some duties back" "rolls back some duties". Only where the
#: meaning is sure: a date after "push ... back", and nothing after "put ... back" (in place).
_PHRASAL: Final = {form: particle for verb, particle in (("push", "back"), ("roll", "back"), ("scale", "back"), ("call", "off"),
                                                     ("take", "off"))
            for form in word_forms(verb) | set(IRREGULAR.get(verb, ()))}
#: Doubts that deny a restriction ("unlikely to restrict exports") but only forecast anything
#: else ("the plant is unlikely to proceed": a project in doubt, not one undone).
_DOUBTING: Final = frozenset({"unlikely to"})
#: "takes Shenghe off the list" removes it (while prices that "take off" soar: left alone).
_TAKEN_OFF: Final = {"take": "remove", "takes": "removes", "took": "removed", "taken": "removed", "taking": "removing"}
_PARTICLE: Final = re.compile(rf"\b({'|'.join(sorted(_PHRASAL))})((?: [\w-]+){{1,5}}?) (back|off)\b")


def _particle_first(match: re.Match) -> str:
    verb, between, particle = match.group(1), match.group(2), match.group(3)
    if _PHRASAL[verb] != particle or (verb.startswith("push") and not _PUSHED_TO.match(match.string, match.end())):
        return match.group(0)
    if verb in _TAKEN_OFF:
        return f"{_TAKEN_OFF[verb]}{between}"
    return f"{verb} {particle}{between}"


#: "Announcement on Including Lockheed Martin ... in the Unreliable Entity List" (MOFCOM's title
#: for a listing): a firm included in a list is added to it.
_INCLUDED_IN: Final = re.compile(r"\binclud(e|es|ed|ing)((?: [\w&.-]+){0,12}?) in ((?:(?:the|its|[\w.]+['\u2019]s) ){0,2}"
                                 r"(?:unreliable entity|entity|export control|control) list)\b")
_ADDED: Final = {"e": "add", "es": "adds", "ed": "added", "ing": "adding"}


def _added_to(match: re.Match) -> str:
    return f"{_ADDED[match.group(1)]}{match.group(2)} to {match.group(3)}"


#: "dismisses activists' challenge to Lynas licence": a challenge dismissed, whoever brought it.
_DISMISSED: Final = re.compile(r"\b(dismiss(?:es|ed|ing)?) (?:[\w']+ ){1,3}?(challenges? to|lawsuits? against|suits? against|"
                               r"cases? against)\b")
_DUTY_FREE: Final = re.compile(r"\b(duty|tariff)[ -]free\b")
_WITHOUT_DUTIES: Final = re.compile(r"\bwithout ((?:new |any |further )?(?:tariffs?|duties|duty|levies))\b")
#: "ruling voiding tariffs lifts Asian markets": markets lifted by what comes before, which is the
#: news ("lifts markets" is a causal break, as "sends"), not tariffs lifted.
_LIFTS_MARKETS: Final = re.compile(r"\b(lift|lifts|lifted|lifting|boost|boosts|boosted|boosting)(?: (?:asian|european|global|world|us|u s|"
                            r"chinese|emerging|equity|stock|wall street))? (?:markets?|stocks|shares|equities|sentiment)\b")
#: "pushed back to December", "pushed back by 90 days", "pushed back two weeks": a delay.
_PUSHED_TO: Final = re.compile(r" (?:(?:to|until|till|into|by) |(?:[\w-]+ ){1,2}(?:days?|weeks?|months?|years?)\b)")
#: Where a clause breaks, with the spaces after it (so "(Filer) - Item" is one break); a question
#: or an exclamation mark ends one ("Why is MP falling? Report says ..."); a comma between
#: digits ("1,000") is part of a figure, not a break. Spaces
#: before it are left to the end, where the words are single-spaced: a pattern that may start
#: with spaces is tried at every space of the sentence. An em dash after a space is a break of
#: its own, as it was when the spaces before a mark were part of the match ("a —— b": two).
#: Written as one character class first, then what that character needs (looking back at it):
#: `re` skips ahead to a pattern's first character only when it is a class or a literal; as
#: alternatives (some with a lookbehind first) it tried every position, five times the cost.
_CLAUSE_PUNCT: Final = re.compile(r"[;:()\[\]|?!,\u2013\u2014\s](?:(?<=[;:()\[\]|?!\u2014])|(?<=,)(?:(?<!\d,)|(?!\d))"
                                  r"|(?<=\u2013)(?=\s)|(?<=\s)(?!\u2014)[-\u2013\u2014]+\s)\s*")


#: "up 5%", "down $2": a move by a figure. Not a duration: "backs down 2 days after" is backing down.
_MOVE: Final = re.compile(r"\b(up|down)(?= (?:about |almost |nearly |more than |over |some |by )?[\d$])"
                          r"(?! (?:by )?[\d.,]+ (?:days?|weeks?|months?|years?|hours?|minutes?|quarters?|decades?)\b)")


#: An amount of money with its magnitude as a word ("$465 million", "A$1.2 billion", "₹7,280
#: crore"), as the phrase prefilter sees it: a bare figure ("$98,000 a tonne") is a price.
_MONEY: Final = re.compile(
    r"(?:(?:us|a|c|au|ca|hk)?\$|€|£|¥|₹|\b(?:usd|eur|rmb|yuan|inr|rs\.?)\s?)\s?\d(?:[\d,.]*\d)?\s"
    r"(?:billion|million|trillion|bn|mn|crore|lakh)\b"
    r"|\b\d(?:[\d,.]*\d)?\s?(?:billion|million|trillion|crore)\s(?:dollars|euros|yuan|rupees|yen)\b"
)
#: "approved 5 of 180 requests": few of many is scarcity.
_FEW_OF_MANY: Final = re.compile(r"(?<!no\. )(?<!no )\b(\d+) (?:out )?of (?:the )?(\d+)\b(?! ?(?:to|-)\b)")


def _scarce(match: re.Match) -> str:
    few, many = int(match.group(1)), int(match.group(2))
    if 1900 <= many <= 2100:
        return match.group(0)  # "No. 70 of 2025", "June 5 of 2025": a year, not a total
    return f"few {match.group(0)}" if many and few * 4 < many else match.group(0)


#: What any amount of money `_MONEY` finds contains: a currency sign, a magnitude ("million",
#: "crore") or a currency code as a word of its own (not the "eur" of "europe").
_MONEY_SIGNS: Final = ("$", "illion", "€", "£", "¥", "₹", "crore")
_CURRENCY_CODES: Final = ("usd", "eur", "rmb", "yuan", "inr")
_CURRENCY_CODE: Final = re.compile(r"\b(?:usd|eur|rmb|yuan|inr)\b")
#: A price per unit ("1 million yuan a tonne", "$120/kg", "$60,000 per ton"): a material's
#: price level, not money given.
_UNIT_PRICE: Final = re.compile(
    r"(?:(?:us|a|c|au|ca|hk)?\$|€|£|¥|\b(?:usd|rmb|yuan)\s?)?\s?\d(?:[\d,.]*\d)?\s?(?:k|thousand|million)?\s?"
    r"(?:dollars|yuan|rmb|usd)?\s?(?:(?:a|per)\s|/\s?)(?:metric\s)?(?:tonne|ton|t|kg|kilogram|lb|pound|mtu)\b"
)
#: "a" and "per" are words of their own: "1 at noon" is a time, not one a tonne.
_UNIT_HINT: Final = re.compile(r"\d.{0,24}(?:\ba\s|\bper\s|/\s?)(?:metric\s)?(?:tonne|ton|t|kg|kilogram|lb|pound|mtu)\b")
#: What `_UNIT_HINT` needs after its figure, one way of writing "per" at a time: either a "/"
#: or one of these. `_UNIT_HINT` tries 25 positions after every digit; these start with a
#: literal, which `re` finds by a fast scan, and they fail on nearly every sentence.
_A_UNIT: Final = re.compile(r"a\s(?:metric\s)?(?:tonne|ton|t|kg|kilogram|lb|pound|mtu)\b")
_PER_UNIT: Final = re.compile(r"per\s(?:metric\s)?(?:tonne|ton|t|kg|kilogram|lb|pound|mtu)\b")
_SEPARATORS: Final = re.compile(r"[^\w|]+|_+")
#: `_CLAUSE_PUNCT` for a text without dashes: a comma is a break unless a digit is on both sides.
_CLAUSE_MARKS: Final = re.compile(r"[;:()\[\]|?!,](?:(?<!\d,)|(?!\d))\s*")
#: A hyphen after a space (" - "): the one way a hyphen can break a clause. Found from the
#: hyphen (a literal `re` scans for quickly), the space looked back at.
_SPACED_HYPHEN: Final = re.compile(r"-(?<=\s-)")
#: The characters `_CLAUSE_MARKS` starts with, commonest first: a sentence with none of them (as
#: most headlines) needs no search.
_MARK_CHARS: Final = (",", "(", ")", ":", ";", "?", "!", "[", "]", "|")
#: The same for ASCII text (nearly all news): punctuation, "_" and every kind of space to a
#: space, in one pass.
_ASCII_SEPARATORS: Final = bytes(
    32 if code == 95 or not (chr(code).isalnum() or chr(code) == "|") else code
    for code in range(128)
) + bytes(range(128, 256))
#: A figure, then "of": where a few-of-many count ("5 of 180") must start. Found from its space
#: (a literal, which `re` scans for quickly), the figure looked back at.
_COUNT_OF: Final = re.compile(r" (?<=\d )(?:out )?of ")


#: A wire's label before its headline: "UPDATE 2-", "EXCLUSIVE-", "WRAPUP 1-", "BREAKING:".
_WIRE_TAG: Final = re.compile(r"^\W*(?:update|refile|rpt|corrected|correction|exclusive|wrapup|wrap up|breaking|urgent|"
                              r"insight|(?:\d+(?:st|nd|rd|th) )?ld|lead|focus|rpt-update)(?: \d+)?\s*[-:|]\s*")


def _prepare(text: str) -> str:
    # Each rewrite runs only where its pattern can match: a substring test costs a fraction of a
    # regex search, and most sentences have no price, no money and no count.
    text = lower(text)
    tag = _WIRE_TAG.match(text)  # only ever at the start: one try, not a search of every position
    if tag is not None:
        text = text[tag.end() :]  # "UPDATE 2-China halts ...": the wire's label, not a verb
    if ("/" in text or _A_UNIT.search(text) or _PER_UNIT.search(text)) and _UNIT_HINT.search(text):
        text = _UNIT_PRICE.sub(" priceamount ", text)
    if any(sign in text for sign in _MONEY_SIGNS) or (
            any(code in text for code in _CURRENCY_CODES) and _CURRENCY_CODE.search(text)):
        text = _MONEY.sub(" moneyamount ", text)
    if " of " in text and _COUNT_OF.search(text):
        text = _FEW_OF_MANY.sub(_scarce, text)
    if "up " in text or "down " in text:
        text = _MOVE.sub(lambda m: m.group(1) + "move", text)
    if ":" in text:
        text = _COLON.sub(" colonbreak ", text)
    if ";" in text:
        text = text.replace(";", " semicolonbreak ")
    if " back" in text or " off" in text:
        text = _PARTICLE.sub(_particle_first, text)
    if "includ" in text and " list" in text:
        text = _INCLUDED_IN.sub(_added_to, text)
    if "dismiss" in text:
        text = _DISMISSED.sub(r"\1 \2", text)  # "dismisses activists' challenge to": who brought it aside
    if "free" in text:
        text = _DUTY_FREE.sub(r"no \1", text)  # "ends duty-free treatment": a duty comes
    if "without" in text:
        text = _WITHOUT_DUTIES.sub(r"no \1", text)  # "concludes without tariffs": none imposed
    if "lift" in text or "boost" in text:
        text = _LIFTS_MARKETS.sub(r"\1 markets", text)
    if "high" in text or "low" in text:
        text = _GRADE.sub(r"\1\2", text)
    if "\u2014" in text or "\u2013" in text or ("-" in text and _SPACED_HYPHEN.search(text) is not None):
        text = _CLAUSE_PUNCT.sub(" | ", text)  # a dash that may be a break
    elif any(mark in text for mark in _MARK_CHARS):
        # No dash that can break a clause (a hyphen inside a word, "rare-earth", cannot): the
        # break marks alone, with a search that only stops at them.
        text = _CLAUSE_MARKS.sub(" | ", text)
    if "%" in text:
        text = text.replace("%", " pct ")
    if text.isascii():
        if squeeze is not None:
            return squeeze(text, _ASCII_SEPARATORS)  # the lines below, in C
        # Every separator is a space now: collapsing runs of spaces gives the same words,
        # single-spaced and padded, as split() and join() (cheaper, as in `normalise`).
        spaced = " " + text.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii") + " "
        while "  " in spaced:
            spaced = spaced.replace("  ", " ")
        return spaced if len(spaced) > 1 else "  "
    text = _SEPARATORS.sub(" ", text)
    return " " + " ".join(text.split()) + " "


#: "high-end batteries", "lower-sensitivity graphite": a grade of product, not a price gone high
#: or something lowered. Joined into one word the lexicon does not know.
_GRADE: Final = re.compile(r"\b(high|higher|low|lower)(?:-|\s+(?=(?:end|tech|purity|grade|performance|strength|density|"
                    r"quality|temperature|voltage|sensitivity|carbon|cost)\b))(\w)")
_NUMBER_AFTER: Final = re.compile(r" \d")
#: A flow or a duty just after "limit": what a government can limit.
_FLOW_AFTER: Final = re.compile(r"(?: [\w-]+){0,3} (?:exports?|shipments?|sales|supply|supplies|output|production|mining|"
                         r"imports?|tariffs?|duties)\b")
_LEVEL_AFTER: Final = re.compile(r"(?: (?:above|through|past|over|below|under|the|a|its|key|\w+ mark))* priceamount\b")
#: Who a government clears, and to do what: "clears magnet maker JL Mag to export".
_CLEARED_TO: Final = re.compile(r"(?: [\w.&-]+){1,6} to (?:export|exports|ship|sell|supply|resume)\b")
#: "clears Lynas to keep processing": a licence to operate granted.
_CLEARED_TO_OPERATE: Final = re.compile(r"(?: [\w.&-]+){1,6} to (?:keep |continue |start |begin )?"
                                 r"(?:operate|operating|process|processing|mine|mining|build|proceed|import)\b")
#: What a legislature passes ("passes export control law"), not a place ("Mountain Pass").
#: What a government wields when it wields a weapon of trade: the minerals, its grip on them.
_WIELDED: Final = re.compile(r"(?: (?:its|their|the|china s|beijing s))?(?: [\w-]+){0,2}? (?:rare earths?|critical minerals?|minerals?|"
                             r"gallium|germanium|antimony|graphite|tungsten|magnets?|dominance|grip|control|supply|supplies|exports?)\b")
_LAW_AFTER: Final = re.compile(r"(?: (?:a|an|the|its|new|\w+ control|export|critical|minerals?|mining|trade|tariff|\w+))* "
                        r"(?:law|laws|bill|bills|act|legislation|statute|regulations?|decree|measure)\b")
_TIME_AFTER: Final = re.compile(r" of (?:the |this |next |last |its |their )?(?:fiscal |financial |calendar )?"
                         r"(?:\d{4}|year|month|quarter|week|day|decade|century|january|february|march|april|may|"
                         r"june|july|august|september|october|november|december|q[1-4]|h[12]|first|second|third|"
                         r"fourth|current)\b")
#: "until end-2026", "by end-March": a date ("end" read as its first word).
_DATE_AFTER: Final = re.compile(r" (?:\d{4}|january|february|march|april|may|june|july|august|september|october|november|"
                                r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|q[1-4]|h[12])\b")
#: "by year-end", "at month-end": a date ("end" read as its last word).
_PERIOD_END: Final = (" year end", " month end", " quarter end", " week end", " half end")
_LIFT_TO: Final = re.compile(r"^(?: \w+){0,12} to \d+(?: \d+)? (?:pct|percent|per cent)\b")


#: Words before "grant" that make it a noun ("a grant", "its federal grant").
_GRANT_DETERMINERS: Final = (" a ", " the ", " its ", " their ", " federal ", " government ", " state ", " new ")


class FrameReader:
    """Reads the frames of an article's headline and first sentence."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        keys, payloads = lexicon_keys(lexicon)
        #: prepared text -> [(end, (length, tag, value, check, capitals pattern))] for every
        #: phrase of the lexicon in it, by end and the longest first.
        self.matches = matcher_of(keys, payloads)

    def read(
        self,
        title: str,
        summary: str,
        *,
        lead: str | None = None,
        default_actor: tuple[str, str, str] | None = None,
        generic: str | None = None,
    ) -> Reading:
        """The frames of a headline and its first sentence. `default_actor` ((kind, name,
        country), from an official source) stands in for a clause that names none, and
        `generic` is what that issuer's "measures" or "announcements" are (MOFCOM's: export
        controls)."""
        if lead is None:
            lead = split_lead(summary)[0]
        headline = (lambda: self._sentence(title, True, default_actor, generic)) if title and title.strip() else None
        first = (lambda: self._sentence(lead, False, default_actor, generic)) if lead and lead.strip() else None
        return Reading(headline, first)

    # -- one sentence -------------------------------------------------------------------------

    def _sentence(
        self, sentence: str, headline: bool, default_actor: tuple[str, str, str] | None, generic: str | None = None
    ) -> tuple[list[FrameFact], str]:
        text = _prepare(sentence)
        tokens = self._tokens(text, sentence)
        clauses = _clauses(tokens, headline)
        facts: list[FrameFact] = []
        # "China, which controls most mining, tightens ...": the name set off by the comma is
        # the subject of the clause that resumes after it.
        inherited: tuple[str, str, str] | None = None
        if len(tokens) > 1 and tokens[0].tag == ACTOR and tokens[1].tag in (BREAK, SUBORDINATE):
            inherited = tokens[0].value  # type: ignore[assignment]
        sentence_objects = [t for t in tokens if t.tag == OBJECT]
        sentence_kinds = {k for k, _ in _all_kinds(tokens) if k}
        for clause, main, how in clauses:
            contrast = how in _POINT_FOLLOWS
            clash = _coordinated_clash(clause, text)
            if clash and " or " in clash:
                continue  # "may modify, extend or end it": options, none of them done
            if clash:
                return [], clash
            fact, actor = _frame(
                clause, text, main, headline, inherited or default_actor, sentence_objects, self.lexicon.ticker_groups,
                generic, sentence_kinds, contrast,
            )
            if actor is not None:
                inherited = actor
            elif fact and main and how not in _NEW_SUBJECT and facts and facts[-1].agreed and facts[-1].main:
                # "Trump and Xi agree to restart talks, hold off new tariffs": the second verb is
                # agreed too, by the same parties.
                fact = [f._replace(agreed=True, countries=f.countries | facts[-1].countries) for f in fact]
            signed = _signed_verb(clause) if fact is None and facts and main else None
            if signed is not None and not _cuts_reliance(clause, signed, text):
                # "eases some curbs, tightens others": the verb's object is the last instrument;
                # not "... to cut China reliance", which is cut.
                fact = _elliptical(clause, facts[-1])
            if fact is not None and how == "but" and facts and len(facts[-1].companies) == 1:
                # "renews Lynas licence but keeps ban on local processing": the restriction
                # kept is on the company the clause before named.
                fact = [_on_company(f, facts[-1]) for f in fact]
            if fact is not None:
                if how == "undo":
                    # "... deflate the rare earth rally": the rally is over.
                    fact = [f._replace(polarity=_OPPOSITE[f.polarity]) if f.instrument == "price" else f for f in fact]
                facts.extend(fact)
        return facts, _clash(facts) if headline else ""

    def _tokens(self, text: str, original: str) -> list[Token]:
        tokens: list[Token] = []
        last_start = last_end = -1
        checked: dict = {}
        # The matches are untyped tuples. Declared, they are unpacked once into native ints
        # and fields (compiled); unpacked as they come, every offset and tag stayed a Python
        # object to add and compare.
        hit: tuple[int, tuple[int, int, Any, str | None, re.Pattern | None]]
        # Matches come by end position; the longest match wins where matches overlap (keys
        # share their edge spaces, so a match starting at the last one's end is the next word).
        for hit in self.matches(text):
            end = hit[0]
            length, tag, value, check, capitals = hit[1]
            start = end - length + 1
            if capitals is not None:
                ok = checked.get(capitals)
                if ok is None:
                    ok = checked[capitals] = capitals.search(original) is not None
                if not ok:
                    continue
            if start < last_end:
                if start > last_start:
                    continue  # overlaps the last match without covering it: keep the earlier
                while tokens and start <= tokens[-1].start:
                    tokens.pop()  # a longer phrase ending later covers the last matches
            if check is not None:
                kept, value = _checked(check, tag, value, text, end)
                if kept is None:
                    continue
                tag = kept
            words = text[start + 1 : end]
            if tag == INSTRUMENT and value is None and words in ("rule", "rules") and tokens \
                    and tokens[-1].tag == ACTOR and tokens[-1].value[0] == "court":
                tag, value = VERB, ("rule", 1, None)  # "the court rules", not "the rules"
            elif tag == VERB and words in ("grant", "grants") and (
                    (tokens and tokens[-1].tag == VERB and tokens[-1].end == start)
                    or text.endswith(_GRANT_DETERMINERS, 0, start + 1)):
                tag, value = INSTRUMENT, "funding"  # "freezes grant to ...", "a grant": money, not granting
            elif tag == BREAK and words in _LEAVING and _LEFT_AS_IT_IS.match(text, end) is not None:
                tag, value = VERB, ("leave", 1, None)  # "leaves April licensing in place": kept, no consequence
            tokens.append(_new_token(Token, (tag, start, end, words, value)))
            last_start, last_end = start, end
        return tokens


def lexicon_keys(lexicon: Lexicon) -> tuple[list[str], list[tuple[int, int, Any, str | None, re.Pattern | None]]]:
    """The phrases a reader looks for, and what each is: (length, tag, value, check, capitals)."""
    keys: list[str] = []
    payloads: list[tuple[int, int, Any, str | None, re.Pattern | None]] = []
    for key, values in lexicon.entries.items():
        tag, value, check = _resolve(key, values)
        if tag is not None:
            keys.append(key)
            payloads.append((len(key), tag, value, check, lexicon.capitals.get(key)))
    return keys, payloads


def _resolve(key: str, values: list[tuple[int, Any]]) -> tuple[int | None, Any, str | None]:
    """The one reading of a phrase the lexicon knows several ways ("halt" is a verb and a relief
    noun), and the check that must still look at the sentence around it, if any."""
    tags = {tag: value for tag, value in values}
    for tag in (PROGRAMME, BREAK, SUBORDINATE, NEGATION, SCARCE, ACTOR, OBJECT):
        if tag in tags:
            check = "number" if tag == NEGATION and tags[tag] == "no" else None
            return tag, tags[tag], check
    check = "dominance" if INSTRUMENT in tags and key in (" control ", " controls ") else None
    if VERB in tags and tags[VERB][0] in LEVEL_VERBS:
        check = "level"
    if key == " end ":
        check = "time"
    if VERB in tags and tags[VERB][0] == "limit":
        check = "flow"
    if VERB in tags and tags[VERB][0] == "wield":
        check = "wielded"
    for tag in (INSTRUMENT, VERB, RELIEF, DEFICIT, CONJUNCTION, EXCLUDE, TARGET, UP, DOWN, INERT):
        if tag in tags:
            return tag, tags[tag], check
    return None, None, None


def _checked(check: str, tag: int, value: object, text: str, end: int) -> tuple[int | None, object]:
    if check == "number" and _NUMBER_AFTER.match(text, end):
        return None, None  # "Announcement No. 23"
    if check == "dominance" and _DOMINANCE_AFTER.match(text, end):
        return None, None  # "controls 70% of the market" is dominance, not an export control
    if check == "time" and (_TIME_AFTER.match(text, end) or _DATE_AFTER.match(text, end)
                            or text.endswith(_PERIOD_END, 0, end)):
        return None, None  # "by the end of March", "until end-2026", "by year-end": a date, not an ending
    if check == "flow" and (text.endswith(" limited", 0, end) or not _FLOW_AFTER.match(text, end)):
        return None, None  # "limits exports", not "limiting the strength of magnets" or "impact very limited"
    if check == "wielded" and not _WIELDED.match(text, end):
        return None, None  # "could wield rare earths", not "wields influence over the board"
    if check == "level" and not _LEVEL_AFTER.match(text, end):
        if value[0] == "pass" and _LAW_AFTER.match(text, end):  # type: ignore[index]
            return tag, ("pass", 1, None)  # "passes an export control law": enacts it
        if value[0] == "clear" and _CLEARED_TO.match(text, end):  # type: ignore[index]
            return tag, ("allow", 1, None)  # "clears JL Mag to export": lets it
        if value[0] == "clear" and _CLEARED_TO_OPERATE.match(text, end):  # type: ignore[index]
            return tag, ("approve", 1, "permit")  # "clears Lynas to keep processing": its licence
        return None, None  # "breaks off talks", "clears a review": a price level is not what is crossed
    return tag, value


#: Joins after which the clause is the point of the sentence: "X, but Y"; "X forces Y".
_POINT_FOLLOWS: Final = frozenset({"but", "yet", "cause", "undo"})
#: How a clause joins the one before when it does not carry on its subject's action.
_NEW_SUBJECT: Final = frozenset({"start", "but", "yet", "cause", "undo", "colon", "semicolon", "subordinate"})
_OPPOSITE: Final = {"up": "down", "down": "up"}


def _verb_before(current: list[Token], that: Token) -> bool:
    """Whether the clause so far ends with a verb, past a short time or place after it ("said on
    Thursday", "told reporters in Beijing"), not a noun the verb took ("proceed with reviews
    against conditions that bar it": the conditions bar it)."""
    for index in range(len(current) - 1, -1, -1):  # reversed() over NamedTuples trips mypyc 2.4
        token = current[index]
        if token.tag == VERB:
            return that.start - token.end <= _SHORT_ADVERBIAL
        if token.tag != TARGET or token.text not in ("on", "in", "at", "to"):
            return False
    return False


#: At most this many characters between a reporting verb and its "that": "said on Thursday that".
_SHORT_ADVERBIAL: Final = 32


def _clauses(tokens: list[Token], headline: bool = True) -> list[tuple[list[Token], bool, str]]:
    """Split a sentence's tokens into clauses: (tokens, is_main, how it joins the one before:
    "start", "but", "cause", "undo", a conjunction...)."""
    if not headline:
        tokens = [t for t in tokens if not (t.tag == SUBORDINATE and t.value in HEADLINE_ONLY)]
    segments: list[tuple[list[Token], bool, str]] = []
    current: list[Token] = []
    main = True
    how = "start"
    #: Segments that open with "before" or "ahead of": what is still to come.
    ahead: set[int] = set()
    for index, token in enumerate(tokens):
        if token.tag == BREAK:
            segments.append((current, main, how))
            if token.value in CAUSES:
                # "China's curbs propel tungsten to a record": the curbs are the cause, the
                # record the news.
                segments[-1] = (segments[-1][0], False, segments[-1][2])
                current, how, main = [], "undo" if token.value in UNDOING else "cause", True
                continue
            if token.value == "colon":
                current, how, main = [], "colon", True
                continue
            if token.value == "semicolon":
                # A clause of its own, never a predicate completing the one before.
                current, how, main = [], "semicolon", True
                continue
            # A comma closes a fronted or relative clause ("After talks, China ...", "China,
            # which controls ..., tightens ..."): what follows is the main clause again if it
            # has a verb of its own; a list item ("..., recycling and export controls") does not.
            following = _until_break(tokens, index + 1)
            resumes = any(t.tag == VERB for t in following)
            if following and following[0].tag == VERB and following[0].text.endswith("ing"):
                resumes, main = False, False  # "..., tightening Beijing's grip": a participle's background
            current, how, main = [], "break", True if resumes else main
            continue
        if token.tag == SUBORDINATE:
            following = _until_break(tokens, index + 1)
            if token.text == "as" and not any(
                t.tag in (VERB, INSTRUMENT, RELIEF, DEFICIT, OBJECT, PROGRAMME) for t in following
            ):
                continue  # "as President, I order ...": a preposition, not a clause
            if token.text == "that" and _verb_before(current, token):
                continue  # "I order that ...", "said on Thursday that ...": the content is the news
            if token.value == "whether":
                # "will decide whether to modify, extend or end it": options, none of them done.
                segments.append((current, main, how))
                current = []
                break
            segments.append((current, main, how))
            current, main, how = [], False, "subordinate"
            if token.value in ("before", "ahead of"):
                ahead.add(len(segments))  # the index the segment it opens will have
            continue
        if token.tag == TARGET and token.text == "on" and current and _price_verb(current):
            # "MP soars on Pentagon stake": what follows is why, not what.
            segments.append((current, main, how))
            current, main, how = [], False, "subordinate"
            continue
        if token.tag == CONJUNCTION and current and _verb_follows(tokens, index) and _has_head(current):
            # "China suspends X and reinstates Y": a second verb phrase is a clause of its own.
            segments.append((current, main, how))
            current, how = [], token.text
            continue
        if token.tag == CONJUNCTION and not current and how == "break" and token.text in ("but", "yet"):
            how = token.text  # "exports recover, but US shipments stay at zero": the point follows
            continue
        current.append(token)
    segments.append((current, main, how))
    # A segment with no verb and no instrument (an actor or a list of objects) joins a neighbour:
    # "US, China agree ..." -> one clause; "... on gallium, germanium" -> one clause.
    merged: list[tuple[list[Token], bool, str]] = []
    pending: list[Token] = []
    for number, (tokens_, is_main, how) in enumerate(segments):
        if not tokens_:
            continue
        if how == "start" and len(segments) > 1 and segments[1][2] == "colon" and all(t.tag == ACTOR for t in tokens_):
            continue  # "Bessent: China to delay ...": the speaker, not the actor
        headed = any(t.tag in (INSTRUMENT, RELIEF, DEFICIT) or (t.tag == VERB and t.value[2]) for t in tokens_) or (
            any(t.tag in (UP, DOWN) and t.value in _RECORDS for t in tokens_) and any(t.tag == OBJECT for t in tokens_)
        )
        substantive = headed or any(t.tag in (VERB, PROGRAMME) for t in tokens_)
        if not substantive:
            # "..., and their managers may not enter the country": a negation whose verb the
            # reader does not know negates that verb, not the clause the words join.
            tokens_ = [t for t in tokens_ if t.tag != NEGATION]
        if merged and not headed and how == "break" and not any(t.tag in (ACTOR, PROGRAMME) for t in tokens_) \
                and _has_head(merged[-1][0]) and _participle(tokens_):
            # "... the measures published on 9 October, covering X, Y and Z, are suspended":
            # a predicate after a list completes the clause it belongs to.
            merged[-1][0].extend(tokens_)
            continue
        if not headed and all(t.tag in (PROGRAMME, OBJECT, TARGET) for t in tokens_):
            pending.extend(tokens_)  # "Under the Critical Raw Materials Act, the Commission ..."
            continue
        if not substantive:
            if number in ahead:
                continue  # "sign a pact before Xi meeting": a meeting to come names no party to the pact
            if merged and (how == "break" or how in CONJUNCTIONS) and not any(t.tag == ACTOR for t in tokens_):
                merged[-1][0].extend(tokens_)
            else:
                pending.extend(tokens_)
            continue
        merged.append((pending + tokens_, is_main, how))
        pending = []
    if pending and merged:
        merged[-1][0].extend(pending)
    # "China adds TechInsights, 13 others to its unreliable entity list": a verb whose clause
    # has no instrument, and an instrument whose clause has no verb, are one clause.
    joined: list[tuple[list[Token], bool, str]] = []
    for clause, is_main, how in merged:
        if joined and is_main and joined[-1][1] and not any(t.tag == VERB for t in clause) and _has_head(clause) \
                and not _has_head(joined[-1][0]) and any(t.tag == VERB for t in joined[-1][0]):
            joined[-1] = (joined[-1][0] + clause, joined[-1][1], joined[-1][2])
            continue
        joined.append((clause, is_main, how))
    return joined


def _participle(tokens: list[Token]) -> bool:
    """The segment's verb is a participle ("..., are suspended"), not a finite verb starting a
    clause of its own ("..., tightens others")."""
    verb = next((t for t in tokens if t.tag == VERB), None)
    return verb is None or verb.text.split()[0].endswith(("ed", "en", "wn"))


def _until_break(tokens: list[Token], start: int) -> list[Token]:
    out = []
    for token in tokens[start:]:
        if token.tag in (BREAK, SUBORDINATE):
            break
        out.append(token)
    return out


def _price_verb(tokens: list[Token]) -> bool:
    return any(t.tag == VERB and t.value[2] == "price" for t in tokens)


def _verb_follows(tokens: list[Token], index: int) -> bool:
    """Whether a verb comes right after the conjunction at `index`, perhaps after a negation or
    a new subject of its own ("China pauses curbs and the US halves tariffs")."""
    for token in tokens[index + 1 : index + 4]:
        if token.tag == VERB:
            return True
        if token.tag not in (NEGATION, TARGET, ACTOR):
            return False
    return False


def _has_head(tokens: list[Token]) -> bool:
    return any(t.tag in (INSTRUMENT, RELIEF, DEFICIT, PROGRAMME) or (t.tag == VERB and t.value[2]) for t in tokens)


_VERB_FORMS: Final = frozenset(form for verb in VERB_INSTRUMENTS for form in word_forms(verb) | set(IRREGULAR.get(verb, ())))
#: Words that name a price level by themselves ("tungsten at its highest"), unlike "high-purity".
_RECORDS: Final = frozenset({"record", "record high", "record low", "all time high", "multi year high", "two year high",
                      "year high", "month high", "week high", "all time low", "multi year low", "two year low",
                      "year low", "month low", "week low", "highest", "lowest", "upmove", "downmove"})
#: The markers `_prepare` writes for a move told by its size ("up 41%", "down 5%").
_SIZED_MOVES: Final = frozenset({"upmove", "downmove"})
_KEPT: Final = re.compile(r" in place | in effect | in force | pending appeal | remains? | stay | keeps? | kept | maintains? ")
#: A word each of `_KEPT`'s phrases contains: a sentence with none (most) needs no search, which
#: would try `_KEPT` at every space.
_KEPT_WORDS: Final = ("place", "effect", "force", "appeal", "remain", "stay", "keep", "kept", "maintain")
#: "cuts the NdPr listing price": between a material and its price, a word saying which price.
_BEFORE_PRICE: Final = re.compile(r"^ (?:(?:listing|listed|posted|quoted|contract|spot|benchmark|reference|guide|guidance) )?$")
#: "Northern Rare Earth cuts its listed price of PrNd oxide": between a price and the material it is of.
_OF_MATERIAL: Final = re.compile(r"^ ?(?:of|for|on) ?$")
_SHARE_WORDS: Final = frozenset({"shares", "share price", "stock", "stocks", "valuation", "market value", "equities"})
_SECURITY_FINDING: Final = re.compile(r" (?:to )?impair (?:the )?(?:national|us|u s|american) security\b")
_ENDANGERING: Final = frozenset({"threaten", "hit", "risk", "endanger", "jeopardize", "jeopardise", "at risk", "in jeopardy"})
_LIFTING: Final = frozenset({"lift", "boost", "buoy", "support"})
#: A government that buys the desk's goods pays for them: an offtake or a stockpile purchase.
_BUYING: Final = frozenset(form for verb in ("buy", "purchase", "procure") for form in word_forms(verb) | set(IRREGULAR.get(verb, ())))
#: Stocks a government holds: released or tapped, they are sold into the market.
_RESERVES: Final = frozenset({"stockpile", "stockpiles", "strategic reserve", "national stockpile", "reserve", "reserves"})
#: Verbs that carry on a move: its noun says which way ("extend losses", "the selloff deepens").
_CONTINUING: Final = frozenset({"extend", "deepen", "widen"})
#: Verbs that leave things as they are: "keeps the tariff at 10%" is no news by itself.
_STATUS_QUO: Final = frozenset({"keep", "maintain", "retain", "remain", "leave", "stay", "continue"})
#: Verbs that report an action rather than take one: "announces an adjustment of tariffs".
_REPORTING: Final = frozenset({"say", "tell", "report", "must", "announce", "unveil", "issue", "publish", "release",
                        "present", "outline", "direct", "detail", "determine"})
_AGREEING: Final = frozenset({"agree", "reach", "strike", "seal", "sign", "conclude", "finalize", "finalise", "ink"})


_RULE_NOUNS: Final = frozenset({"requirement", "requirements", "regime", "rule", "rules", "system", "provisions", "regulations"})


def _licence_rule(clause: list[Token], head: tuple[str | None, Token]) -> bool:
    """"extends the export licence requirement": the licences are a rule to comply with, not
    licences granted."""
    kind, token = head
    if kind != "permit":
        return False
    after = next((t for t in clause if t.start > token.start), None)
    if after is not None and after.tag == INSTRUMENT and after.value is None and after.text in _RULE_NOUNS \
            and after.start == token.end:  # "licence rules", not "applications under the December 1 rules"
        return True
    # "drops the requirement for licences", "the need to obtain licences": the rule named first.
    before = [t for t in clause if t.end <= token.start][-2:]
    if before and before[-1].tag == TARGET and before[-1].text in ("for", "of", "to"):
        before = before[:-1]
    return bool(before) and before[-1].tag == INSTRUMENT and before[-1].value is None \
        and before[-1].text in ("requirement", "requirements")


_RELIANCE_AFTER: Final = re.compile(r" (?:s )?(?:reliance|dependence|dependency|dependencies)\b")
#: The same right after the verb: "reduce dependencies", "cut its reliance".
_RELIANCE_OBJECT: Final = re.compile(r" (?:its |their |our |the )?(?:reliance|dependence|dependency|dependencies)\b")


def _cuts_reliance(clause: list[Token], verb: Token, text: str) -> bool:
    """"to cut (EU) reliance on China", "reduce dependence on", "reduce dependencies": what is
    cut is the dependence."""
    after = [t for t in clause if t.start > verb.start][:2]
    if any(t.tag == EXCLUDE and t.text.startswith(("reliance", "dependence")) for t in after):
        return True
    if _RELIANCE_OBJECT.match(text, verb.end) is not None:
        return True
    # "to cut China reliance": the country named before the word, which the lexicon does not hold.
    return bool(after) and after[0].tag == ACTOR and _RELIANCE_AFTER.match(text, after[0].end) is not None


def _weighs_on(clause: list[Token], verb: Token) -> bool:
    """"the raising weighs", "weighs on prices": a weight, not "weighs curbs" (a plan)."""
    after = [t for t in clause if t.start > verb.start]
    return not after or (after[0].tag == TARGET and after[0].text == "on")


def _governs_without(clause: list[Token], negation: Token) -> bool:
    after = [t for t in clause if t.start > negation.start][:3]
    return any(t.tag == INSTRUMENT and t.text.startswith("without") for t in after)


def _signed_verb(clause: list[Token]) -> Token | None:
    return next((t for t in clause if t.tag == VERB and t.value[1] != 0 and t.value[0] not in _REPORTING
                 and not t.value[2]), None)


def _elliptical(clause: list[Token], before: FrameFact) -> list[FrameFact] | None:
    """"... and extends the suspension": a verb (and any reversing noun) acting on the last
    clause's instrument."""
    verb = _signed_verb(clause)
    if verb is None or any(t.tag in (INSTRUMENT, DEFICIT, PROGRAMME, OBJECT) for t in clause):
        return None
    sign = verb.value[1]
    for token in clause:
        if token.tag in (NEGATION, RELIEF):
            sign = -sign
    action = " ".join(t.text for t in clause if t.tag in (VERB, RELIEF, NEGATION))
    return [before._replace(action=action, polarity="up" if sign > 0 else "down", contrast=False,
                            acted=verb.value[0] not in _STATUS_QUO)]


#: How far apart (in characters) two verbs joined by "and"/"or" may be to share their object.
_CLASH_GAP: Final = 24
_LINKING_ADVERBS: Final = frozenset({"then", "later", "again", "now", "soon", "also"})


def _coordinated_clash(clause: list[Token], text: str) -> str:
    """'suspend and reinstate': two verbs joined by a conjunction, pulling opposite ways on the
    object they share. A first verb with its own object ("to reduce dependencies and boost
    competitiveness") shares nothing with the second."""
    for a, conj, b in zip(clause, clause[1:], clause[2:]):
        if a.tag == VERB and conj.tag == CONJUNCTION and b.tag == VERB and a.value[1] * b.value[1] < 0 \
                and b.start - a.end <= _CLASH_GAP \
                and _only_adverbs(text[a.end:conj.start]):  # not "the first fall in a year, as offers from A, B and C increased"
            return f"{a.text} {conj.text} {b.text}"
    return ""


def _only_adverbs(between: str) -> bool:
    """Nothing but adverbs ("temporarily", "then") between a verb and its conjunction."""
    return all(word.endswith("ly") or word in _LINKING_ADVERBS for word in between.split())


def _on_company(fact: FrameFact, before: FrameFact) -> FrameFact:
    """A restriction that names neither goods nor a company, on the one company named before: kept
    or imposed, it is the point of the "but" (the company's setback), as much as one acted on."""
    if fact.instrument != "export_control" or fact.objects or fact.companies:
        return fact
    # The company's own labels ("company", "company:LYC.AX", its group), not the goods named with it.
    named = before.labels - DESK_OBJECTS - {"programme"}
    return fact._replace(companies=before.companies, objects=before.companies, labels=fact.labels | named, acted=True)


def _licensee(companies: list[str], actor: tuple[str, str, str] | None) -> bool:
    """A watchlist company is named with the permit: its licence to mine or operate is its news."""
    return bool(companies) or (actor is not None and actor[0] == "company" and bool(actor[1]))


def _frame(
    clause: list[Token],
    text: str,
    main: bool,
    headline: bool,
    default_actor: tuple[str, str, str] | None,
    sentence_objects: list[Token],
    ticker_groups: dict[str, str],
    generic: str | None = None,
    sentence_kinds: AbstractSet[str] = frozenset(),
    contrast: bool = False,
) -> tuple[list[FrameFact] | None, tuple[str, str, str] | None]:
    """The frames of one clause, and the actor it names (later clauses of the sentence inherit it)."""
    # "for 100 days of demand": a verb's bare form right after "of" is a noun. Only a bare form
    # that keeps what it acts on: "of cutting supply" is a verb, "a list of banned technology"
    # an adjective that still bans, "a round of cuts" a noun that still cuts.
    nouns = {t.start for i, t in enumerate(clause) if t.tag == VERB and i and clause[i - 1].tag == TARGET
             and clause[i - 1].value == "of" and clause[i - 1].end == t.start and t.text == t.value[0]
             and t.value[1] > 0}
    if nouns:
        clause = [t for t in clause if t.start not in nouns]
    verbs = [t for t in clause if t.tag == VERB]
    # The first verb that acts ("says X will suspend": suspend); with none, the instrument word
    # ("China bans gallium exports", "a report Washington eyes a stake").
    acting = [t for t in verbs if t.value[0] not in _REPORTING and t.text not in _NOMINAL_VERBS]
    pivot = acting[0] if acting else next((t for t in clause if t.tag in (INSTRUMENT, DEFICIT)), verbs[0] if verbs else None)
    first_verb = pivot.start if pivot is not None else None
    actor, targets, countries, companies, programme, public, firms, country_firms = _actor(clause, first_verb, text)
    passive = actor is not None and pivot is not None and pivot.tag == VERB and _passive(clause, pivot, text, headline)
    #: Whom the next clause's unsaid subject is: the name before the verb, though a passive verb
    #: makes it what is acted on ("Neo to be acquired by a Chinese group, shares soar": Neo's).
    subject = actor
    if passive and pivot is not None:
        # "Shenghe was added to the Entity List by Commerce": the name before the verb is what
        # is acted on; who acts follows `by`, or owns the instrument ("China's list").
        actor = _passive_actor(clause) or _instrument_owner(clause, pivot)
    named_actor = actor
    issuer_filled = False
    if actor is None:
        if passive and default_actor is not None and default_actor[0] == "company":
            default_actor = None  # "Northern Rare Earth, JL Mag added to ...": both are acted on
        actor = _passive_actor(clause) or default_actor or _list_owner(clause)
        # An issuer known only by its country (the Federal Register publishes for every agency)
        # says whose rule it is, not which kind: a "rule" on magnets may be a toy safety standard.
        issuer_filled = actor is default_actor and default_actor is not None and default_actor[1] == default_actor[2]
        if actor is None and programme is not None:
            actor = ("government", programme[2], programme[2])
    elif actor[0] == "government" and not actor[2] and default_actor is not None and default_actor[0] == "government" \
            and default_actor[2]:
        # "Cabinet approves ..." in India's own release: the issuer's government (though which
        # body's "rule" it is stays unsaid: "the Commission issues a rule" may be on toys).
        actor = ("government", actor[1] or default_actor[2], default_actor[2])
        issuer_filled = True
    heads = _heads(clause, text)
    if not heads:
        return None, subject if passive else named_actor
    given = actor if named_actor is None and actor is default_actor else None
    if given is not None and given[0] == "company" and given[1] and not companies and heads[0][0] == "price" \
            and text[: heads[0][1].start].rstrip().rpartition(" ")[2] in _BARE_SHARES_BEFORE:
        # "Neo Performance to be acquired by a Chinese group, shares soar": the shares are those of
        # the companies the sentence is about (not "sector shares", nor "Asian stocks").
        companies = given[1].split(", ")
    if heads[0][0] == "price" and pivot is not None and pivot.tag == VERB and pivot.start <= heads[0][1].start \
            and text[: pivot.start].rstrip().rpartition(" ")[2] in _NOT_PRICES:
        return None, subject if passive else named_actor  # "trading picks up in rare earth stocks": how much changes hands, not its price
    heads_all = _all_kinds(clause)
    if heads[0][0] == "permit" and not _exports_in_view(clause, text, heads[0][1]) and not _licensee(companies, actor):
        # "idle lines waiting for magnet approvals": the approvals are no licence to export, and
        # what the clause does is to the lines.
        others = [(kind, token) for kind, token in heads_all if kind in HEAD_ORDER and kind != "permit"]
        if others:
            heads = [min(others, key=lambda found: HEAD_ORDER.index(found[0]))]  # type: ignore[arg-type]
    # "China bans gallium exports": an instrument word used as the verb after its actor acts.
    verb_like = not acting and pivot is not None and named_actor is not None and pivot.text.split()[-1] in _VERB_FORMS
    if verb_like and pivot is not None and pivot.tag == INSTRUMENT and pivot.value == "supply":
        # "China exports rare earths", not "China caps rare earth exports": a flow's noun after
        # the goods it carries is a noun, and the unknown verb before them says which way.
        verb_like = not any(t.tag == OBJECT and t.end <= pivot.start for t in clause)
        if verb_like and pivot.text.startswith("suppl"):
            # "will not supply rare earths": a verb with the goods after it; in "a veiled Chinese
            # supply threat" the noun "supply" has none.
            verb_like = any(t.tag == OBJECT and t.start == pivot.end for t in clause)
    sign = 1
    hedged = False
    mood = False
    relief = ""
    requiring = False
    starting = granting = ordered = fostering = revoking = False
    agreed = False
    actions: list[str] = []
    relief_tokens: list[Token] = []
    acted = verb_like
    idle = _nothing_more(clause)
    previous: Token | None = None
    for token in clause:
        if idle and token.start in idle:
            continue
        negated = previous is not None and previous.tag == NEGATION
        if token.tag == VERB and previous is not None and previous.tag == TARGET and token.value[0] in HEDGES \
                and token.text.endswith("ed"):
            # "Next Steps on Proposed 10 Percent Tariff": a plan named, not a plan made; what is
            # done to it is for the first sentence to say.
            hedged = True
            previous = token
            continue
        previous = token
        if token.tag in (VERB, RELIEF, DEFICIT, SCARCE, UP, DOWN):
            acted = acted or not (
                token.tag == VERB and (token.value[0] in _REPORTING or token.value[0] in _STATUS_QUO or token.value[1] == 0)
            ) or (token.tag == VERB and token.value[0] == "issue" and heads[0][0] == "permit") \
                or (token.tag == VERB and token.value[0] in _REPORTING and heads[0][0] == "funding")
            # "issues licences", "unveils A$500 million for ...", "directs the DFC to finance ...":
            # money or licences announced are given.
        elif token.tag == INSTRUMENT and token.text.startswith("record"):
            acted = True  # "on a draft record of decision": a permit decided
        if token.tag == VERB and token.value[0] in _AGREEING and not negated:
            agreed = True  # not "fail to reach agreement": none agreed
        if token.tag == VERB:
            lemma, verb_sign, _instrument = token.value  # type: ignore[misc]
            if lemma in HEDGES and not (lemma == "weigh" and _weighs_on(clause, token)):
                hedged = True  # not "as the raising weighs (on the shares)": a burden, not a plan
                mood = mood or lemma in MOODS
            if lemma in REQUIRING:
                requiring = True
            if lemma in _RETALIATING and heads[0][0] == "permit" and any(
                t.tag == TARGET and t.text == "with" and token.start < t.start < heads[0][1].start for t in clause
            ):
                requiring = True  # "hits back with export licences on seven rare earths": licences imposed
            if lemma in _ADDING and heads[0][0] == "permit" and any(
                t.tag == TARGET and t.text == "to" and token.start < t.start < heads[0][1].start for t in clause
            ):
                requiring = True  # "adds five heavy rare earths to its export licence list": more need licences
            if lemma in _PLACING and heads[0][0] == "permit" and token.start < heads[0][1].start \
                    and " under " in text[token.end : heads[0][1].start + 1]:
                requiring = True  # "puts seven rare earths under licence": exports of them now need one
            if lemma in _SEEKING and any(t.text.startswith(("export", "ship")) for t in clause if t.start > token.start):
                requiring = True  # "Tongmei will seek permits to export substrates": licences it now needs
            starting = starting or lemma in _STARTING
            ordered = ordered or lemma in _ORDERING
            fostering = fostering or lemma in _FOSTERING
            revoking = revoking or lemma in _REVOKING
            granting = granting or lemma in _GRANTING
            if verb_sign < 0 and lemma == "lift" and _LIFT_TO.match(text[token.end :]):
                verb_sign = 1  # "lifts tariffs to 60%" is a rise
            if lemma in _FACILITATING and heads[0][0] not in RESTRICTIONS:
                # "streamlines licences", "fast-tracks mining projects": more of them, sooner;
                # streamlined controls are less control.
                verb_sign = 1
            elif lemma in _ENDANGERING and _SECURITY_FINDING.match(text, token.end):
                continue  # "imports that threaten to impair national security": Section 232's test, not a threat to supply
            elif lemma in _REACHING and any(
                t.tag == UP and t.value in _RECORDS and t.start >= token.end and t.start - token.end <= 12 for t in clause
            ):
                verb_sign = 1  # "exports hit a record": reached it, not hurt
            elif lemma in _ENDANGERING and heads[0][0] in ("supply", "permit") and not _aimed_at(clause, token, text) \
                    and not (token.start > heads[0][1].start and _ACTIVE_AFTER.search(text, heads[0][1].end, token.start + 1)):
                # "threatening supply" is less supply; "threatening tariffs" more tariffs. Not
                # "permit delays will hit revenue": the lever is what hits, something else is hit.
                verb_sign = -1
            elif lemma in _SELLING and heads[0][0] == "funding":
                verb_sign = -1  # "sells its stake": money taken out
            elif lemma in ("release", "tap") and heads[0][0] == "funding" and heads[0][1].text in _RESERVES:
                verb_sign = -1  # "releases antimony from the strategic reserve": stock sold, not bought
            elif lemma == "recover" and any(t.tag == DEFICIT and t.start > token.start for t in clause):
                verb_sign = -1  # "recovers from the outage": the trouble is behind it
            elif lemma in _HOLDING_UP and heads[0][0] == "permit":
                verb_sign = -1  # "rejects export licences", "tightens licences": fewer granted
            elif (lemma in ("tighten", "tighter") and heads[0][0] == "supply" and heads[0][1].tag != DEFICIT and (
                    token.start > heads[0][1].start or heads[0][1].text in TRADE_FLOWS)) or (
                    lemma in _RESTRAINING and heads[0][0] == "supply" and heads[0][1].text in TRADE_FLOWS):
                # "as Chinese supply tightens": less of it; "China tightens rare earth exports":
                # lets less out (a control tightened is more control).
                verb_sign = -1
            elif lemma in _LOOSENING and heads[0][0] in ("supply", "permit") and token.start < heads[0][1].start:
                # "signals easing of magnet exports": the flow let go, not cut; "relaxes Lynas's
                # licence": its conditions eased, more allowed.
                verb_sign = 1
            elif lemma in _LIFTING and (heads[0][0] == "price" or (heads[0][0] == "supply" and heads[0][1].tag != DEFICIT
                                                                 and not any(
                t.tag == RELIEF and token.start < t.start < heads[0][1].start for t in clause
            ))):
                # "stocks get a lift", "lifts NdPr output": a price or a flow lifted is up; tariffs
                # lifted are gone, and so is a suspension of exports ("lifts the suspension").
                verb_sign = 1
            if lemma in ("slow", "slow down") and heads[0][0] == "price":
                continue  # "the rally slows": prices still rising, more slowly
            if verb_sign == 0:
                continue  # "modifying": no direction, and not shown as the action
            if verb_sign < 0 and _cuts_reliance(clause, token, text):
                continue  # "opens a magnet plant to cut EU reliance on China": less dependence, not less supply
            sign *= verb_sign
            # Shown: what is done before the instrument, and any reversal after it ("tariffs
            # suspended"), not "made" in "foreign-made goods".
            if lemma not in _REPORTING and (token.start < heads[0][1].start or verb_sign < 0):
                actions.append(token.text)
        elif token.tag == RELIEF:
            sign = -sign
            relief = relief or token.value  # type: ignore[assignment]
            relief_tokens.append(token)
            actions.append(token.text)
        elif token.tag in (NEGATION, SCARCE, DEFICIT):
            if token.tag == NEGATION and token.value in _DOUBTING and heads[0][0] not in RESTRICTIONS:
                continue  # "the plant is unlikely to proceed", "premiums unlikely to fall": a forecast
            if token.tag == DEFICIT and token.value in _APPREHENSION and heads[0][0] in RESTRICTIONS:
                # "export curb fears", "tariff worries": the restriction is feared, not undone;
                # "supply fears" stay a shortage feared.
                hedged = mood = True
                continue
            if token.tag == NEGATION and _governs_without(clause, token):
                continue  # "may not be exported without a licence": one requirement, not two negations
            if token.tag == DEFICIT and verbs and _blamed(clause, token):
                # "cut output on magnet shortage": the shortage is why the verb was done, not a
                # second turn of the flow.
                actions.append(token.text)
                continue
            if token.tag == DEFICIT and any(
                t.tag == VERB and t.start > token.start
                and (t.value[0] in _ENDANGERING or (t.value[1] < 0 and any(  # type: ignore[index]
                    i.tag == INSTRUMENT and i.start > t.start for i in clause)))
                for t in clause
            ):
                # "shortage hits production", "fighting cuts off supply": the trouble is what acts,
                # and what it does to the lever says which way ("the shortage eases" is the
                # trouble undone).
                actions.append(token.text)
                continue
            if token.tag == SCARCE and any(
                t.tag == VERB and t.value[1] < 0 and t.start < token.start for t in clause  # type: ignore[index]
            ):
                actions.append(token.text)
                continue  # "flows slump to a trickle": where they fell to, not a second fall
            sign = -sign
            actions.append(token.text)
        elif token.tag == UP and not verbs:
            actions.append(token.text)
        elif token.tag == DOWN and (not verbs or all(v.value[0] in _REACHING or v.value[0] in _CONTINUING
                                                     for v in verbs)):  # type: ignore[index]
            # "shares hit a five-month low": where they reached says which way; "extend losses",
            # "the selloff deepens": more of the fall.
            sign = -sign
            actions.append(token.text)
    # "sets a 15 September start for export permits": the requirement starts, unless someone
    # starts granting them.
    requiring = requiring or (starting and not granting) or _licence_rule(clause, heads[0])
    # "with an extra A$500 million for the Critical Minerals Facility": money set aside for something.
    acted = acted or any(
        a.tag == INSTRUMENT and a.text == "moneyamount" and b.tag == TARGET and b.text == "for"
        for a, b in zip(clause, clause[1:])
    )
    clause_objects = [t for t in clause if t.tag == OBJECT]
    objects = clause_objects or sentence_objects
    if heads[0][0] == "supply" and clause_objects and all(t.value[1] <= _MADE_GOODS for t in clause_objects) \
            and any(t.tag == VERB and t.value[1] < 0 for t in clause):  # type: ignore[operator]
        # "idles its truck plant because suppliers cannot get magnets": the plant makes trucks;
        # what it lacks, named elsewhere in the sentence, is what the disruption is about.
        objects = clause_objects + [t for t in sentence_objects if t.value[1] & DESK_OBJECTS]  # type: ignore[operator]
    object_names = distinct([t.value[0] for t in objects])  # type: ignore[index]
    labels = frozenset(label for t in objects for label in t.value[1])  # type: ignore[index]
    if not objects and heads[0][0] != "entity_list":
        # "Chinese magnet makers win export licences": the makers say what is shipped (but
        # makers put on a list are listed themselves, not their magnets).
        for token in clause:
            made = _MAKERS_OF.get(token.text) if token.tag == ACTOR else None
            if made is not None:
                object_names, labels = (made,), frozenset({"magnets"})
                break
            # "DOE to take a stake in Lithium Americas": a company known for what it mines.
            mined = MINERAL_COMPANIES.get(token.text) if token.tag == ACTOR else None
            if mined is not None:
                object_names, labels = (mined[0],), frozenset({mined[1]})
                break
    labels |= frozenset(f"company:{c}" for c in companies)
    if companies:
        labels |= {"company"} | {ticker_groups[c] for c in companies if c in ticker_groups}
        object_names = distinct((*object_names, *companies))
    if programme is not None and (programme[3] == "minerals" or labels & DESK_OBJECTS or companies):
        labels |= {"programme"}  # a sector-wide programme is the desk's only beside its objects
    actor_kind, actor_name, actor_country = actor if actor is not None else ("", "", "")
    if actor_kind == "company" and actor_name in ticker_groups and not companies:
        # "... after it said it would halt operations": the company carried over is still who acts.
        labels |= {"company", f"company:{actor_name}", ticker_groups[actor_name]}
    if actor_country:
        countries.add(actor_country)
    # The same for every instrument of the clause.
    # Not "... pull the plug on emergency tariffs, and what stays in place": what stays is other
    # tariffs, not these.
    kept = any(word in text for word in _KEPT_WORDS) and any(
        " what " not in text[max(match.start() - 12, 0) : match.start() + 1] for match in _KEPT.finditer(text)
    )
    clause_kinds = frozenset(k for k, _ in heads_all if k)
    facts = []
    for instrument, head in heads:
        if instrument in ("supply", "permit", "price") and not acted and not (
            instrument == "supply" and actor_kind == "armed group"
        ):
            # "rare earth mining", "export licences": a flow named, nothing done to it; but rebels
            # named with a mine ("take control of the mining hub") are the news.
            continue
        if instrument == "permit" and not _exports_in_view(clause, text, head) and not _licensee(companies, actor):
            continue  # a drug's approval, a mine's permit: not a licence to export (unless ours)
        # A truce that is itself the instrument ("extends the truce") does not reverse itself.
        polarity_sign = -sign if head in relief_tokens else sign
        if instrument == "supply" and actor_kind == "armed group":
            polarity_sign = -1  # rebels who take a mining hub disrupt its supply, whatever the verb
        if instrument == "funding" and (actor_kind == "company" or (not actor_kind and companies)) and not public \
                and polarity_sign > 0 and (
            (headline and any(t.tag == INSTRUMENT and t.text in _EQUITY_RAISES for t in clause))
            or (_SETBACK_MONEY.search(text) and not _BETTER_MONEY.search(text))
        ):
            # "raises A$30 million at a 12% discount", "forecasts a net loss": bad news for
            # holders; so is a placement the headline leads with (new shares, at a discount),
            # unlike one a filing mentions beside the deal it pays for.
            polarity_sign = -1
        if instrument == "export_control" and head.text in _QUOTAS and any(
            t.tag == VERB and t.value[0] in _LEVEL_CHANGING for t in clause  # type: ignore[index]
        ):
            # A quota is an allowance: a bigger one is less restriction, a smaller one more
            # ("cuts the mining quota"); imposing one is a restriction all the same.
            polarity_sign = -polarity_sign
        kind = instrument
        if kind == "permit" and requiring:
            kind = "export_control"  # a licence required is a control
        if kind is None:
            # Whose rules: who acts, or the government that owns them ("China's new rare earth
            # rules take effect").
            owned = not actor_kind and any(
                t.tag == ACTOR and t.value[0] == "government" and t.value[2] and t.end <= head.start  # type: ignore[index]
                for t in clause
            )
            kind = _generic_kind(labels, clause_kinds, generic, (bool(actor_country) and not issuer_filled) or owned)
            if kind is None:
                continue
        facts.append(
            _new_fact(FrameFact, (  # positional, in FrameFact's field order (checked below the class)
                actor_name,
                actor_kind,
                actor_country,
                " ".join(actions) if actions else head.text,
                "up" if polarity_sign > 0 else "down",
                kind,
                object_names,
                labels,
                frozenset(countries | targets),
                distinct(companies),
                relief,
                hedged,
                headline,
                head.text in TRADE_FLOWS or (instrument == "permit" and head.text.startswith("export")),
                acted,
                agreed,
                clause_kinds,
                contrast,
                public or programme is not None,
                kept,
                instrument == "price" and (
                    head.text in _SHARE_WORDS or any(t.tag == INSTRUMENT and t.text in _SHARE_WORDS for t in clause)
                    # "NdPr price tops the floor for MP": a material's price, whoever it pays.
                    or ((bool(companies) or actor_kind == "company")
                        and not any(t.tag == OBJECT and (_BEFORE_PRICE.match(text[t.end : head.start + 1])
                                                         or _OF_MATERIAL.match(text[head.end : t.start + 1]))
                                    for t in clause))
                ),
                # "against US entities" lists a country's firms; "bars gallium shipments to American
                # buyers" bans the desk's goods to a country, whoever buys them there.
                firms or (country_firms and not labels & DESK_OBJECTS)
                or (kind == "entity_list" and _firms_listed(clause, first_verb, head)),
                main,
                mood,
                ordered,
                fostering and instrument == "supply" and not head.text.startswith("import"),
                revoking,
            ))
        )
    return facts, subject if passive else named_actor


#: What may come just before shares that are the sentence's company's: a clause break, or "its".
_BARE_SHARES_BEFORE: Final = frozenset({"|", "semicolonbreak", "colonbreak", "its", "their", "the", "and", "as", "with"})
#: Words that count the companies a measure targets: "15 US firms", "six more entities".
_COUNTED: Final = frozenset({"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                      "dozen", "dozens", "several", "more", "other", "others", "further", "additional"})


def _nothing_more(clause: list[Token]) -> set[int]:
    """Where a clause says, after its verb, that nothing more was done ("the truce expires with no
    extension", "curbs stay, without a reduction"): the negation and the act it denies, which
    leave the verb's outcome as it is rather than turning it round."""
    idle: set[int] = set()
    acted = False
    for index, token in enumerate(clause):
        if token.tag == VERB and token.text not in _NOMINAL_VERBS and token.value[0] not in _REPORTING:
            acted = True
        elif acted and token.tag == NEGATION and index + 1 < len(clause):
            following = clause[index + 1]
            if following.tag == VERB and following.text in _NOMINAL_VERBS:
                idle.update((token.start, following.start))
    return idle


def _counted(text: str, start: int) -> bool:
    """Whether a number or a count stands in the three words before `start`."""
    return any(w.isdigit() or w in _COUNTED for w in text[max(0, start - 30) : start].split()[-3:])


def _actor(clause: list[Token], first_verb: int | None, text: str | None = None):
    """Who acts in a clause, and the countries, companies and programme it names.

    The actor is the last name before the first verb with no instrument between them ("China
    halts exports"); in "Chinese rare earth exports plunge" China owns the exports, it does not
    act. A name after "on", "to", "against"... is a target. "The Chinese government" acts for
    China: a name without a country takes the country named just before it."""
    actor = None
    last_country = ""
    targets: set[str] = set()
    countries: set[str] = set()
    companies: list[str] = []
    programme = None
    public = False
    firms = False
    #: A country's companies, neither named nor counted ("to American buyers").
    country_firms = False
    last_targeted = False
    previous: Token | None = None
    owner = None
    for index, token in enumerate(clause):
        if token.tag == ACTOR:
            kind, name, country = token.value  # type: ignore[misc]
            if kind == "government" and (name != country or not name
                                         or (previous is not None and previous.tag == TARGET and previous.value == "from")):
                # An agency, "the government", or money "from Japan": public money, whoever's subject.
                public = True
            if previous is not None and previous.tag == EXCLUDE:
                previous = token
                continue  # "outside China": the other side, not a party
            if country:
                countries.add(country)
            if kind == "company" and name:
                companies.append(name)
            # A target marker governs its noun phrase: "to 15 US firms" targets the firms too.
            targeted = previous is not None and (previous.tag == TARGET or (previous.tag == ACTOR and last_targeted))
            last_targeted = targeted
            before_verb = first_verb is not None and token.start < first_verb
            if targeted and previous is not None and kind == "company" \
                    and not (previous.tag == TARGET and previous.value in _TIME_MARKERS):
                # Named, counted or a country's companies ("to 15 US firms", "against US
                # entities"), not a class of them ("a licence clock for magnet makers"); not "From
                # August 1 exporters must ...": a date, then the subject.
                if name or text is None or _counted(text, token.start) or (
                        previous.tag == ACTOR and token.text in ("entities", "entity")):
                    firms = True  # "entities" is the word of the lists themselves
                elif previous.tag == ACTOR:
                    country_firms = True
            if targeted and country:
                targets.add(country)
            elif before_verb and not targeted and actor is not None and actor[0] == "company" and kind == "government" \
                    and index + 1 < len(clause) and clause[index + 1].tag == OBJECT:
                pass  # "Syrah declares Mozambique graphite force majeure": the country names the graphite
            elif before_verb and not targeted and kind == "court" and actor is not None and actor[0] == "government" \
                    and _listed_after(clause, index, text):
                pass  # "MOFCOM, customs and the courts met to tighten ...": the agencies act, courts among them
            elif before_verb and not targeted:
                if not country and kind in ("government", "court") and last_country:
                    name, country = name or last_country, last_country  # "the Chinese government", "a US court"
                name = name or country
                if actor is not None and actor[0] == kind and name and name not in actor[1].split(", "):
                    name = f"{actor[1]}, {name}"  # "US, Japan sign ...": both act
                actor = (kind, name, country)
            if before_verb and country and not targeted:
                last_country = country
        elif token.tag == PROGRAMME:
            programme = token.value
        elif token.tag == VERB and token.value[2] == "funding" and previous is not None and previous.tag == ACTOR \
                and previous.value[0] == "government":
            public = True  # "US-backed", "state-backed"
        elif token.tag == INSTRUMENT and actor is not None and first_verb is not None and token.start < first_verb:
            if token.value != "court" and actor[0] != "company":
                if token.value in ("tariff", "export_control") and actor[0] == "government" and actor[2] \
                        and previous is not None and previous.tag == ACTOR and text is not None \
                        and not text[previous.end : token.start].strip():
                    owner = actor  # "US tariffs on solar panels rise": Washington's tariffs
                actor = None  # the name owned the instrument: "Chinese export curbs bite"
        if token.tag == INSTRUMENT and token.value == "funding" and index and not public and text is not None:
            public = _government_money(clause, index, text)
        previous = token
    if actor is None and owner is not None:
        actor = owner
    return actor, targets, countries, companies, programme, public, firms, country_firms


def _listed_after(clause: list[Token], index: int, text: str | None) -> bool:
    """Whether the name at `index` follows another name in a list ("customs and the courts"),
    rather than after an adjective of country ("US trade court", "Malaysian High Court")."""
    if text is None:
        return False
    before: Token | None = None
    for position in range(index - 1, -1, -1):  # by index: mypyc cannot compile reversed() here
        if clause[position].tag == ACTOR:
            before = clause[position]
            break
    if before is None:
        return False
    between = text[before.end : clause[index].start + 1]
    return "|" in between or " and " in between


def _government_money(clause: list[Token], index: int, text: str) -> bool:
    """Whether the money at `index` is a government's, though a company may act: "on report of a
    Washington stake", "a US loan", "with Washington taking a stake"; not "Chinese-linked funds"."""
    before = clause[index - 1]
    if before.tag == VERB and before.value[1] > 0 and index >= 2:
        owner, after = clause[index - 2], before
    else:
        owner, after = before, clause[index]
    if clause[index].text in _TRADED_DEALS:
        return False  # "a Korean offtake": a buyer from Korea; "a US loan" is Washington's money
    if clause[index].text == "moneyamount" and index + 1 < len(clause):
        # "lands $1.4 billion US package": the government named between the sum and what it is.
        named = clause[index + 1]
        if named.tag == ACTOR and named.value[0] == "government" and not text[clause[index].end : named.start + 1].strip() \
                and _PUBLIC_PACKAGE.match(text, named.end) is not None:
            return True
    return owner.tag == ACTOR and owner.value[0] == "government" and not text[owner.end : after.start + 1].strip()


#: What a sum with a government's name after it is: "$1.4 billion US package".
_PUBLIC_PACKAGE: Final = re.compile(r" (?:government |federal |state )?(?:package|support|backing|aid|award|grant|loan|financing|funding)s?\b")


#: Deals a country's adjective names the buyer's nationality of, not its government.
_TRADED_DEALS: Final = frozenset({"offtake", "offtakes", "off take", "contract", "contracts", "purchase agreement"})


#: What puts permits under a regime: "licences granted under the new rules".
_UNDER_RULES: Final = re.compile(r" (?:under|in line with|in accordance with|according to|pursuant to) ")
#: What puts a restriction named after the verb as its cause: "exports plunge 74% under new licensing".
_CAUSED_BY: Final = re.compile(r" (?:under|amid|on|because of|due to|in the wake of|in response to) ")


def _heads(clause: list[Token], text: str = "") -> list[tuple[str | None, Token]]:
    """The instruments a clause is about: the first of the strongest kind, plus any other
    restriction it names ("tariffs and export controls")."""
    found: dict[str | None, Token] = {}
    answered = _answered(clause)
    court = any(t.tag == ACTOR and t.value[0] == "court" for t in clause)  # type: ignore[index]
    # "lift state revenue", "export revenue": revenue is a named company's results, no one
    # else's; and what "will hit revenue" is the news, not the revenue.
    earner = any(t.tag == ACTOR and t.value[0] == "company" and t.value[1] for t in clause)  # type: ignore[index]
    previous: Token | None = None
    for token in clause:
        if token in answered:
            continue
        if token.text in _EARNINGS and (not earner or found):
            continue
        attribute = previous is not None and previous.tag == ACTOR and token.tag == VERB and token.text.endswith("ed")
        previous = token
        if attribute and any(t.tag == VERB and t is not token and t.value[1] != 0 for t in clause):  # type: ignore[index]
            continue  # "blowouts hit US-backed refinery": who backs it describes it; "hit" is what happened
        if token.tag == INSTRUMENT and token.value == "court" and token.text in ("decision", "decisions") and not court:
            continue  # "ARECOMS Decision No. 001": an agency's decision is what it decides, not a ruling
        if token.tag == INSTRUMENT and token.value not in found:
            found[token.value] = token  # type: ignore[index]
        elif token.tag == VERB and token.value[2] and token.value[2] not in found:  # type: ignore[index]
            found[token.value[2]] = token  # type: ignore[index]
        elif token.tag == DEFICIT and "supply" not in found:
            found["supply"] = token
        elif token.tag == PROGRAMME and token.value[0] not in found:  # type: ignore[index]
            found[token.value[0]] = token  # type: ignore[index]
        elif token.tag == RELIEF and token.value in ("truce", "ceasefire", "cease fire") and "agreement" not in found:
            found["agreement"] = token
    if not found:
        duty = next((t for t in clause if t.tag == VERB and t.value[0] in REQUIRING), None)  # type: ignore[index]
        if duty is not None and any(
            t.tag == ACTOR and t.value[0] == "company" and t.text.startswith("export") and t.start > duty.start  # type: ignore[index]
            for t in clause
        ):
            # "China to require rare earth exporters to report buyers' identities": a duty laid on
            # exporters is an export control, whatever it asks of them.
            return [("export_control", duty)]
        # "tungsten to its highest since 2013": a record named, the price implied.
        mark = next((t for t in clause if t.tag in (UP, DOWN) and t.value in _RECORDS), None)
        if mark is not None and any(t.tag == OBJECT for t in clause):
            return [("price", mark)]
        return []
    if "entity_list" in found and "export_control" in found:
        # "Adding 15 US entities to the export control list": the list is what is done.
        del found["export_control"]
    restrictions = [k for k in ("export_control", "tariff", "entity_list") if k in found]
    verb = next((t for t in clause if t.tag == VERB and t.value[1] != 0), None)
    if restrictions and verb is not None and all(found[k].start < verb.start for k in restrictions):
        # "Chinese curbs dry up supply", "export curbs propel tungsten prices": the restriction
        # is the cause; what the verb moves is the news.
        moved = [
            k for k in ("supply", "price", "permit")
            if k in found and found[k].start > verb.start and _direct_object(clause, verb, found[k])
        ]
        if moved:
            return [(moved[0], found[moved[0]])]
    permit = next((t for t in clause if t.tag == INSTRUMENT and t.value == "permit"), None) \
        if "permit" in found and verb is not None else None
    if permit is not None and verb is not None and verb.start < permit.start:
        regimes = [k for k in ("export_control", "tariff", "entity_list", None) if k in found]
        if regimes and all(found[k].start > permit.start for k in regimes) \
                and _UNDER_RULES.search(text, permit.end - 1, min(found[k].start for k in regimes) + 1):
            # "approves the first graphite export applications under the December 1 rules": the
            # permits are what is done, the rules what they are granted under.
            return [("permit", permit)]
    if restrictions and verb is not None and all(found[k].start > verb.start for k in restrictions):
        # "Magnet exports plunge 74% under new licensing": a flow or a price moved, and the
        # restriction after "under" or "amid" is why.
        moved = [k for k in ("supply", "price") if k in found and found[k].start < verb.start]
        if moved and _CAUSED_BY.search(text, verb.end - 1, min(found[k].start for k in restrictions) + 1):
            return [(moved[0], found[moved[0]])]
    if restrictions:
        # "Almonty up 41% after Beijing's curbs": a company's sized move, with no verb or
        # "shares" to carry it, and the restriction after it its cause.
        mark = next((t for t in clause if t.tag in (UP, DOWN) and t.value in _SIZED_MOVES), None)
        if mark is not None and all(found[k].start > mark.start for k in restrictions) \
                and (verb is None or verb.start > mark.start):
            subject = [t for t in clause if t.end <= mark.start]
            if subject and subject[-1].tag == ACTOR and subject[-1].value[0] == "company":
                return [("price", mark)] + [(k, found[k]) for k in restrictions]
    by = next((t for t in clause if t.tag == TARGET and t.text == "by"), None) if restrictions and verb is not None else None
    if by is not None and verb is not None and verb.start < by.start \
            and all(found[k].start > by.start for k in restrictions):
        # The passive of the same: "Swift output halted by China's rare earth curbs": the
        # restriction after `by` is the cause; what the participle moves stands before it
        # ("suppliers say supply chains disrupted by ...": the participle, not "say").
        described = [t for t in clause if t.tag == VERB and t.start < by.start][-1]
        moved = [k for k in ("supply", "price", "permit") if k in found and found[k].start < described.start]
        if moved:
            return [(moved[0], found[moved[0]])]
        # "a minerals bloc with price floors enforced by tariffs": the tariffs are the means of
        # what the participle describes.
        kept = [k for k in ("agreement", "funding") if k in found and found[k].start < described.start]
        if described is not verb and kept:
            return [(kept[0], found[kept[0]])]
    if restrictions:
        first = min(restrictions, key=lambda k: found[k].start)
        others = [k for k in restrictions if k != first]
        return [(first, found[first])] + [(k, found[k]) for k in others]
    price, funding = found.get("price"), found.get("funding")
    if price is not None and price.tag == INSTRUMENT and funding is not None and price.start < funding.start and any(
        t.tag == VERB and t.value[2] == "price" and price.start <= t.start < funding.start for t in clause
    ):
        # "NdPr prices climb above the US floor price": the floor is where the price went.
        return [("price", price)]
    pact = found.get("agreement")
    if pact is not None and funding is not None and pact.start < funding.start and any(
        t.tag == TARGET and t.text == "with" and pact.start < t.start < funding.start for t in clause
    ):
        # "a critical minerals bloc with price floors": the bloc is what is proposed.
        return [("agreement", pact)]
    rule, flow = found.get(None), found.get("supply")
    if rule is not None and flow is not None and rule.start < flow.start and flow.text in TRADE_FLOWS:
        return [(None, rule)]  # "new rules on rare earth exports": rules over the flow, not the flow
    for kind in HEAD_ORDER:
        if kind in found:
            return [(kind, found[kind])]
    return [(None, found[None])]


def _firms_listed(clause: list[Token], first_verb: int | None, head: Token) -> bool:
    """Whether companies are what the verb puts on a list: "adds 12 Chinese rare earth firms to
    the Entity List" lists firms, where "adds magnet technology to its export control list"
    controls an item."""
    if first_verb is None:
        return False
    after = [t for t in clause if t.start > head.start]
    if head.start <= first_verb:
        # The list is the verb ("blacklists two US rare earth producers"): what it lists follows
        # it, up to the next phrase ("... in reply to the Pentagon's list").
        return _company_in_phrase(after)
    if any(t.tag == ACTOR and t.value[0] == "company" and first_verb < t.start < head.start for t in clause):
        return True
    # Sanctions "on" or "against" what follows ("lifts sanctions on a Chinese rare earth refiner"):
    # the companies of that phrase are listed.
    return bool(after) and after[0].tag == TARGET and after[0].value in ("on", "against") \
        and _company_in_phrase(after[1:])


def _company_in_phrase(tokens: list[Token]) -> bool:
    """Whether a company is named before the phrase ends (at a preposition, a verb or a break)."""
    for token in tokens:
        if token.tag in (TARGET, VERB, BREAK):
            return False
        if token.tag == ACTOR and token.value[0] == "company":
            return True
    return False


def _direct_object(clause: list[Token], verb: Token, target: Token) -> bool:
    """Whether `target` is what `verb` acts on ("dry up supply"), not a later phrase of the
    clause ("duty imposed on goods over the flow of opioids")."""
    between = [t for t in clause if verb.start < t.start < target.start]
    return not any(t.tag in (TARGET, VERB, SUBORDINATE, BREAK) for t in between)


def _aimed_at(clause: list[Token], verb: Token, text: str) -> bool:
    """"limits on sales to hit American weapons makers": whom a measure is meant to hurt, not
    supply hit."""
    after = next((t for t in clause if t.start > verb.start), None)
    return text[: verb.start + 1].endswith(" to ") and after is not None and after.tag == ACTOR


#: Verbs whose object is what is answered; what the answer is comes after "with".
_ANSWERING: Final = frozenset({"answer", "respond"})


def _answered(clause: list[Token]) -> set[Token]:
    """"China hits back at US tariffs with curbs": the instrument after `at` or `against` is
    what is answered; the clause is about the curbs (when it names another instrument)."""
    answered: set[Token] = set()
    markers = [
        index for index, t in enumerate(clause)
        if (t.tag == TARGET and t.text in ("at", "against")) or (t.tag == VERB and t.value[0] in _ANSWERING)
    ]
    for index in markers:
        # "hits back at US tariffs", "answers the court loss with ...", "responds to US tariffs with curbs"
        for token in clause[index + 1 : index + 4]:
            if token.tag == INSTRUMENT:
                answered.add(token)
                break
            if token.tag not in (ACTOR, OBJECT) and not (token.tag == TARGET and token.text == "to"):
                break
    instruments = [t for t in clause if t.tag == INSTRUMENT or (t.tag == VERB and t.value[2])]
    return answered if len(instruments) > len(answered) else set()


#: A licence to explore, mine or operate, named by the word before it.
_OPERATING_LICENCE: Final = re.compile(r" (?:exploration|exploring|prospecting|mining|operating|exploitation|extraction|"
                                       r"environmental|processing) licen[cs]e")


def _exports_in_view(clause: list[Token], text: str, head: Token) -> bool:
    """A licence for magnets, or an approval where exports are in view, is an export permit (a
    mine's permit is not, though the sentence mentions the Export-Import Bank)."""
    span = text[clause[0].start : clause[-1].end + 1]
    if head.text.startswith("licen") and _OPERATING_LICENCE.search(text, max(0, head.start - 16), head.end + 1):
        # "exploration licences", "mining licence": leave to dig or run a plant, not to ship.
        return " export" in span or " shipment" in span
    if head.text.startswith(("licen", "export")):
        return True
    if any(t.tag == INSTRUMENT and t.value == "permit" and t.text.startswith("licen") and t is not head
           and _OPERATING_LICENCE.search(text, max(0, t.start - 16), t.end + 1) is None for t in clause):
        # "slows approval of rare earth licences": approvals of the licences a trade needs.
        return True
    before = [t for t in clause if t.end <= head.start]
    if before and before[-1].tag == ACTOR and before[-1].value[2] == CHINA \
            and text[before[-1].end : head.start].strip() in ("", "s") \
            and not any(t.tag == INSTRUMENT and t.value == "supply" and t.text not in TRADE_FLOWS for t in clause):  # type: ignore[index]
        # "as Chinese approvals pick up": Beijing's approvals are of exports (not "approvals
        # for new mines").
        return True
    return " export" in span or " shipment" in span or any(t.text in TRADE_FLOWS for t in clause)


def _all_kinds(clause: list[Token]) -> list[tuple[str | None, Token]]:
    kinds: list[tuple[str | None, Token]] = []
    for token in clause:
        if token.tag == INSTRUMENT:
            kinds.append((token.value, token))  # type: ignore[arg-type]
        elif token.tag == VERB and token.value[2]:  # type: ignore[index]
            kinds.append((token.value[2], token))  # type: ignore[index]
        elif token.tag == PROGRAMME:
            kinds.append((token.value[0], token))  # type: ignore[index]
    return kinds


def _generic_kind(
    labels: frozenset[str], sentence_kinds: AbstractSet[str], hint: str | None = None, governed: bool = True
) -> str | None:
    """What "measures" or "rules" are: the one restriction the clause also names ("duties and
    other measures"), else what the issuer's measures are (an anti-dumping determination's are
    duties), else export controls when a government known to the desk sets them on minerals
    (not a safety standard for magnets from an agency nobody named), else unsaid."""
    named = sentence_kinds & {"export_control", "tariff", "entity_list"}
    if len(named) == 1:
        return next(iter(named))
    if hint:
        return hint
    if labels & DESK_OBJECTS and (governed or sentence_kinds & {"supply", "permit"}):
        return "export_control"
    return None


#: Nouns of apprehension: of a shortage they are a shortage feared; of a restriction, the
#: restriction feared (a mood, not an act).
_APPREHENSION: Final = frozenset({"fear", "fears", "concern", "concerns", "worry", "worries"})
#: Verbs by which an actor has others act: "orders funds to sell", "tells exporters to".
_ORDERING: Final = frozenset({"order", "tell", "direct", "force", "compel", "ask", "instruct"})
#: Words before a participle that make it passive: "was added", "has been placed", "gets hit".
_AUXILIARIES: Final = frozenset({"is", "are", "was", "were", "be", "been", "being", "get", "gets", "got", "getting"})
#: Verbs of giving: in a headline, "Lynas awarded ..." is Lynas given it (the giver acts: "awards").
_GIVING: Final = frozenset({"award", "grant", "give", "offer", "hand", "issue", "deny", "refuse"})
#: Participles that do not end in -ed or -en ("put on the list", "hit by curbs").
_BARE_PARTICIPLES: Final = frozenset({"put", "hit", "set", "cut", "shut", "struck", "caught", "held", "kept", "left", "sold", "paid"})


def _passive(clause: list[Token], verb: Token, text: str, headline: bool) -> bool:
    """Whether the clause's verb is passive, so its subject is acted on: after a form of "be"
    or "get" ("was added", "were formally placed"); in a headline, a bare participle followed
    by `by`, `to` or `on` ("Shenghe added to Entity List", "Lynas hit by curbs"), since
    headlines tell what someone did in the present tense ("adds"), or with an agent after it
    ("Lynas granted permit by Malaysia"), or a company given something ("Lynas awarded ...")."""
    word = verb.text.rsplit(" ", 1)[-1]
    if not (word.endswith(("ed", "en")) or word in _BARE_PARTICIPLES):
        return False  # "are establishing", "shares are tumbling": progressive, not passive
    before = text[max(0, verb.start - 40) : verb.start].split()[-2:]  # a window: a long lead is not copied per clause
    if before and (before[-1] in _AUXILIARIES or (len(before) == 2 and before[0] in _AUXILIARIES and before[1].endswith("ly"))):
        return True
    if not headline:
        return False
    if verb.value[0] in _GIVING and any(t.tag == ACTOR and t.value[0] == "company" for t in clause if t.start < verb.start):
        return True  # "Lynas awarded $258 million US defense contract": a company is given it
    later = [t for t in clause if t.start >= verb.end]
    if later and later[0].tag == TARGET and later[0].text in ("by", "to", "on") and not text[verb.end : later[0].start].strip():
        # "added to US Entity List", not "agreed to resume flows": the marker leads to the instrument.
        following = next((t for t in later[1:] if t.tag != ACTOR), None)
        if later[0].text == "by" or (following is not None and following.tag == INSTRUMENT):
            return True
    return _passive_actor(later) is not None  # "Lynas granted permit by Malaysia"


def _instrument_owner(clause: list[Token], verb: Token) -> tuple[str, str, str] | None:
    """The government whose instrument a passive verb acts with: "put on China's unreliable
    entity list", "added to the US Entity List"."""
    for token, following in zip(clause, clause[1:]):
        if token.start > verb.start and token.tag == ACTOR and token.value[0] == "government" and token.value[2] \
                and following.tag == INSTRUMENT:
            return token.value  # type: ignore[return-value]
    return None


#: Lists known by their names: the Entity List is the US Commerce Department's; the unreliable
#: entity list and the export control control list are China's commerce ministry's.
_LIST_OWNERS: Final = {
    "entity list": ("government", US, US),
    "unreliable entity list": ("government", CHINA, CHINA),
    "unreliable entities list": ("government", CHINA, CHINA),
    "export control list": ("government", CHINA, CHINA),
    "export control control list": ("government", CHINA, CHINA),
}


def _list_owner(clause: list[Token]) -> tuple[str, str, str] | None:
    """Who keeps the list a clause is about (its first instrument), when no one is said to
    act: "Shenghe added to the Entity List" is a US listing."""
    first = next((t for t in clause if t.tag == INSTRUMENT), None)
    if first is not None and first.value == "entity_list":
        return _LIST_OWNERS.get(first.text)
    return None


def _blamed(clause: list[Token], deficit: Token) -> bool:
    """Whether a shortage is named as the cause of what a verb did: "on", "over", "from" or
    "for" before it, past the goods it is of ("cut output on magnet shortage", "halts the line for
    lack of magnets"), after an acting verb."""
    before = [t for t in clause if t.end <= deficit.start and t.tag != OBJECT]
    return bool(before) and before[-1].tag == TARGET and before[-1].value in ("on", "over", "from", "for") and any(
        t.tag == VERB and t.value[1] != 0 for t in before)  # type: ignore[index]


def _passive_actor(clause: list[Token]) -> tuple[str, str, str] | None:
    """'... imposed by Beijing': the actor after `by`."""
    for previous, token in zip(clause, clause[1:]):
        if previous.tag == TARGET and previous.text == "by" and token.tag == ACTOR:
            return token.value  # type: ignore[return-value]
    return None


#: Actions that spare part of what a measure covers.
_CARVE_OUT: Final = re.compile(r"\b(?:exempt|exclud)")


def _clash(facts: list[FrameFact]) -> str:
    """Two frames of one sentence, one actor and one instrument, pulling opposite ways."""
    for i, a in enumerate(facts):
        for b in facts[i + 1 :]:
            if a.contrast or b.contrast:
                continue  # "pauses most tariffs but raises China's": the "but" says which counts
            if not (a.acted and b.acted):
                continue  # "keeps the rate at 10% and extends the pause": only one is done
            if a.countries != b.countries:
                continue  # "lifts China's tariff, pauses others'": two targets, no contradiction
            if _CARVE_OUT.search(a.action) or _CARVE_OUT.search(b.action):
                continue  # "a 50% tariff applies; cathode is exempt": a measure and what it spares
            if a.instrument == b.instrument and a.actor == b.actor and a.polarity != b.polarity and a.main and b.main:
                return f"{a.action} / {b.action} ({a.instrument})"
    return ""


# ---------------------------------------------------------------------------------------------
# Event types from frames.

#: Instruments whose frames can set each event type (for checking a phrase rule's family).
FAMILIES: Final[dict[str, frozenset[str]]] = {
    "export_control_new": frozenset({"export_control", "supply", "permit", "agreement", "entity_list"}),
    "export_control_eased": frozenset({"export_control", "supply", "permit", "agreement", "entity_list"}),
    "truce": frozenset({"agreement", "tariff", "export_control", "entity_list"}),
    "tariff_up": frozenset({"tariff", "agreement", "court"}),
    "tariff_down": frozenset({"tariff", "agreement", "court"}),
    "entity_list": frozenset({"entity_list", "export_control"}),
    "gov_funding": frozenset({"funding", "agreement", "supply"}),
    "partnership": frozenset({"agreement", "funding"}),
    "supply_disruption": frozenset({"supply", "permit", "export_control"}),
    "corporate": frozenset({"funding", "agreement", "supply", "permit"}),
    "legal": frozenset({"court", "tariff"}),
    # "H1 net profit expected to rise": a move rule fired, the company's money is the news.
    "price_move": frozenset({"price", "funding"}),
}

#: Watchlist groups whose own halts and deals are company news; a carmaker idling a line for
#: want of magnets is a supply disruption.
PRODUCER_GROUPS: Final = frozenset({"us_allied_producers", "china_producers", "minor_metals"})
#: Subjects of a market's verb that are not its price: "volume surges in rare earth stocks".
_NOT_PRICES: Final = frozenset({"trading", "volume", "volumes", "turnover", "activity", "interest"})
#: Makers named by what they make, when the clause names nothing else: their magnets.
#: Companies off the watchlists known for the material they mine or make (`KNOWN_COMPANIES`).
MINERAL_COMPANIES: Final = {"lithium americas": ("lithium", "battery_materials"), "albemarle": ("lithium", "battery_materials"),
                             "korea zinc": ("critical minerals", "critical_minerals"),
                             "ucore": ("rare earth", "rare_earths"), "solvay": ("rare earth", "rare_earths"),
                             "vulcan elements": ("magnet", "magnets"), "noveon": ("magnet", "magnets"),
                             "trilogy metals": ("critical minerals", "critical_minerals"),
                             "reelement": ("rare earth", "rare_earths"),
                             "reelement technologies": ("rare earth", "rare_earths"),
                             "graphite one": ("graphite", "minor_metals")}
_MAKERS_OF: Final = {"magnet maker": "magnet", "magnet makers": "magnet", "rare earth magnet maker": "rare earth magnet",
                     "rare earth magnet makers": "rare earth magnet"}
#: What a plant makes (a truck, a car): naming it says where supply stopped, not what ran short.
_MADE_GOODS: Final = frozenset({"other_goods"})
#: What a desk trades on: a truce over these is the trade fight paused.
DESK_OBJECTS: Final = frozenset({"rare_earths", "minor_metals", "magnets", "critical_minerals", "technology",
                          "battery_materials", "dual_use"})
#: Flows a government halts by policy; a government "halting mining" is something else.
TRADE_FLOWS: Final = frozenset({"export", "exports", "shipment", "shipments", "supply", "supplies", "delivery", "deliveries",
                         "sales", "cargo", "cargoes", "flow", "flows", "shipping",
                         # "suspends its rare earth export deal with Japan": the exports stop.
                         "export deal", "export deals", "export agreement", "export agreements", "export contract",
                         "export contracts", "export pact", "export pacts", "export arrangement", "export arrangements"})


def event_types(fact: FrameFact) -> tuple[str, ...]:
    """The event type one frame reports (empty when it reports none)."""
    up = fact.polarity == "up"
    both = US in fact.countries and CHINA in fact.countries
    truce_words = fact.relief in ("pause", "truce", "ceasefire", "cease fire", "suspension")
    instrument = fact.instrument
    if fact.actor_kind == "court":
        if instrument == "supply" and fact.companies:
            # "Judge halts Perpetua's Stibnite project": a company's setback, not a ruling on
            # the desk's tariffs or controls.
            return ("corporate",)
        # A ruling is legal news whatever it does; which way it moves the tariffs is in its
        # directions.
        return ("legal",)
    if instrument == "export_control":
        if len(fact.companies) == 1 and fact.actor_kind in ("government", "company") and CHINA not in fact.countries \
                and "china_producers" not in fact.labels and not fact.labels & DESK_OBJECTS and not fact.trade_flow:
            # "Malaysia lifts the conditions on Lynas's licence": a regulator's hold on one
            # company's operations, not a control on the trade in minerals.
            return ("corporate",)
        if fact.firms_targeted:
            # "bars dual-use exports to 15 US firms": a list of firms; "suspends its curbs on 17
            # US firms": that listing paused.
            return ("entity_list",)
        if up:
            return ("export_control_new",)
        if fact.actor_kind == "government" and fact.actor_country and fact.actor_country != CHINA \
                and CHINA not in fact.countries and "agreement" in fact.kinds:
            # "Malaysia pledges no rare earth export bans to the US under a minerals pact": an
            # ally's promise inside a pact, not China easing its grip.
            return ("partnership",)
        return ("truce",) if both and (fact.agreed or fact.relief == "truce") else ("export_control_eased",)
    if instrument == "tariff":
        if fact.relief == "truce" and (CHINA in fact.countries or fact.countries == {US}):
            # "Bessent floats a longer tariff truce if China ...": the US-China tariff truce made or
            # extended; one that expires is the truce's news the other way (its directions).
            return ("truce",)
        if up and both and fact.agreed and "agreement" in fact.kinds:
            return ("truce",)  # "US and China reach agreement on tariffs": a deal, not a rise
        if up:
            return ("tariff_up",)
        return ("truce",) if both and (truce_words or fact.agreed) else ("tariff_down",)
    if instrument == "entity_list":
        if fact.labels & DESK_OBJECTS and not fact.firms_targeted and not fact.companies:
            # "adds magnet know-how to its export blacklist", "removes rare earth items from its
            # export control list": goods on the list are controls, not companies.
            return ("export_control_new",) if up else ("export_control_eased",)
        return ("entity_list",)
    if instrument == "funding":
        if fact.ordered and not up and fact.companies:
            # "Canberra orders China-linked investors to cut their stakes in Northern Minerals":
            # who may hold the company, not money a government gives or takes back.
            return ("corporate",)
        if fact.actor_kind != "government" and not fact.public:
            # A company's own money (an offtake, a raise), or an award at a festival; money
            # from an agency ("secures $465 million from the US development bank") is public.
            return ("corporate",) if fact.actor_kind == "company" or fact.companies else ()
        if "agreement" in fact.kinds and _governments(fact) >= 2:
            return ("partnership",)  # a pact between governments that sets up a fund
        if up and fact.actor_kind == "government" and _governments(fact) >= 3:
            # Several governments on money together ("EU, Japan and Mexico agree with US to
            # pursue price floors", "US, EU and Japan to develop price-floor measures"), not
            # one's loan to a company abroad.
            return ("partnership",)
        return ("gov_funding",)
    if instrument == "agreement":
        if both or (not up and fact.countries == {CHINA} and fact.actor_country == CHINA
                    and fact.labels & DESK_OBJECTS and not fact.companies):
            # "China not complying with rare earth commitments": Beijing's only deal on the
            # desk's goods that one reports it breaking is its truce with Washington.
            # A truce undermined or ended is the truce's news too, the other way (its
            # directions); what undid it, told in another clause, comes first when there is one.
            return ("truce",)
        if fact.relief in ("truce", "ceasefire", "cease fire"):
            # A "rare earth truce" or a "tariff truce" is the trade fight paused; a ceasefire
            # in a war or a truce in politics is not.
            if up and (fact.labels & DESK_OBJECTS or fact.kinds & {"tariff", "export_control"}):
                return ("truce",)
            return ()
        if fact.actor_kind == "company" and _governments(fact) < 2:
            # "MP signs agreements with the Department of Defense": a government's deal with a
            # company; a pact between two governments stays theirs, whoever benefits from it.
            return ("gov_funding",) if fact.public else ("corporate",)
        if fact.actor_kind == "government" or _governments(fact) >= 2:
            if fact.companies and _governments(fact) < 2:
                return ("gov_funding",)  # a government's deal with a company
            # A pact shelved, collapsed or walked away from is the partnership's news too, the
            # other way (its directions).
            return ("partnership",)
        return ("corporate",) if fact.companies else ()
    if instrument == "permit":
        if (fact.companies or fact.actor_kind == "company") and CHINA not in fact.countries and not fact.trade_flow \
                and "china_producers" not in fact.labels:
            # "Malaysia renews Lynas's operating licence", "Perpetua wins its mine permit": a
            # company's own licence to operate, not a trade control.
            return ("corporate",)
        if not up and fact.revoked and fact.actor_kind == "government":
            return ("export_control_new",)  # "China revokes general licences": a tightening, not a hold-up
        return ("export_control_eased",) if up else ("supply_disruption",)
    if instrument == "supply":
        if fact.actor_kind == "armed group":
            return ("supply_disruption",)  # rebels taking a mining town, whatever the verb
        if fact.actor_kind == "government" and not up and fact.trade_flow:
            return ("export_control_new",)
        if not fact.actor_kind and not up and fact.trade_flow and fact.relief in ("suspension", "moratorium"):
            return ("export_control_new",)  # "the suspension of cobalt exports": only a state suspends a trade
        if up and CHINA in fact.countries and fact.trade_flow and fact.acted and (
                fact.actor_kind != "company" or fact.action.split(" ", 1)[0] in _RECEIVING):
            # "China's magnet exports to the US jump 660%": what flows again has been let through;
            # "India's EV makers get first Chinese magnet shipments in months": let through to them.
            return ("export_control_eased",)
        if up and fact.actor_kind == "government" and fact.actor_country and fact.actor_country != CHINA \
                and not _BUYING.isdisjoint(fact.action.split()) and (fact.labels & DESK_OBJECTS or fact.companies):
            # "US government to buy all magnets from MP's plant": a state buying the desk's goods
            # is an offtake or a stockpile purchase, its money for the sector.
            return ("gov_funding",)
        if fact.labels & PRODUCER_GROUPS and (fact.actor_kind == "company" or (up and fact.companies and (
                not fact.actor_kind or (fact.actor_kind == "government" and fact.fostered)))):
            # "Malaysia plant makes Lynas the sole heavy rare earths producer outside China",
            # "US-backed Lynas opens Texas plant": the producer named is whose supply grew.
            return ("corporate",)
        if up and fact.fostered and fact.actor_kind == "government" and not fact.companies and fact.actor_country \
                and fact.actor_country != CHINA and CHINA not in fact.countries and not fact.trade_flow \
                and fact.labels & DESK_OBJECTS:
            # "Canada fast-tracks two rare earth mines", "US opens federal lands to critical
            # minerals mining": a state helping its own side's supply along is support.
            return ("gov_funding",)
        return ("supply_disruption",) if not up else ()
    if instrument == "price":
        # "Investors eye rare earth stocks": a price watched or hoped for has not moved.
        return () if fact.hedged and not fact.mood and fact.actor_kind != "company" and not fact.companies else ("price_move",)
    return ()


#: Verbs of a buyer taking delivery: what it gets, China let through.
_RECEIVING: Final = frozenset(form for verb in ("get", "receive", "obtain", "secure") for form in
                              word_forms(verb) | set(IRREGULAR.get(verb, ())) | {"got", "gotten"})


def _governments(fact: FrameFact) -> int:
    """How many governments a frame names (actor and targets)."""
    return len(fact.countries)


def directions(fact: FrameFact, types: tuple[str, ...]) -> dict[str, str]:
    """Directions the frame itself gives, beyond the impact map: the way a price or a company moved.
    Keys are "mentioned" (the companies the clause names) or watchlist group names."""
    if not types:
        return {}
    up = fact.polarity == "up"
    main = types[0]
    if main == "price_move":
        way = "bullish" if up else "bearish"
        if fact.companies and fact.shares:
            return {"mentioned": way}
        # The material's price or the sector's shares: every producer moves with it ...
        moved = {"us_allied_producers": way, "china_producers": way, "minor_metals": way, "etf": way}
        if not fact.shares:
            # ... and what the material costs its buyers moves the other way (carmakers and
            # defence primes pay for the magnets).
            moved["downstream_users"] = "bearish" if up else "bullish"
        return moved
    if main == "corporate":
        if fact.instrument == "export_control":
            up = not up  # restrictions on a company lifted are its good news
        return {"mentioned": "bullish" if up else "bearish"}
    if main == "supply_disruption" and not up and fact.companies:
        # "Fire halts MP Materials' Mountain Pass plant": a shortage lifts other producers, but
        # the companies whose own output or supply stops lose.
        return dict.fromkeys(fact.companies, "bearish")
    if main == "gov_funding" and up and fact.actor_country == CHINA and US not in fact.countries:
        # "China injects $2 billion into China Rare Earth Group": Beijing backing its own.
        return {"us_allied_producers": "neutral", "minor_metals": "neutral", "etf": "neutral",
                "china_producers": "bullish"}
    if main == "gov_funding" and not up:
        # "weighs dropping price floors": support withdrawn.
        return {"us_allied_producers": "bearish", "minor_metals": "bearish", "etf": "bearish"}
    if main == "export_control_eased":
        # "China issues first general licences to JL Mag": the Chinese exporters the article
        # names gain, whether the headline or the text names them.
        return {"mentioned:china_producers": "bullish"}
    if main == "partnership" and fact.main and (fact.actor_country == CHINA or CHINA in fact.actor.split(", ")) \
            and US not in fact.countries:
        # "China and Russia sign a rare earth pact": a partnership, but not the West's: it does
        # nothing for producers outside China.
        return {"us_allied_producers": "neutral", "minor_metals": "neutral", "etf": "neutral"}
    if main == "partnership" and not up and fact.instrument == "agreement" and not fact.hedged:
        # "Australia walks away from US minerals deal": support for producers outside China undone.
        return {"us_allied_producers": "bearish", "minor_metals": "bearish", "etf": "bearish"}
    if main == "truce" and ((not up and fact.instrument == "agreement")
                            or (up and fact.instrument == "tariff" and fact.relief == "truce")):
        # "US-China trade truce collapses": the fight resumes, the reverse of a truce.
        return {"us_allied_producers": "bullish", "minor_metals": "bullish", "etf": "bullish",
                "downstream_users": "bearish"}
    if main == "legal" and fact.actor_kind == "court" and fact.instrument == "permit" and fact.companies \
            and not fact.hedged and fact.acted:
        # "Judge blocks Perpetua's mine permit", "court dismisses challenge to Lynas licence": the
        # company whose licence the ruling voids or keeps loses or gains by it.
        return {"mentioned": "bullish" if up else "bearish"}
    if main == "legal" and fact.actor_kind == "court" and fact.instrument == "tariff" and not fact.hedged \
            and not fact.kept and fact.acted:
        # Only a ruling that voids or restores tariffs moves them today; one that keeps or
        # questions them is news of the case.
        if up:
            return {"us_allied_producers": "bullish", "minor_metals": "bullish", "etf": "bullish",
                    "downstream_users": "bearish"}
        return {"us_allied_producers": "bearish", "minor_metals": "bearish", "etf": "bearish",
                "downstream_users": "bullish"}
    if main == "entity_list":
        # A listing hurts the companies listed; a listing paused is a step back in the fight,
        # like any other easing.
        if up:
            return {"mentioned": "bearish"}
        # ... and the companies taken off it are spared.
        return {"us_allied_producers": "bearish", "minor_metals": "bearish", "etf": "bearish", "downstream_users": "bullish",
                **dict.fromkeys(fact.companies, "bullish")}
    return {}


# ---------------------------------------------------------------------------------------------
# Building the lexicon.

def builtin_lexicon() -> Lexicon:
    lexicon = Lexicon()
    for verb in REVERSING_VERBS:
        lexicon.add(verb, VERB, (verb, -1, VERB_INSTRUMENTS.get(verb)), inflect=True)
    for verb in KEEPING_VERBS:
        lexicon.add(verb, VERB, (verb, 1, VERB_INSTRUMENTS.get(verb)), inflect=True)
    for idiom in BEATEN:
        lexicon.add(idiom, VERB, ("fall", -1, "price"))
    listed = {*REVERSING_VERBS, *KEEPING_VERBS}
    for verb, instrument in VERB_INSTRUMENTS.items():
        if verb not in listed:
            lexicon.add(verb, VERB, (verb, 1, instrument), inflect=True)
    for phrase in QUESTIONS_ANSWERED:
        # "Spokesperson answers reporters' questions on export control measures": a briefing,
        # where what is said is the news (not China answering a US move in kind).
        lexicon.add(phrase, VERB, ("say", 1, None))
    for word in NEGATIONS:
        lexicon.add(word, NEGATION, word)
    for word in SCARCITY:
        lexicon.add(word, SCARCE, word)
    for word in RELIEF_NOUNS:
        lexicon.add(word, RELIEF, word)
        lexicon.add(word + "s", RELIEF, word) if not word.endswith("s") else None
    # "puts the October curbs on hold": a pause by another name.
    lexicon.add("on hold", RELIEF, "pause")
    lexicon.add("on ice", RELIEF, "pause")
    for kind, words in INSTRUMENT_WORDS.items():
        for word in words:
            lexicon.add(word, INSTRUMENT, kind, inflect="noun")
    for word in SUBORDINATORS:
        lexicon.add(word, SUBORDINATE, word)
    for word in CONJUNCTIONS:
        lexicon.add(word, CONJUNCTION, word)
    for word in TARGET_MARKERS:
        lexicon.add(word, TARGET, word)
    for word in DEFICITS:
        lexicon.add(word, DEFICIT, word)
    for word in UNSIGNED_VERBS:
        lexicon.add(word, VERB, (word, 0, None))
    for word in EXCLUDING:
        lexicon.add(word, EXCLUDE, word)
    for word in KNOWN_COMPANIES:
        lexicon.add(word, ACTOR, ("company", "", ""))
    for word in PRICE_UP:
        lexicon.add(word, UP, word, inflect="noun")
    # "prices set to break records": a record, not "to break" China's grip.
    for phrase in ("to break record", "to break a record", "to break the record"):
        lexicon.add(phrase, UP, "record", inflect="noun")
    for word in PRICE_DOWN:
        lexicon.add(word, DOWN, word, inflect="noun")
    for word in INERT_PHRASES:
        lexicon.add(word, INERT, word)
    for verb, sign in LEVEL_VERBS.items():
        if verb not in listed:
            lexicon.add(verb, VERB, (verb, sign, "price"), inflect=True)
    # "keeps April licensing in place": the status quo, not a measure put somewhere.
    lexicon.add("in place", VERB, ("remain", 1, None))
    lexicon.entries.setdefault(" | ", []).append((BREAK, None))
    lexicon.entries.setdefault(" colonbreak ", []).append((BREAK, "colon"))
    lexicon.entries.setdefault(" semicolonbreak ", []).append((BREAK, "semicolon"))
    return lexicon


def watchlist_lexicon(spec) -> Lexicon:
    """The built-in words plus every name in a watchlists file (`service.rules.schema.WatchlistFile`)."""
    lexicon = builtin_lexicon()
    for word in SOME_COMPANY:
        lexicon.add(word, ACTOR, ("company", "", ""))
    for word in SOME_GOVERNMENT:
        lexicon.add(word, ACTOR, ("government", "", ""))
    for word in SOME_COURT:
        lexicon.add(word, ACTOR, ("court", "", ""))
    for word in ARMED_GROUPS:
        lexicon.add(word, ACTOR, ("armed group", "", ""))
    for word in CAUSES:
        lexicon.add(word, BREAK, word)
    for country in spec.countries:
        for text in (country.name, *country.aliases):
            lexicon.add(text, ACTOR, ("government", country.name, country.name), capitals=_in_capitals(text))
    for agency in spec.agencies:
        value = (agency.role, agency.name, agency.country or "")
        for text in (agency.name, *agency.aliases):
            lexicon.add(text, ACTOR, value, capitals=_in_capitals(text))
        for text in agency.ambiguous:
            lexicon.add(text, ACTOR, value, capitals=True)  # "Commerce adds ...", not "e-commerce"
    for group, group_spec in spec.groups.items():
        for ticker in group_spec.tickers:
            lexicon.ticker_groups[ticker.symbol] = group
            value = ("company", ticker.symbol, "")
            for text in (ticker.name, *ticker.aliases):
                lexicon.add(text, ACTOR, value, capitals=_in_capitals(text))
            for text in ticker.ambiguous:
                # "Neo opens Estonian magnet plant": a name the rules take only in context is the
                # company when written with its capital inside a clause about the desk's levers.
                lexicon.add(text, ACTOR, value, capitals=True)
            code = ticker.symbol.split(".", 1)[0]
            if len(code) >= 3 and code.isalpha():
                lexicon.add(code, ACTOR, value, capitals=True)
    for category, elements in spec.elements.items():
        for element in elements:
            labels = frozenset({category, lower(element.name)})
            for text in (element.name, *element.aliases):
                lexicon.add(text, OBJECT, (element.name, labels), capitals=_in_capitals(text), inflect="noun")
    for name, words in spec.objects.items():
        labels = frozenset({name})
        for text in words:
            lexicon.add(text, OBJECT, (lower(text), labels), capitals=_in_capitals(text), inflect="noun")
    for programme in spec.programmes:
        programme_value = (programme.instrument, programme.name, programme.country, programme.scope)
        for text in (programme.name, *programme.aliases):
            lexicon.add(text, PROGRAMME, programme_value, capitals=_in_capitals(text))
    return lexicon


def _in_capitals(text: str) -> bool:
    return any(len(w) <= 5 and w.isupper() and w.isalpha() for w in _words_as_written(text))
