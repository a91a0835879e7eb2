"""`reewatch eval`: a desk grades its rules on its own labelled items, and gates edits on the figures."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.e2e.cli import cli_env, reewatch

LABELLED = """\
- id: ga-ban
  published: 2024-12-03T08:20:00Z
  source: official
  feed: mofcom-announcements
  title: "China bans gallium and germanium exports to the United States"
  summary: "Exports of gallium, germanium and antimony to the US will not be permitted."
  alert: yes
  types: [export_control_new]
  direction: {MP: bullish, F: bearish}
- id: ga-lifted
  published: 2025-11-09T08:00:00Z
  source: wire
  feed: reuters
  title: "China suspends its ban on gallium exports to the US until 2026"
  summary: "The commerce ministry said the ban is suspended for a year."
  alert: yes
  types: [export_control_eased]
  direction: {us_allied_producers: bearish}
- id: truck-tariff
  published: 2025-09-26T10:00:00Z
  source: wire
  feed: reuters
  title: "Trump sets 25% tariff on imported heavy trucks"
  summary: "The tariff takes effect on October 1."
  alert: no
- id: a-quiet-one
  published: 2025-06-01T10:00:00Z
  source: blog
  feed: a-blog
  title: "Tungsten buyers wait for clarity"
  summary: "Nothing changed this week, traders said."
  alert: yes
  types: [price_move]
- id: maybe
  published: 2025-06-02T10:00:00Z
  source: sector
  feed: mining-com
  title: "Lynas opens new office in Perth"
  summary: "The company moved its headquarters."
  alert: either
  types: [corporate]
"""


def write(tmp_path: Path, text: str, name: str = "desk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_eval_prints_the_figures_and_each_miss_with_the_rules_that_nearly_fired(tmp_path):
    """Precision, recall, types and directions, then every miss with what stopped the rules."""
    env = cli_env(tmp_path)
    labelled = write(tmp_path, LABELLED)
    done = reewatch("eval", str(labelled), "--format", "json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    overall = report["overall"]
    # Four firm labels (the "either" counts neither way): two alerts caught, one missed.
    assert (overall["true_positives"], overall["false_positives"], overall["false_negatives"], overall["either"]) == (2, 0, 1, 1)
    assert overall["precision"] == 1.0 and round(overall["recall"], 3) == 0.667
    # MP and F, then each of the twelve us_allied_producers a group label stands for.
    assert overall["direction_pairs"] == 2 + 12
    assert overall["type_accuracy"] == round(2 / 3, 4) and overall["direction_accuracy"] == 1.0
    wrong = {w["id"]: w for w in report["wrong"]}
    # The suspension is read as an easing (bearish for the producers); only the quiet item is wrong.
    assert sorted(wrong) == ["a-quiet-one"]
    assert wrong["a-quiet-one"]["problems"][0] == "missed alert"

    table = reewatch("eval", str(labelled), env=env, cwd=tmp_path)
    assert table.returncode == 0
    assert "a-quiet-one Tungsten buyers wait for clarity" in table.stdout
    assert "missed alert" in table.stdout


def test_eval_exits_1_under_a_minimum_and_names_it(tmp_path):
    """--min-recall above what the rules reach fails the run, as a desk's CI needs."""
    env = cli_env(tmp_path)
    labelled = write(tmp_path, LABELLED)
    done = reewatch("eval", str(labelled), "--min-precision", "0.9", "--min-recall", "0.9", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "recall 0.667 is under the minimum 0.900" in done.stderr
    assert "precision" not in done.stderr
    passing = reewatch("eval", str(labelled), "--min-precision", "0.9", "--min-recall", "0.6", env=env, cwd=tmp_path)
    assert passing.returncode == 0, passing.stderr


def test_a_bad_label_is_an_error_at_its_place(tmp_path):
    """A wrong label, a missing key, a repeated id and an unknown ticker each get file:line:col; exit 2."""
    env = cli_env(tmp_path)
    broken = write(
        tmp_path,
        """\
        - id: one
          published: 2025-01-01T00:00:00Z
          source: wire
          title: "A"
          alert: maybe
        - id: one
          published: 2025-01-01T00:00:00Z
          source: newswire
          title: "B"
          alert: yes
          types: [export_control]
        - id: three
          published: 2025-01-01
          source: wire
          title: "C"
          alert: yes
          types: [truce]
          direction: {MPP: bullish}
        - id: four
          published: 2025-01-01T00:00:00Z
          source: wire
          title: "D"
          alert: no
          types: [truce]
        """,
        "broken.yaml",
    )
    done = reewatch("eval", str(broken), env=env, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert any(":5:" in line and "alert" in line for line in lines)
    assert any(":6:" in line and "id 'one' is used twice" in line for line in lines)
    assert any(":8:" in line and "source" in line for line in lines)
    assert any(":11:" in line and "unknown event type 'export_control'" in line for line in lines)
    assert any(":13:" in line and "time zone" in line for line in lines)
    assert any("'MPP' is neither a watchlist ticker nor a group" in line for line in lines)
    assert any("alert: no" in line and "types" in line for line in lines)
    assert all(line.startswith(str(broken)) for line in lines)


def test_eval_reads_a_folder_of_labelled_files(tmp_path):
    """A folder stands for every YAML file in it; the figures come per file and overall."""
    env = cli_env(tmp_path)
    folder = tmp_path / "labelled"
    folder.mkdir()
    write(folder, LABELLED, "a.yaml")
    write(folder, LABELLED.replace("id: ", "id: b-"), "b.yaml")
    report = json.loads(reewatch("eval", str(folder), "--format", "json", env=env, cwd=tmp_path).stdout)
    assert sorted(Path(name).name for name in report["files"]) == ["a.yaml", "b.yaml"]
    assert report["overall"]["items"] == 10
