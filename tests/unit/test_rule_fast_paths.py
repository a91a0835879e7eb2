"""The engine's shortcuts give what the plain computation would: each test states the property
a shortcut relies on and checks it on the corpus and on articles the benchmark generates."""

import random
from pathlib import Path

import pytest

from benchmarks import rules as bench
from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Assessment, Source
from service.rules import load_ruleset
from service.rules.conditions import ANYWHERE, HEADLINE, HEADLINE_GAP, LEAD
from service.rules.phrases import normalise, split_lead
from service.rules.score import unmatched_score
from tests.corpus.files import training_items
from tests.rulesets import assess, load

ROOT = Path(__file__).resolve().parents[2]

#: Texts where sentence ends, whitespace and case meet in awkward ways.
AWKWARD = [
    "",
    "   ",
    "One two three four five six. Seven",
    "The US said on Monday it would act. \x1cMP Materials rose.",
    "Exports fell sharply in the third quarter.\u2003\u2003Beijing said nothing more on Friday.",
    "ΟΔΟΣ ΟΔΟΣ ΟΔΟΣ ΟΔΟΣ ΟΔΟΣ ΟΔΟΣ.\nΣΟΦΙΑ said the US would act.",
    "It rose (as expected) by ten per cent.\t\"Prices of NdPr oxide\" fell, the EU said.",
    "No. 61 of 2025 was published by MOFCOM on Oct. 9 and took effect. Then the US responded.",
    "Lynas and MP Materials (NYSE: MP) said so in a joint statement today!  (MP) rose 5% - é.",
    "- - - - - - . China bans gallium exports to the US. MP Materials rose.",  # a lead without words
]


@pytest.fixture(scope="module")
def shipped():
    return load_ruleset(ROOT / "rules")


@pytest.fixture(scope="module")
def articles():
    """The corpus, then articles made the way the benchmark makes them."""
    items = training_items()
    corpus = [(i.title, i.summary, Source(i.feed, i.source, SOURCE_WEIGHTS[i.source])) for i in items]
    awkward = [(text.split(".")[0], text, Source("f", "wire", 0.9)) for text in AWKWARD]
    return corpus + awkward + bench.make_articles(600, random.Random(3))


def test_text_normalised_in_one_piece_is_its_sentences_normalised(articles):
    """The engine normalises an article's text once: that is the first sentence's words followed
    by the rest's (the old joined form had one more leading space when the lead had no words)."""
    for _title, summary, _source in articles:
        lead, rest = split_lead(summary)
        lead_text = normalise(lead)
        joined = lead_text + normalise(rest)[1:] if rest else lead_text
        if rest and lead_text == "  ":
            joined = joined[1:]
        assert normalise(summary) == joined, summary


def test_capitals_checked_on_the_text_as_written_find_the_same_phrases(shipped, articles):
    """The summary as written and its sentences joined by one space give the same phrases."""
    for _title, summary, _source in articles:
        lead, rest = split_lead(summary)
        body = normalise(summary)
        assert shipped._scan(body, summary) == shipped._scan(body, f"{lead} {rest}"), summary


def test_first_sentence_worked_out_when_asked_is_the_same(shipped, articles):
    """Lead phrases, segments and word spans (relative to where each part starts) match the old
    eager split, whose text was the first sentence normalised followed by the rest."""
    for title, summary, source in articles:
        ev, _, _ = shipped.evidence(title, summary, source)
        lead, rest = split_lead(summary)
        lead_text = normalise(lead)
        old_body = lead_text + normalise(rest)[1:] if rest else lead_text
        old_lead_end = len(lead_text) - 1
        head = ev.texts[0]
        body_offset = max(head.count(" ") - 1, 0) + HEADLINE_GAP
        old_rest_offset = body_offset + max(lead_text.count(" ") - 1, 0)
        assert ev.raw == (title, lead, rest)
        assert ev.offsets[:2] == (0, body_offset)
        assert ev.found(LEAD) == ev.hits[HEADLINE] | shipped._scan(lead_text, lead)
        for phrase_id in ev.hits[ANYWHERE]:
            old_segments, old_firsts = [], []
            for key in shipped.matcher.phrase_keys[phrase_id]:
                for start in _starts(head, key):
                    old_segments.append(0)
                    old_firsts.append(head.count(" ", 0, start))
                for start in _starts(old_body, key):
                    old_segments.append(1 if start + len(key) - 1 <= old_lead_end else 2)
                    old_firsts.append(body_offset + old_body.count(" ", 0, start) - old_rest_offset)
            assert [spot[0] for spot in ev.positions(phrase_id)] == old_segments, summary
            spans = ev.word_spans(phrase_id, shipped.matcher.phrases[phrase_id].words)
            firsts = [first if first < body_offset else first - ev.offsets[2] for first, _ in spans]
            assert firsts == old_firsts, summary


def _starts(text, key):
    start = text.find(key)
    while start >= 0:
        yield start
        start = text.find(key, start + 1)


def test_shared_verdict_for_articles_nothing_fired_on_is_the_one_computed(shipped):
    """An article with no rule fired and no company named gets the verdict the plain path builds."""
    nothing = "A quiet day for the weather in the valley, with light rain expected."
    for kind, weight in SOURCE_WEIGHTS.items():
        verdict = shipped.assess("Weather", nothing, Source("f", kind, weight))
        assert verdict == Assessment(
            event_types=(), score=unmatched_score(0, weight), severity=None, alert=False, rules=(), matched=(),
            impacts={}, relevance={},
        )


def test_one_rule_impacts_are_the_merged_impacts(shipped):
    """The impacts kept per rule for when it fires alone equal the general merge, order included."""
    for index, rule in enumerate(shipped.rules):
        merged = shipped._impacts([rule], {})
        assert list(shipped._own_impact[index].items()) == list(merged.items()), rule.id


@pytest.mark.parametrize("which", ["shipped", "generated"])
def test_verdicts_from_kept_plans_equal_verdicts_worked_out_afresh(shipped, which):
    """What a verdict takes from the rules that fired is kept per combination of rules, headline
    tests, best relevance and source weight: every verdict built from a kept plan equals the one
    the same ruleset works out with nothing kept."""
    rng = random.Random(bench.SEED)
    articles = bench.make_articles(300, rng)
    ruleset = shipped if which == "shipped" else bench.ruleset_with(bench.generated_rules(200, rng)[1])
    sources = [Source(f"{kind}-feed", kind, weight) for kind, weight in SOURCE_WEIGHTS.items()]
    # Each headline with each text and from each kind of source, so the same rules fire with
    # other headlines, relevance and weights.
    cases = [(title, articles[(i * 7) % len(articles)][1], source) for i, (title, _, _) in enumerate(articles) for source in sources]
    ruleset._plans.clear()
    kept = [ruleset.assess(*case) for case in cases]
    reused = sum(bool(verdict.rules) for verdict in kept) - len(ruleset._plans)
    assert reused > 100  # plans were reused, not only made
    for case, verdict in zip(cases, kept):
        ruleset._plans.clear()
        assert ruleset.assess(*case) == verdict, case
        if verdict.impacts:
            # Two verdicts from one kept plan: each has impacts of its own to hand on.
            assert ruleset.assess(*case).impacts is not ruleset.assess(*case).impacts


def test_a_kept_plan_is_not_reused_for_rules_the_headline_ranks_otherwise(tmp_path):
    """Rules of the same severity rank by whose phrases the headline has: the same two rules
    firing with the other one's phrase in the headline get their own plan."""
    alerts = """\
        rules:
          - {id: gallium, description: g, match: {any: [gallium]}, event_types: [export_control_new], severity: high}
          - {id: germanium, description: g, match: {any: [germanium]}, event_types: [export_control_new], severity: high}
        """
    ruleset = load(tmp_path / "rules", {"a.yaml": alerts})
    assert assess(ruleset, "Gallium curbs", "Germanium too.").rules == ("gallium", "germanium")
    assert assess(ruleset, "Germanium curbs", "Gallium too.").rules == ("germanium", "gallium")


def test_prefilter_with_generated_rules_never_skips_a_rule_that_holds():
    """With the benchmark's 200 generated rules, the candidates hold every rule that holds, and
    a candidate's shortened test (what its pick did not already prove) agrees with the rule's."""
    rng = random.Random(bench.SEED)
    articles = bench.make_articles(400, rng)
    _, rules_yaml = bench.generated_rules(200, rng)
    ruleset = bench.ruleset_with(rules_yaml)
    fired = 0
    for title, summary, source in articles:
        ev, _, _ = ruleset.evidence(title, summary, source)
        every = [i for i, rule in enumerate(ruleset.rules) if rule.condition.test(ev)]
        assert [i for i in ruleset._candidates(ev) if ruleset.rules[i].condition.test(ev)] == every
        assert [i for i in ruleset._candidates(ev) if ruleset._tests[i](ev)] == every
        fired += bool(every)
    assert fired > 100


def test_entities_named_anywhere_are_those_given_a_scope(shipped, articles):
    """`mentions` over the whole article asks only whether an entity is named: the same entities
    (and kinds) as the full per-scope resolution, worked out without the first sentence."""
    for title, summary, source in articles:
        quick, _, _ = shipped.evidence(title, summary, source)
        named, kinds = quick.anywhere
        full, _, _ = shipped.evidence(title, summary, source)
        assert (named, kinds) == (set(full.mentioned), set(full.kinds)), summary


def test_normalise_shortcuts_are_the_general_rule(articles):
    """normalise's ASCII shortcut (one byte table, runs of spaces collapsed) and its regex for
    separators give what lower, translate (the separator table), split and join give."""
    from service.rules.phrases import _SEPARATORS, _TO_SPACE

    rng = random.Random(5)
    texts = [text for article in articles for text in article[:2]]
    texts += ["".join(chr(c) for c in range(128)), "\x1c\x1d\x1e\x1f", "a\x0bb\x0cc\rd", "  ", "--", "A  B"]
    texts += [_SEPARATORS + "x" + _SEPARATORS, "ÉTAT–Ωmega\u00a0\u2003ΣΑΣ’s «quoted» İstanbul", "\u0e42\u0e22a\u0e42"]
    alphabet = _SEPARATORS + "aZé Σ\t\n\u2003\u00a0İ9_"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    for text in texts:
        assert normalise(text) == " " + " ".join(text.lower().translate(_TO_SPACE).split()) + " ", repr(text)


def _split_lead_reference(summary):
    """split_lead as first written: the word before the stop found one character at a time."""
    from service.rules.phrases import _ABBREVIATIONS, _SENTENCE_END, MIN_LEAD_WORDS

    for match in _SENTENCE_END.finditer(summary):
        start = match.start()
        word_start = start
        while word_start > 0 and summary[word_start - 1].isalnum():
            word_start -= 1
        word = summary[word_start:start]
        if (len(word) == 1 and word.isalpha()) or word.lower() in _ABBREVIATIONS:
            continue
        if len(summary[:start].split()) < MIN_LEAD_WORDS:
            continue
        return summary[: match.end()].rstrip(), summary[match.end() :]
    return summary, ""


def test_split_lead_is_the_plain_loop(articles):
    """split_lead looks at most 7 characters back for an abbreviation and counts words only up to
    the minimum: the same split as the plain loop, on articles and on awkward made-up texts."""
    pieces = [
        "U.S.", "No.", "Inc.", "Corp.", "approx.", "Approx.", "APPROXIMATELY.", "é.", "İnc.", "A.", "x_y.", "12.",
        "Nov.", "sept.", "word", "words!", "Why?", "\"Quote.\"", "(paren.)", "Dr.", "\u2019Tis.", "ab1.", "-",
        "Tariffs", "Beijing", "MP", "2025", "\u201cSaid\u201d", "\n", "  ",
    ]
    rng = random.Random(11)
    texts = [summary for _title, summary, _source in articles]
    texts += [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) for _ in range(3000)]
    for text in texts:
        assert split_lead(text) == _split_lead_reference(text), repr(text)
