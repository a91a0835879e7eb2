"""Loading rules/feeds.yaml: good files load, every mistake is located and explained."""

from pathlib import Path

import pytest

from service.domain.feeds import parse_interval
from service.errors import ConfigError
from service.sources.feed_config import load_feeds

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("60s", 60), ("5m", 300), ("1h", 3600), ("1d", 86400), ("90", 90), (45, 45), ("1.5m", 90), (" 2m ", 120)],
)
def test_parse_interval(value, seconds):
    """Intervals are written the way operators say them."""
    assert parse_interval(value) == seconds


@pytest.mark.parametrize("value", ["5x", "m5", "", "-5s", "1s", "9s", "8d", True, "5 minutes"])
def test_parse_interval_rejects(value):
    """Nonsense and abusive intervals are refused with a message naming the value."""
    with pytest.raises(ValueError, match="interval"):
        parse_interval(value)


def test_shipped_feeds_file_loads():
    """The default rules/feeds.yaml is valid and lists the real sources from DOMAIN.md."""
    specs = load_feeds(ROOT / "rules" / "feeds.yaml")
    names = {s.name for s in specs}
    assert {"federal-register-bis", "ustr", "mining-com"} <= names
    assert all(s.interval >= 60 for s in specs)


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_feeds(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- name: a\n  url: https://x.test/f\n  intervall: 5m\n", ":3:3: unknown key 'intervall'; did you mean 'interval'?"),
        ("- name: a\n  url: https://x.test/f\n  interval: 5 minutes\n", ":3:3: 0.interval: interval must be like"),
        ("- name: a\n  url: not a url\n", ":2:3: 0.url:"),
        ("- url: https://x.test/f\n", ":1:3: missing required key 'name'"),
        ("- name: a\n\turl: https://x.test/f\n", ":2:1: a tab character is used for indentation"),
        ("name: a\nurl: https://x.test/f\n", "expected a list of feeds"),
        ("", "the file is empty"),
        ("- name: a\n  url: [unclosed\n", "invalid YAML"),
        ("- name: a\n  url: https://x.test/f\n- name: a\n  url: https://x.test/g\n", ":3:3: feed name 'a' is used twice (first at line 1)"),
        ("- name: a\n  url: https://x.test/f\n- name: b\n  url: https://x.test/f\n", ":4:3: URL listed twice"),
        ("- name: a\n  name: b\n  url: https://x.test/f\n", ":2:3: duplicate key 'name'"),
        ("- name: a\n  url: https://x.test/f\n  kind: tabloid\n", ":3:3: 0.kind: Input should be"),
    ],
)
def test_bad_feeds_files_are_located(tmp_path, text, expected):
    """Each mistake gives file:line:column and a message a person can act on."""
    problems = _problems(tmp_path, text)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "feeds.yaml")) for p in problems)


def test_all_problems_are_reported_at_once(tmp_path):
    """One run lists every problem, not just the first."""
    problems = _problems(
        tmp_path,
        "- name: a\n  url: https://x.test/f\n  intervall: 5m\n- name: b\n  url: https://x.test/g\n  knd: wire\n",
    )
    assert len(problems) == 2
    assert "did you mean 'kind'" in problems[1]
