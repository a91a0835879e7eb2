"""A `none` list of several phrase items in one scope vetoes on any of them, not just the last."""

import pytest

from tests.rulesets import assess, load, one_rule

CASES = {
    # name: (match block, title, summary, fires)
    "first-item-vetoes": ("{any: [tariff], none: [copper, [steel]]}", "Tariff on copper", "", False),
    "second-item-vetoes": ("{any: [tariff], none: [copper, [steel]]}", "Tariff on steel", "", False),
    "either-in-the-body": ("{any: [tariff], none: [copper, [steel]]}", "Tariff rises", "Copper mills wait.", False),
    "neither-fires": ("{any: [tariff], none: [copper, [steel]]}", "Tariff rises", "Mills wait.", True),
    "two-groups-first": ("{any: [tariff], none: [[copper, zinc], [steel]]}", "Tariff on zinc", "", False),
    "two-groups-second": ("{any: [tariff], none: [[copper, zinc], [steel]]}", "Tariff on steel", "", False),
    "three-items": ("{any: [tariff], none: [copper, [steel], aluminium]}", "Tariff on copper", "", False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_phrase_item_of_a_none_list_vetoes(tmp_path, case):
    """Phrase items that share a scope are one set test; every item's phrases belong to it."""
    match, title, summary, fires = CASES[case]
    ruleset = load(tmp_path / "rules", {"a.yaml": one_rule(match)})
    verdict = assess(ruleset, title, summary, kind="wire", feed="f")
    assert (verdict.rules == ("r",)) is fires, verdict
