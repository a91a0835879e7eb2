"""A running service reloads its rules when a file changes, and keeps the last good ones on errors."""

import logging
import os
import shutil

import pytest

from service.rules import watch_ruleset
from tests.rulesets import assess, one_rule, write_rules
from tests.unit.test_rule_problems import CASES, GOOD


def _touch_later(path) -> None:
    # Some filesystems keep a coarse mtime: move it forward so the change is always seen.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_a_good_edit_takes_effect(tmp_path):
    """Saving a changed rule file swaps the ruleset on the next refresh."""
    folder = write_rules(tmp_path / "rules", {"a.yaml": GOOD})
    rules = watch_ruleset(folder)
    rules.load_initial()
    assert assess(rules.current, "A ban").rules == ("r",)
    assert rules.refresh() is False  # nothing changed
    (folder / "alerts" / "a.yaml").write_text(one_rule("any: [truce]"), encoding="utf-8")
    _touch_later(folder / "alerts" / "a.yaml")
    assert rules.refresh() is True
    assert assess(rules.current, "A ban").rules == ()
    assert assess(rules.current, "A truce").rules == ("r",)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_edit_keeps_the_last_good_rules(tmp_path, caplog, case):
    """Each kind of mistake is logged with its place and the previous rules keep running."""
    files, where, expected, _ = CASES[case]
    folder = write_rules(tmp_path / "rules", {"a.yaml": GOOD})
    rules = watch_ruleset(folder)
    good = rules.load_initial()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        _touch_later(folder / name)
    with caplog.at_level(logging.ERROR, logger="service.config_watch"):
        assert rules.refresh() is False
    assert rules.current is good
    assert assess(rules.current, "A ban").rules == ("r",)
    assert rules.last_error is not None
    assert "keeping the last good version" in caplog.text
    assert str(folder / where) in caplog.text


def test_emptied_alerts_folder_keeps_the_last_good_rules(tmp_path):
    """Deleting every alert file is an error too; the rules already loaded stay."""
    folder = write_rules(tmp_path / "rules", {"a.yaml": GOOD})
    rules = watch_ruleset(folder)
    good = rules.load_initial()
    shutil.rmtree(folder / "alerts")
    (folder / "alerts").mkdir()
    assert rules.refresh() is False
    assert rules.current is good
    assert "no alert rules" in str(rules.last_error)
