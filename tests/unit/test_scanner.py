"""The phrase scan in C (service/rules/_scanner.c) against pyahocorasick, which the engine uses
without a build: the same set for every text, hostile ones included, and clear errors for what
it cannot take. Runs where the compiled engine is in use (as `make test` builds it)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from service.rules import frames, load_ruleset, phrases
from service.rules.phrases import _automaton_find, normalise
from tests.corpus.files import training_items

Scanner = phrases._CScanner
squeeze = phrases.squeeze
pytestmark = pytest.mark.skipif(Scanner is None, reason="the rules engine runs as Python: no C scanner")

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def shipped():
    matcher = load_ruleset(RULES).matcher
    return Scanner(matcher.keys, matcher.values), _automaton_find(matcher.keys, matcher.values), matcher


def test_the_shipped_rules_find_the_same_phrases_in_every_training_item(shipped):
    scanner, reference, _ = shipped
    items = training_items()
    assert len(items) > 3000
    differ = []
    for item in items:
        for text in (normalise(item.title), normalise(item.summary)):
            if scanner.find(text) != reference(text):
                differ.append(item.id)
    assert differ == []
    # The comparison means something: the items hold many phrases.
    assert sum(len(scanner.find(normalise(item.summary))) for item in items[:200]) > 2000


def _random_text(rng: random.Random, keys: list[str]) -> str:
    """Pieces of keys, words and stray characters, glued with and without spaces: texts that
    are not normalised (double spaces, no padding, words run together, other scripts)."""
    alphabet = list(" abcdeilnorstu0123-'") + ["é", "ß", "中", "\U0001f600", "İ", "\u00a0", "\t"]
    pieces = []
    for _ in range(rng.randint(0, 14)):
        roll = rng.random()
        if roll < 0.45:
            pieces.append(rng.choice(keys))
        elif roll < 0.6:
            pieces.append(rng.choice(keys).strip())
        else:
            pieces.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))))
    return "".join(pieces)


def test_random_and_unnormalised_texts_find_the_same_phrases(shipped):
    scanner, reference, matcher = shipped
    rng = random.Random(20261205)
    found = 0
    for _ in range(20_000):
        text = _random_text(rng, matcher.keys)
        expected = reference(text)
        assert scanner.find(text) == expected, repr(text)
        found += len(expected)
    assert found > 20_000


KEYS = [" a ", " a b ", " b ", " é ", " a b c d ", " b c ", " \U0001f600 x ", " longerthaneight ", " a a "]
VALUES = [(1,), (2, -1), (3,), (4,), (5,), (6,), (7,), (8,), (9,)]


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "  ", "a", " a", "a ", " a ", " a b ", "a b ", " a b", " ab ", " a  b ", " a b c d ",
        " a b c c d ", " a b c d b c ", " a a a ", " é a b é ", " É ", " \U0001f600 x ", "\U0001f600 x ",
        " longerthaneight ", " longerthaneigh ", " longerthaneightt ", " a\tb ", " a\u00a0b ", " a b\x00 ",
    ],
)
def test_small_automaton_cases(text):
    """Word edges: a key counts only between spaces, the text's first and last pieces have a
    side without one; overlapping keys and keys inside keys all count; other scripts."""
    assert Scanner(KEYS, VALUES).find(text) == _automaton_find(KEYS, VALUES)(text)


def test_a_key_given_twice_keeps_its_later_values_as_pyahocorasick_does():
    keys, values = [" a ", " a "], [(1,), (2,)]
    assert Scanner(keys, values).find(" a ") == _automaton_find(keys, values)(" a ") == {2}


def test_no_keys_finds_nothing():
    assert Scanner([], []).find(" anything at all ") == set()
    assert len(Scanner([], [])) == 0


def test_a_long_hostile_text_is_read_in_one_pass_and_found_the_same(shipped):
    """Two megabytes of words, one word of 200,000 letters, and a text of spaces alone: the
    search neither fails nor differs."""
    scanner, reference, matcher = shipped
    rng = random.Random(7)
    words = " ".join(rng.choice(matcher.keys).strip() for _ in range(150_000))
    for text in (f" {words} ", " " + "x" * 200_000 + " export controls ", " " * 100_000):
        assert scanner.find(text) == reference(text)


@pytest.mark.parametrize(
    ("keys", "values", "error", "message"),
    [
        ([" a  b "], [(1,)], ValueError, "is not words between single spaces"),
        (["a "], [(1,)], ValueError, "is not words between single spaces"),
        ([" a"], [(1,)], ValueError, "is not words between single spaces"),
        (["  "], [(1,)], ValueError, "is not words between single spaces"),
        ([""], [(1,)], ValueError, "is not words between single spaces"),
        ([" a "], [], ValueError, "keys and values differ in length"),
        ([b" a "], [(1,)], TypeError, "key 0 is not a str"),
        ([" a "], [[1]], TypeError, "the values of key 0 are not a tuple of ints"),
        ([" a "], [(1.5,)], TypeError, "integer"),
        ([" a ", " b "], [(0,), (1 << 30,)], ValueError, "values must lie within a range"),
    ],
)
def test_keys_and_values_it_cannot_take_are_refused(keys, values, error, message):
    with pytest.raises(error, match=message):
        Scanner(keys, values)


def test_a_failed_rebuild_leaves_a_scanner_that_finds_nothing():
    scanner = Scanner([" a "], [(1,)])
    assert scanner.find(" a ") == {1}
    with pytest.raises(ValueError):
        scanner.__init__([" a  b "], [(1,)])
    assert scanner.find(" a ") == set()


def test_find_takes_only_a_str():
    with pytest.raises(TypeError, match="find\\(\\) takes a str, not bytes"):
        Scanner([" a "], [(1,)]).find(b" a ")


def _squeezed_in_python(text: str, table: bytes) -> str:
    spaced = " " + text.encode().translate(table).decode() + " "
    while "  " in spaced:
        spaced = spaced.replace("  ", " ")
    return spaced if len(spaced) > 1 else "  "


@pytest.mark.parametrize("table", [phrases._ASCII_TABLE, frames._ASCII_SEPARATORS])
def test_squeeze_spaces_ascii_text_as_the_python_it_replaces(table):
    rng = random.Random(3)
    alphabet = [chr(code) for code in range(128)]
    for _ in range(50_000):
        text = "".join(
            rng.choice(alphabet) if rng.random() < 0.3 else rng.choice(" aB,.-'_|\t\n") for _ in range(rng.randint(0, 30))
        )
        assert squeeze(text, table) == _squeezed_in_python(text, table), repr(text)


def test_squeeze_leaves_text_that_is_not_ascii_to_python():
    assert squeeze("Café", phrases._ASCII_TABLE) is None
    assert normalise("Café  au-lait") == " café au lait "


@pytest.mark.parametrize(
    ("args", "error"),
    [(("a",), TypeError), ((b"a", bytes(128)), TypeError), (("a", bytes(10)), ValueError), (("a", bytes([200]) * 128), ValueError)],
)
def test_squeeze_refuses_what_it_cannot_use(args, error):
    with pytest.raises(error):
        squeeze(*args)


def test_the_frame_readers_phrases_are_matched_as_pyahocorasick_matches_them():
    """Every occurrence, in the same order (by end, the longest first) with the same payloads,
    in every training headline and first sentence as the reader prepares them."""
    from service.rules.phrases import _automaton_matches, split_lead

    reader = load_ruleset(RULES).frames
    keys, payloads = frames.lexicon_keys(reader.lexicon)
    scanner = Scanner(keys, [()] * len(keys), payloads)
    reference = _automaton_matches(keys, payloads)
    items = training_items()
    hits = 0
    for item in items:
        for sentence in (item.title, split_lead(item.summary)[0]):
            text = frames._prepare(sentence)
            expected = reference(text)
            assert scanner.matches(text) == expected, item.id
            hits += len(expected)
    assert hits > 10 * len(items)
    rng = random.Random(11)
    for _ in range(5_000):
        text = _random_text(rng, keys)
        assert scanner.matches(text) == reference(text), repr(text)


def test_matches_without_payloads_are_key_indexes():
    scanner = Scanner(KEYS, VALUES)
    assert scanner.matches(" x a b c d ") == [(4, 0), (6, 1), (6, 2), (8, 5), (10, 4)]


def test_payloads_must_match_the_keys_and_are_kept_for_the_garbage_collector():
    import gc

    with pytest.raises(ValueError, match="differ in length"):
        Scanner([" a "], [()], [1, 2])
    payload = ["anything"]
    scanner = Scanner([" a "], [()], [payload])
    assert gc.is_tracked(scanner)
    (kept,) = gc.get_referents(scanner)
    assert kept == (payload,) and kept[0] is payload
    assert scanner.matches(" a a ") == [(2, payload), (4, payload)]


Picker = phrases._C.Picker if phrases._C is not None else None


def _picked_by_definition(rules, found: set[int]) -> list[int]:
    return [index for index, rule in enumerate(rules) if all(not clause.isdisjoint(found) for clause in rule.clauses)]


def test_the_rules_picked_are_those_all_of_whose_clauses_have_a_phrase_found():
    """On every training item (the phrases the shipped rules find in it) and on random sets."""
    ruleset = load_ruleset(RULES)
    picker = Picker([tuple(tuple(c) for c in rule.clauses) for rule in ruleset.rules], len(ruleset.matcher.phrases))
    picked = 0
    for item in training_items():
        evidence, _, _ = ruleset.evidence(item.title, item.summary, ruleset_source())
        expected = _picked_by_definition(ruleset.rules, evidence.all_hits)
        assert picker.pick(evidence.all_hits) == expected, item.id
        picked += len(expected)
    assert picked > 1000
    rng = random.Random(5)
    ids = range(len(ruleset.matcher.phrases))
    for _ in range(2_000):
        found = set(rng.sample(ids, rng.randint(0, 400)))
        assert picker.pick(found) == _picked_by_definition(ruleset.rules, found)


def ruleset_source():
    from service.domain.feeds import SOURCE_WEIGHTS
    from service.domain.scoring import Source

    return Source("wire-feed", "wire", SOURCE_WEIGHTS["wire"])


def test_a_rule_without_clauses_is_always_picked_and_one_with_an_empty_clause_never():
    picker = Picker([(), ((),), ((1,), (2, 3)), ((3,),)], 4)
    assert picker.pick(set()) == [0]
    # What is not a phrase id of the rules (the engine's negative check ids, other objects) counts for nothing.
    assert picker.pick({1, 3, -5, 10**30}) == [0, 2, 3]
    assert picker.pick(frozenset({1, 2})) == [0, 2]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([1], 3), TypeError, "the clauses of rule 0 are not a tuple"),
        (([([1],)], 3), TypeError, "clause 0 of rule 0 is not a tuple"),
        (([((5,),)], 3), ValueError, "phrase id 5 of rule 0 is not below nphrases"),
        (([((-1,),)], 3), ValueError, "phrase id -1"),
        (([], -1), ValueError, "nphrases"),
    ],
)
def test_rules_a_picker_cannot_take_are_refused(args, error, message):
    with pytest.raises(error, match=message):
        Picker(*args)


def test_pick_takes_only_a_set():
    with pytest.raises(TypeError, match="takes a set of phrase ids"):
        Picker([], 3).pick([1])
