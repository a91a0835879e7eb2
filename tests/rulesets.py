"""Small rule folders written by tests, so each test shows the YAML it relies on."""

from __future__ import annotations

import textwrap
from pathlib import Path

from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import Assessment, Source
from service.rules import Ruleset, load_ruleset

WATCHLISTS = """\
context: [rare earth, mine]
groups:
  producers:
    tickers:
      - symbol: MP
        name: MP Materials
        ambiguous: [Mountain Pass]
        not_in: [UK MP, Labour MP, an MP]
      - symbol: LYC.AX
        name: Lynas
  users:
    tickers:
      - symbol: F
        name: Ford
elements:
  rare_earths: [neodymium, {name: dysprosium, aliases: [Dy2O3]}]
  minor_metals: [gallium]
countries:
  - {name: China, aliases: [Chinese, Beijing]}
  - {name: United States, aliases: [US, U.S.]}
agencies:
  - {name: MOFCOM, aliases: [commerce ministry], country: China}
  - {name: Treasury, aliases: [US Treasury], country: United States}
default_impact:
  export_control_new: {producers: bullish, users: bearish}
  truce: {producers: bearish, users: bullish}
"""

TERMS = """\
terms:
  curbs: [ban, curb, export control]
  minerals: [rare earth, gallium]
"""


def write_rules(
    folder: Path,
    alerts: dict[str, str],
    *,
    watchlists: str = WATCHLISTS,
    terms: str | None = TERMS,
    ignore: str | None = None,
) -> Path:
    """Write a rules folder: watchlists.yaml, terms.yaml, ignore.yaml and alerts/<name>.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "watchlists.yaml").write_text(textwrap.dedent(watchlists), encoding="utf-8")
    if terms is not None:
        (folder / "terms.yaml").write_text(textwrap.dedent(terms), encoding="utf-8")
    if ignore is not None:
        (folder / "ignore.yaml").write_text(textwrap.dedent(ignore), encoding="utf-8")
    (folder / "alerts").mkdir(exist_ok=True)
    for name, text in alerts.items():
        (folder / "alerts" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def one_rule(match: str, **fields: str) -> str:
    """An alerts file with one rule `r` whose `match:` block is `match` (YAML, any indentation)."""
    extra = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    body = textwrap.indent(textwrap.dedent(match).strip(), " " * 6)
    defaults = {"event_types": "[export_control_new]", "severity": "critical"}
    for key, value in defaults.items():
        if key not in fields:
            extra += f"    {key}: {value}\n"
    return f"rules:\n  - id: r\n    description: test rule\n    match:\n{body}\n{extra}"


def load(folder: Path, alerts: dict[str, str], **kwargs) -> Ruleset:
    return load_ruleset(write_rules(folder, alerts, **kwargs))


def assess(ruleset: Ruleset, title: str, summary: str = "", kind: str = "wire", feed: str = "test-feed") -> Assessment:
    return ruleset.assess(title, summary, Source(name=feed, kind=kind, weight=SOURCE_WEIGHTS[kind]))
