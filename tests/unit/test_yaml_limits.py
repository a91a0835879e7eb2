"""Hand-edited YAML cannot exhaust the loader: each bound is a located error, found quickly."""

from pathlib import Path

import pytest

from service.errors import ConfigError
from service.rules import load_ruleset
from service.yamlfile import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_FILE_BYTES, read_yaml
from tests.conftest import install_rules


def alias_bomb(levels: int = 9, fan: int = 10) -> str:
    """`levels` levels of `fan` aliases: a few hundred bytes whose paths number fan**levels."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan) + "]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nrules: *l{levels - 1}\n"


CASES = {
    "alias bomb": (alias_bomb(), (6, 15), "aliases expand more than"),
    "nested lists": ("rules:\n  - any: " + "[" * 50_000 + "x" + "]" * 50_000 + "\n", (2, 71), f"more than {MAX_DEPTH} levels"),
    "nested mappings": ("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 80)), (64, 64), f"more than {MAX_DEPTH} levels"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bounds_are_located_errors(tmp_path, case):
    """An alias bomb or deep nesting is one file:line:col problem, not a traceback or a stall."""
    text, (line, column), message = CASES[case]
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_yaml(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert message in problem.message


def test_an_oversized_file_is_refused_where_it_goes_over(tmp_path):
    """A file past the size cap is refused at the line and column of the cap, unread beyond it."""
    path = tmp_path / "terms.yaml"
    row = "  - a phrase that repeats\n"
    path.write_text("terms:\n" + row * (MAX_FILE_BYTES // len(row) + 10), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_yaml(path)
    (problem,) = caught.value.problems
    rows_before = (MAX_FILE_BYTES - len("terms:\n")) // len(row)
    assert problem.line == 2 + rows_before
    assert problem.column == (MAX_FILE_BYTES - len("terms:\n")) % len(row) + 1
    assert "larger than 2 MB" in problem.message


def test_aliases_within_the_bound_still_work(tmp_path):
    """Aliases are allowed: a file that reuses a list stays valid while its expansion is small."""
    path = tmp_path / "ok.yaml"
    path.write_text(alias_bomb(levels=3, fan=10), encoding="utf-8")
    doc = read_yaml(path)
    assert len(doc.data["rules"]) == 10 and len(doc.data["rules"][0][0]) == 10
    assert 1_000 < MAX_EXPANDED_NODES


def test_an_alias_bomb_in_a_rules_file_is_a_problem_of_that_file(tmp_path):
    """Through the rule loader the service uses, the bomb names its file, line and column."""
    rules = install_rules(tmp_path / "rules")
    (rules / "alerts" / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_ruleset(rules)
    assert any(p.file == str(rules / "alerts" / "bomb.yaml") and p.line == 6 for p in caught.value.problems)


def test_shipped_rules_are_far_from_the_bounds():
    """The shipped files load: the bounds leave room for real rule files."""
    root = Path(__file__).resolve().parents[2] / "rules"
    for path in sorted(root.rglob("*.yaml")):
        read_yaml(path)


def test_libyaml_and_pyyaml_read_the_shipped_files_alike():
    """The fast reader (libyaml's events, our composer) gives the same values and the same
    line:column for every key as PyYAML's own reader, so problems are located the same."""
    from service import yamlfile

    if yamlfile._FastLoader is yamlfile._PureLoader:
        pytest.skip("PyYAML is built without libyaml here")
    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "rules").rglob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        (fast_node, fast), (pure_node, pure) = yamlfile._load(yamlfile._FastLoader, text), yamlfile._load(yamlfile._PureLoader, text)
        fast_marks: dict = {}
        pure_marks: dict = {}
        yamlfile._collect_marks(fast_node, (), fast_marks, [], path)
        yamlfile._collect_marks(pure_node, (), pure_marks, [], path)
        assert (fast, fast_marks) == (pure, pure_marks), path


@pytest.mark.parametrize("text", ["a:\n\t- b\n", "a: b\n\tc: d\n"])
def test_a_tab_used_for_indentation_is_named(tmp_path, text):
    """Whichever reader finds it, a tab in the indentation is said in words a person can act on."""
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_yaml(path)
    (problem,) = caught.value.problems
    assert problem.line == 2 and "tab character is used for indentation" in problem.message
