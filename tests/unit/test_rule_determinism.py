"""A verdict is the same on every run: no output may follow the order a set of strings iterates
in, which Python changes from process to process (PYTHONHASHSEED)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.rulesets import assess, load, one_rule

ROOT = Path(__file__).resolve().parents[2]

# Two forms of one phrase of the same length ("eases", "eased") in one article; two tickers
# named with the same relevance; a `near` with two qualifying pairs. Each one once showed a
# different `matched` form or `relevance` order from one run to the next.
ARTICLES = [
    (
        "NdPr oxide slides in Shanghai as truce eases buying frenzy",
        "Brent crude fell more than 6% as fears of supply disruption eased. Markets barely moved.",
    ),
    ("Neodymium prices ease as China truce holds", "Traders said NdPr oxide eased again and eases further."),
    ("Ford and Lynas sign a supply deal", "The deal covers magnets."),
    ("Miners expand", "Lynas and MP Materials said so on Monday morning. Ford too."),
    ("China truce holds", "Beijing agreed to a truce; China said the truce holds as Beijing eases curbs."),
]

SCRIPT = """
import json, sys
from pathlib import Path
from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Source
from service.rules import load_ruleset
ruleset = load_ruleset(Path(sys.argv[1]))
source = Source("wire-feed", "wire", SOURCE_WEIGHTS["wire"])
out = []
for title, summary in json.loads(sys.argv[2]):
    v = ruleset.assess(title, summary, source)
    out.append([list(v.rules), list(v.matched), list(v.relevance.items()), list(v.impacts.items()), v.score])
print(json.dumps(out))
"""


def _verdicts_under(seed: int, rules_dir: Path) -> str:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(rules_dir), json.dumps(ARTICLES)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    return done.stdout


def test_verdicts_do_not_depend_on_the_hash_seed():
    """The shipped rules give byte-identical verdicts under different hash seeds."""
    runs = {seed: _verdicts_under(seed, ROOT / "rules") for seed in (0, 1, 2, 3, 4, 5)}
    assert json.loads(runs[0])[0][0] == ["mineral-price-down"]  # the rule whose form once varied
    assert len(set(runs.values())) == 1, runs


def test_matched_shows_the_form_the_article_used_first(tmp_path):
    """Of a phrase's forms, `matched` shows the first the article used, the headline first."""
    ruleset = load(tmp_path / "rules", {"a.yaml": one_rule("any: [ease]", event_types="[truce]")})
    # The phrases come first; a frame, when one decides, is explained after them.
    assert assess(ruleset, "Curbs eased", "Tension eases.").matched[0] == "eased"
    assert assess(ruleset, "Curbs", "Tension eases, then eased.").matched[0] == "eases"
    assert assess(ruleset, "Curbs", "Tension eased, then eases.").matched[0] == "eased"
    # Forms that share their first words; one a form of the other plus a letter.
    ruleset = load(tmp_path / "more", {"a.yaml": one_rule("any: [export ban]", event_types="[export_control_new]")})
    assert assess(ruleset, "Curbs", "Export bans first, then an export banning order and an export ban.").matched[0] == "export bans"
    assert assess(ruleset, "Curbs", "An export ban, then export bans.").matched[0] == "export ban"


def test_relevance_lists_the_most_relevant_first_then_in_watchlist_order(tmp_path):
    """Equal relevance falls back to the watchlists' order (MP, LYC.AX, F), not to chance."""
    ruleset = load(tmp_path / "rules", {"a.yaml": one_rule("any: [deal]")})
    verdict = assess(ruleset, "Ford and Lynas sign a deal", "MP Materials too. MP Materials again.")
    assert list(verdict.relevance) == ["LYC.AX", "F", "MP"]
    verdict = assess(ruleset, "A deal", "Ford, Lynas and MP Materials sign it.")
    assert list(verdict.relevance) == ["MP", "LYC.AX", "F"]
