"""What each kind of condition matches, tested through the real loader and engine."""

import pytest

from tests.rulesets import assess, load, one_rule

CASES = {
    # name: (match block, title, summary, kind, feed, fires)
    "phrase-plural": ("any: [export ban]", "China imposes export bans", "", "wire", "f", True),
    "phrase-verb-form": ("any: [curb]", "Beijing curbed exports", "", "wire", "f", True),
    "whole-words-only": ("any: [ban]", "Urban planning news", "", "wire", "f", False),
    "case-insensitive": ("any: [rare earth]", "RARE-EARTH PRICES", "", "wire", "f", True),
    "exact-with-equals": ("any: [=rule]", "Court ruling due", "", "wire", "f", False),
    "capitals-match-capitals": ("any: [US]", "The US acts", "", "wire", "f", True),
    "capitals-not-pronoun": ("any: [US]", "Tell us more", "", "wire", "f", False),
    "all-needs-each": ("all: [tariff, China]", "Tariff on steel", "", "wire", "f", False),
    "all-holds": ("all: [tariff, China]", "China tariff rises", "", "wire", "f", True),
    "all-of-any-groups": ("all: [[ban, curb], [gallium, dysprosium]]", "Curbs on gallium", "", "wire", "f", True),
    "all-of-any-groups-missing": ("all: [[ban, curb], [gallium, dysprosium]]", "Curbs on steel", "", "wire", "f", False),
    "none-vetoes": ("{any: [tariff], none: [steel]}", "Tariff on steel", "", "wire", "f", False),
    # A `none` of phrases is tested one scope at a time: a scoped phrase vetoes only in its scope.
    "none-headline-in-body": ("{any: [tariff], none: [copper, {headline: [steel]}]}", "Tariff rises", "Steel mills wait.", "wire", "f", True),
    "none-headline-in-headline": ("{any: [tariff], none: [copper, {headline: [steel]}]}", "Steel tariff rises", "", "wire", "f", False),
    "none-anywhere-beside-headline": ("{any: [tariff], none: [copper, {headline: [steel]}]}", "Tariff rises", "Copper too.", "wire", "f", False),
    "none-lead-later": ("{any: [tariff], none: [{lead: [steel]}]}", "Tariff rises", "Prices rose in Shanghai on Monday morning. Steel fell.", "wire", "f", True),
    "none-lead-first": ("{any: [tariff], none: [{lead: [steel]}]}", "Tariff rises", "Steel prices rose in Shanghai on Monday. Then more.", "wire", "f", False),
    "none-near-beside-phrase": ("{any: [tariff], none: [copper, {near: {terms: [steel, cut], within: 2}}]}", "Tariff rises", "Steel output cut.", "wire", "f", False),
    "word-list": ("any: ['@curbs']", "Export controls widen", "", "wire", "f", True),
    "near-close": ("near: {terms: [China, ban], within: 2}", "China will ban it", "", "wire", "f", True),
    "near-far": ("near: {terms: [China, ban], within: 2}", "China said on Monday it would ban", "", "wire", "f", False),
    "near-either-order": ("near: {terms: [ban, China], within: 1}", "China bans gallium", "", "wire", "f", True),
    "near-not-across-headline": ("near: {terms: [China, ban], within: 3}", "About China", "Ban follows.", "wire", "f", False),
    "headline-only": ("headline: [ban]", "Markets today", "A ban was announced.", "wire", "f", False),
    "headline-hit": ("headline: [ban]", "A ban today", "", "wire", "f", True),
    "lead-first-sentence": ("lead: [ban]", "Markets", "A ban was announced in Beijing today. Then more.", "wire", "f", True),
    "lead-not-later": ("lead: [ban]", "Markets", "Prices rose in Shanghai on Monday morning. Then a ban.", "wire", "f", False),
    "regex": ("regex: 'export\\s+ban'", "EXPORT   BAN on gallium", "", "wire", "f", True),
    "regex-miss": ("regex: 'export\\s+ban'", "export of a ban", "", "wire", "f", False),
    "regex-headline": ("headline: {regex: '^why'}", "Markets", "why not", "wire", "f", False),
    "mentions-country-alias": ("mentions: {country: China}", "Beijing acts", "", "wire", "f", True),
    "mentions-agency": ("mentions: {agency: MOFCOM}", "Commerce ministry speaks", "", "wire", "f", True),
    "mentions-element-category": ("mentions: {element: rare_earths}", "Dy2O3 output", "", "wire", "f", True),
    "mentions-any-element": ("mentions: element", "Gallium output", "", "wire", "f", True),
    "mentions-company": ("mentions: {ticker: MP}", "MP Materials expands", "", "wire", "f", True),
    "mentions-group": ("mentions: {group: producers}", "Lynas expands", "", "wire", "f", True),
    "mp-code-needs-context": ("mentions: {ticker: MP}", "UK MP calls for probe", "", "wire", "f", False),
    "mp-code-with-context": ("mentions: {ticker: MP}", "MP shares rise", "Rare earth stocks rallied.", "wire", "f", True),
    "mp-plural-is-parliament": ("mentions: {ticker: MP}", "MPs vote on rare earth bill", "", "wire", "f", False),
    "mp-ticker-form": ("mentions: {ticker: MP}", "Shares in focus: (MP)", "", "wire", "f", True),
    # Inside a `not_in` phrase the code is a member of parliament, even in a sector article.
    "mp-inside-not-in": ("mentions: {ticker: MP}", "UK MP calls for rare earth probe", "", "wire", "f", False),
    "mp-inside-not-in-lead": ("mentions: {ticker: MP}", "Rare earth probe urged", "An MP said so.", "wire", "f", False),
    "mp-not-in-and-named": ("mentions: {ticker: MP}", "UK MP praises MP Materials", "", "wire", "f", True),
    "mp-not-in-and-ticker-form": ("mentions: {ticker: MP}", "Labour MP on rare earth deal with (MP)", "", "wire", "f", True),
    "mp-not-in-elsewhere": ("mentions: {ticker: MP}", "MP shares rise", "Rare earth stocks rallied, an MP said.", "wire", "f", True),
    "ford-letter-only-as-ticker": ("mentions: {ticker: F}", "Grade F for policy", "Rare earth mine.", "wire", "f", False),
    "ford-ticker-form": ("mentions: {ticker: F}", "Carmaker (F) halts line", "", "wire", "f", True),
    "mountain-pass-highway": ("mentions: {ticker: MP}", "Snow shuts Mountain Pass", "I-15 closed.", "wire", "f", False),
    "mountain-pass-mine": ("mentions: {ticker: MP}", "Mountain Pass mine expands", "", "wire", "f", True),
    "source-filter": ("{any: [ban], source: [official]}", "A ban", "", "wire", "f", False),
    "source-filter-hit": ("{any: [ban], source: [official]}", "A ban", "", "official", "f", True),
    "feed-glob": ("{any: [ban], feed: ['sec-*']}", "A ban", "", "wire", "sec-edgar-mp", True),
    "feed-glob-miss": ("{any: [ban], feed: ['sec-*']}", "A ban", "", "wire", "ustr", False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_condition(tmp_path, case):
    """Each condition kind matches what its documentation says, and nothing else."""
    match, title, summary, kind, feed, fires = CASES[case]
    ruleset = load(tmp_path / "rules", {"a.yaml": one_rule(match)})
    verdict = assess(ruleset, title, summary, kind=kind, feed=feed)
    assert (verdict.rules == ("r",)) is fires, verdict
