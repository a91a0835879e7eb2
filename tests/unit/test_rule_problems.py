"""Every mistake in a rules folder is reported with file:line:column, the rule id, and a fix."""

from datetime import timedelta
from pathlib import Path

import pytest

from service.errors import ConfigError
from service.rules import load_ruleset
from tests.rulesets import WATCHLISTS, one_rule, write_rules

ROOT = Path(__file__).resolve().parents[2]
GOOD = one_rule("any: [ban]")

# name: (files to write over a good folder, file the problem is in, expected text, rule id)
CASES = {
    "invalid-yaml": ({"alerts/a.yaml": "rules:\n  - id: r\n    match: [unclosed\n"}, "alerts/a.yaml", ":4:1: invalid YAML", None),
    "tab-indented": ({"alerts/a.yaml": "rules:\n\t- id: r\n"}, "alerts/a.yaml", ":2:1: a tab character is used for indentation", None),
    "empty-file": ({"alerts/a.yaml": ""}, "alerts/a.yaml", "the file is empty", None),
    "not-a-mapping": ({"alerts/a.yaml": "- id: r\n"}, "alerts/a.yaml", ":1:1: expected a mapping with a `rules:` list", None),
    "unknown-key": ({"alerts/a.yaml": GOOD + "    severty: high\n"}, "alerts/a.yaml", ":8:5: unknown key 'severty'; did you mean 'severity'?", "r"),
    "unknown-condition-key": ({"alerts/a.yaml": one_rule("{any: [ban], nonee: [x]}")}, "alerts/a.yaml", ":5:20: unknown key 'nonee'; did you mean 'none'?", "r"),
    "missing-match": ({"alerts/a.yaml": "rules:\n  - id: r\n    description: d\n    event_types: [truce]\n    severity: high\n"}, "alerts/a.yaml", ":2:5: missing required key 'match'", "r"),
    "unknown-event-type": ({"alerts/a.yaml": one_rule("any: [ban]", event_types="[export_controls_new]")}, "alerts/a.yaml", ":6:19: rules.0.event_types.0: unknown event type 'export_controls_new'; did you mean 'export_control_new'?", "r"),
    "severity-typo": ({"alerts/a.yaml": one_rule("any: [ban]", severity="hgih")}, "alerts/a.yaml", ":6:5: rules.0.severity: unknown severity 'hgih'; did you mean 'high'?", "r"),
    "min-score-range": ({"alerts/a.yaml": one_rule("any: [ban]", min_score="120")}, "alerts/a.yaml", ":6:5: rules.0.min_score: Input should be less than or equal to 100", "r"),
    "bad-throttle": ({"alerts/a.yaml": one_rule("any: [ban]", throttle="soon")}, "alerts/a.yaml", ":6:5: rules.0.throttle: interval must be like", "r"),
    "unknown-group-in-impact": ({"alerts/a.yaml": one_rule("any: [ban]", impact="{producer: bullish}")}, "alerts/a.yaml", ":6:14: unknown watchlist group or ticker 'producer'; did you mean 'producers'?", "r"),
    "bad-direction": ({"alerts/a.yaml": one_rule("any: [ban]", impact="{producers: up}")}, "alerts/a.yaml", ":6:14: rules.0.impact.producers: Input should be 'bullish', 'bearish' or 'neutral'", "r"),
    "unknown-group-in-mentions": ({"alerts/a.yaml": one_rule("mentions: {group: produce}")}, "alerts/a.yaml", ":5:18: unknown watchlist group 'produce'; did you mean 'producers'?", "r"),
    "unknown-ticker-in-mentions": ({"alerts/a.yaml": one_rule("mentions: {ticker: MPP}")}, "alerts/a.yaml", ":5:18: unknown ticker 'MPP'; did you mean 'MP'?", "r"),
    "unknown-mention-kind": ({"alerts/a.yaml": one_rule("mentions: {nation: China}")}, "alerts/a.yaml", ":5:18: unknown entity kind 'nation'", "r"),
    "unknown-word-list": ({"alerts/a.yaml": one_rule("any: ['@curb']")}, "alerts/a.yaml", ":5:13: unknown word list '@curb'; did you mean 'curbs'?", "r"),
    "regex-does-not-compile": ({"alerts/a.yaml": one_rule("regex: 'ban('")}, "alerts/a.yaml", ":5:7: regex 'ban(' does not compile: missing ): ban(", "r"),
    "regex-backtracks": ({"alerts/a.yaml": one_rule("regex: '(a+)+$'")}, "alerts/a.yaml", ":5:7: regex '(a+)+$' has a nested quantifier", "r"),
    "regex-lookbehind-unsupported": ({"alerts/a.yaml": one_rule("regex: '(?<!x)ban'")}, "alerts/a.yaml", ":5:7: regex '(?<!x)ban' does not compile: invalid perl operator", "r"),
    "near-within-zero": ({"alerts/a.yaml": one_rule("near: {terms: [a, b], within: 0}")}, "alerts/a.yaml", ":5:29: within must be a whole number of words from 1 to 50", "r"),
    "near-one-term": ({"alerts/a.yaml": one_rule("near: {terms: [a], within: 3}")}, "alerts/a.yaml", ":5:14: terms must list exactly two phrases", "r"),
    "empty-phrase-list": ({"alerts/a.yaml": one_rule("any: []")}, "alerts/a.yaml", ":5:7: `any` is empty; list at least one phrase", "r"),
    "empty-phrase": ({"alerts/a.yaml": one_rule("any: ['  ']")}, "alerts/a.yaml", ":5:13: empty phrase", "r"),
    "only-none": ({"alerts/a.yaml": one_rule("none: [ban]")}, "alerts/a.yaml", ":4:5: this rule matches every article", "r"),
    "bad-source-kind": ({"alerts/a.yaml": one_rule("{any: [ban], source: [offical]}")}, "alerts/a.yaml", ":5:29: unknown source kind 'offical'; did you mean 'official'?", "r"),
    "bad-rule-id": ({"alerts/a.yaml": GOOD.replace("id: r", "id: 'Bad Id'")}, "alerts/a.yaml", ":2:5: rules.0.id: String should match pattern", "Bad Id"),
    "duplicate-rule-id-across-files": ({"alerts/b.yaml": GOOD}, "alerts/b.yaml", ":2:5: rule id 'r' is used twice (first at ", "r"),
    "duplicate-yaml-key": ({"alerts/a.yaml": GOOD + "    severity: low\n"}, "alerts/a.yaml", ":8:5: duplicate key 'severity' (first at line 7)", None),
    "ticker-listed-twice": ({"watchlists.yaml": WATCHLISTS.replace("      - symbol: F\n        name: Ford\n", "      - symbol: F\n        name: Ford\n      - symbol: MP\n        name: MP again\n")}, "watchlists.yaml", ":15:9: ticker 'MP' is listed twice (first in group producers", None),
    "watchlist-unknown-key": ({"watchlists.yaml": WATCHLISTS.replace("        name: Lynas\n", "        name: Lynas\n        alias: [x]\n")}, "watchlists.yaml", ":11:9: unknown key 'alias'; did you mean 'aliases'?", None),
    "default-impact-unknown-event": ({"watchlists.yaml": WATCHLISTS.replace("  truce:", "  truse:")}, "watchlists.yaml", "unknown event type 'truse'; did you mean 'truce'?", None),
    "word-list-includes-itself": ({"terms.yaml": "terms:\n  a: ['@b']\n  b: ['@a']\n"}, "terms.yaml", "includes itself through", None),
    "empty-word-list": ({"terms.yaml": "terms:\n  a: []\n"}, "terms.yaml", "word list 'a' is empty", None),
}


def _write(folder: Path, files: dict[str, str]) -> None:
    write_rules(folder, {"a.yaml": GOOD})
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_mistake_is_located(tmp_path, case):
    """The loader names the file, line and column, the rule, and what to change."""
    files, where, expected, rule_id = CASES[case]
    folder = tmp_path / "rules"
    _write(folder, files)
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    problems = caught.value.problems
    # str(problem) is "file:line:col: [rule id] message"; match place and message without the tag.
    matching = [p for p in problems if expected in str(p).replace(f" [rule {p.rule_id}]", "")]
    assert matching, [str(p) for p in problems]
    assert matching[0].file == str(folder / where)
    assert matching[0].rule_id == rule_id


def test_empty_rules_folder(tmp_path):
    """A folder without alert rules is an error naming the alerts folder."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    assert any(f"no alert rules: put at least one .yaml file of rules in {folder / 'alerts'}" in str(p)
               for p in caught.value.problems)


def test_missing_watchlists(tmp_path):
    """Without watchlists.yaml the error says which file could not be read."""
    folder = tmp_path / "rules"
    write_rules(folder, {"a.yaml": GOOD})
    (folder / "watchlists.yaml").unlink()
    with pytest.raises(ConfigError, match="watchlists.yaml: cannot read"):
        load_ruleset(folder)


def test_every_problem_is_reported_at_once(tmp_path):
    """One load lists the problems of every rule in every file."""
    folder = tmp_path / "rules"
    write_rules(folder, {
        "a.yaml": one_rule("any: ['@nope']", severity="hgih"),
        "b.yaml": one_rule("regex: 'x('").replace("id: r", "id: s"),
    })
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    found = {(p.rule_id, p.message.split(":")[0].split(" ")[0]) for p in caught.value.problems}
    assert ("r", "unknown") in found and ("r", "rules.0.severity") in found and ("s", "regex") in found


def test_shipped_rules_load():
    """The rules shipped in rules/ load cleanly and cover every event type."""
    from service.domain.scoring import EVENT_TYPES

    ruleset = load_ruleset(ROOT / "rules")
    covered = {t for rule in ruleset.rules for t in rule.event_types}
    assert covered == set(EVENT_TYPES)


def test_broken_word_lists_are_one_problem_not_a_cascade(tmp_path):
    """A bare `no` in terms.yaml (YAML reads it as false) is reported once; rules using the lists
    do not each add an "unknown word list" error."""
    folder = tmp_path / "rules"
    write_rules(folder, {"a.yaml": one_rule("any: ['@curbs', '@minerals']")}, terms="terms:\n  curbs: [ban, no]\n")
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'terms.yaml'}:2:16: terms.curbs.1: Input should be a valid string"
    ]


def test_impact_references_are_checked_even_when_other_fields_are_wrong(tmp_path):
    """A typo in `severity` does not hide a typo in `impact`; problems come in reading order."""
    folder = tmp_path / "rules"
    write_rules(folder, {"a.yaml": one_rule("any: [ban]", severity="critcal", impact="{producer: bullish}")})
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    messages = [(p.line, p.message.split(";")[0]) for p in caught.value.problems]
    assert messages == [
        (6, "rules.0.severity: unknown severity 'critcal'"),
        (7, "unknown watchlist group or ticker 'producer'"),
    ]


def price_rule(body: str, rule_id: str = "p", kind: str = "price") -> str:
    """An alerts file with one price rule; its body starts on line 6."""
    head = f"rules:\n  - id: {rule_id}\n    kind: {kind}\n    description: test price rule\n    severity: high\n"
    return head + "".join(f"    {line}\n" for line in body.strip().splitlines())


MOVE = "tickers: [MP]\nmove: {at_least: 5%, within: 1h}"

PRICE_CASES = {
    "unknown-ticker": ("tickers: [MPP]\nmove: {at_least: 5%, within: 1h}", ":6:15: unknown watchlist group or ticker 'MPP'; did you mean 'MP'?"),
    "unknown-group": ("tickers: [producer]\nmove: {at_least: 5%, within: 1h}", ":6:15: unknown watchlist group or ticker 'producer'; did you mean 'producers'?"),
    "unknown-key": ("tickers: [MP]\ngapp: {at_least: 5%}", ":7:5: unknown key 'gapp'; did you mean 'gap'?"),
    "no-check": ("tickers: [MP]", ":2:5: a price rule tests exactly one of `move`, `gap` or `volume`; this one has none"),
    "two-checks": (MOVE + "\ngap: {at_least: 5%}", ":2:5: a price rule tests exactly one of `move`, `gap` or `volume`; this one has `move` and `gap`"),
    "bad-percent": ("tickers: [MP]\nmove: {at_least: lots, within: 1h}", ":7:12: rules.0.move.at_least: expected a percentage like 5% or 2.5, not 'lots'"),
    "zero-percent": ("tickers: [MP]\ngap: {at_least: 0%}", ":7:11: rules.0.gap.at_least: a move must be more than 0% and at most 1000%, not '0%'"),
    "bad-direction": ("tickers: [MP]\ngap: {at_least: 4%, direction: dwon}", ":7:25: rules.0.gap.direction: unknown direction 'dwon'; did you mean 'down'?"),
    "small-volume-factor": ("tickers: [MP]\nvolume: {at_least: 0.5x}", ":7:14: rules.0.volume.at_least: a volume multiple must be from 1x to 100x, not '0.5x'"),
    "move-without-window": ("tickers: [MP]\nmove: {at_least: 5%}", ":7:5: missing required key 'within': the window the move must happen in"),
    "bad-window": ("tickers: [MP]\nmove: {at_least: 5%, within: soon}", ":7:26: rules.0.move.within: interval must be like"),
    "after-news-with-gap": ("tickers: [MP]\ngap: {at_least: 5%}\nafter_news: {event_types: [truce], within: 2h}", ":8:5: `after_news` goes with `move` (a move after the news), not `gap`"),
    "after-news-and-move-window": (MOVE + "\nafter_news: {event_types: [truce], within: 2h}", ":7:26: in a rule with `after_news` the move is measured from the news"),
    "after-news-event-typo": ("tickers: [MP]\nmove: {at_least: 3%, direction: down}\nafter_news: {event_types: [truse], within: 2h}", ":8:32: rules.0.after_news.event_types.0: unknown event type 'truse'; did you mean 'truce'?"),
    "match-in-price-rule": (MOVE + "\nmatch: {any: [ban]}", ":8:5: a price rule has no `match`"),
}


@pytest.mark.parametrize("case", sorted(PRICE_CASES))
def test_each_price_rule_mistake_is_located(tmp_path, case):
    """Price rules go through the same loader: file, line, column, rule id and a fix for each mistake."""
    body, expected = PRICE_CASES[case]
    folder = tmp_path / "rules"
    write_rules(folder, {"a.yaml": GOOD, "prices.yaml": price_rule(body)})
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    problems = caught.value.problems
    matching = [p for p in problems if expected in str(p).replace(f" [rule {p.rule_id}]", "")]
    assert matching, [str(p) for p in problems]
    assert matching[0].file == str(folder / "alerts" / "prices.yaml") and matching[0].rule_id == "p"


def test_an_unknown_rule_kind_is_located(tmp_path):
    """A misspelt `kind` gets a did-you-mean like every other key."""
    folder = tmp_path / "rules"
    write_rules(folder, {"a.yaml": GOOD, "prices.yaml": price_rule(MOVE, kind="prce")})
    with pytest.raises(ConfigError) as caught:
        load_ruleset(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'alerts' / 'prices.yaml'}:3:5: [rule p] unknown rule kind 'prce'; did you mean 'price'?"
    ]


def test_rule_ids_are_unique_across_news_and_price_rules(tmp_path):
    """A price rule may not reuse a news rule's id."""
    folder = tmp_path / "rules"
    write_rules(folder, {"a.yaml": GOOD, "prices.yaml": price_rule(MOVE, rule_id="r")})
    with pytest.raises(ConfigError, match=r"prices.yaml:2:5: \[rule r\] rule id 'r' is used twice"):
        load_ruleset(folder)


def test_price_rules_compile_with_their_groups_resolved(tmp_path):
    """A clean price rule loads beside the news rules, its groups turned into tickers, its units read."""
    folder = tmp_path / "rules"
    body = "tickers: [producers, F, MP]\nmove: {at_least: '3 %', direction: down}\nafter_news: {event_types: [truce], within: 90m}"
    write_rules(folder, {"a.yaml": GOOD, "prices.yaml": price_rule(body) + "    channel: '#prices'\n"})
    ruleset = load_ruleset(folder)
    (price,) = ruleset.price_rules
    assert [r.id for r in ruleset.rules] == ["r"]
    assert price.tickers == ("MP", "LYC.AX", "F")
    assert (price.check, price.threshold, price.direction, price.window) == ("move", 3.0, "down", None)
    assert price.after_news.event_types == {"truce"} and price.after_news.within == timedelta(minutes=90)
    assert (price.channel, price.throttle, price.severity) == ("#prices", 4 * 3600, "high")
    assert ruleset.describe().startswith("1 news rules and 1 price rules in 2 files")


def test_the_shipped_price_rules_load():
    """The default price rules load, each watching some watchlist tickers."""
    ruleset = load_ruleset(ROOT / "rules")
    assert {r.check for r in ruleset.price_rules} == {"move", "gap", "volume"}
    assert any(r.after_news is not None for r in ruleset.price_rules)
    assert all(r.tickers and set(r.tickers) <= set(ruleset.watched_tickers) for r in ruleset.price_rules)
