"""When the compiled rules engine may stand in for its Python source (service/native.py)."""

from __future__ import annotations

import importlib.machinery
import json
from pathlib import Path

import pytest

from service import native

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _sources(folder: Path) -> Path:
    rules = folder / "src" / "service" / "rules"
    rules.mkdir(parents=True)
    for name, source in native.SOURCES.items():
        (rules / source).write_text(f"# {name}\nVALUE = 1\n", encoding="utf-8")
    return rules


def _build(folder: Path, rules: Path, **manifest_changes) -> Path:
    """A build folder as `native.build` leaves it: extension files and a manifest."""
    build = folder / "build"
    (build / "service" / "rules").mkdir(parents=True)
    for name in native.SOURCES:
        (build / "service" / "rules" / f"{name}{SUFFIX}").write_bytes(b"\x7fELF")
    (build / f"{native.GROUP}__mypyc{SUFFIX}").write_bytes(b"\x7fELF")
    manifest = {
        "interpreter": native._interpreter(),
        "mypy": "2.4.1",
        "built": "2026-12-04T08:00:00+00:00",
        "sources": native.source_digests(rules),
        "files": native._file_digests(build),
    }
    manifest.update(manifest_changes)
    (build / native.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return build


def _edit_frames(rules: Path, build: Path) -> None:
    with (rules / "frames.py").open("a", encoding="utf-8") as source:
        source.write("# edited after the build\n")


def _drop_manifest(rules: Path, build: Path) -> None:
    (build / native.MANIFEST).unlink()


def _garble_manifest(rules: Path, build: Path) -> None:
    (build / native.MANIFEST).write_text("{not json", encoding="utf-8")


def _drop_engine(rules: Path, build: Path) -> None:
    (build / "service" / "rules" / f"engine{SUFFIX}").unlink()


def _drop_group(rules: Path, build: Path) -> None:
    (build / f"{native.GROUP}__mypyc{SUFFIX}").unlink()


def _truncate_frames(rules: Path, build: Path) -> None:
    path = build / "service" / "rules" / f"frames{SUFFIX}"
    path.write_bytes(path.read_bytes()[:2])


@pytest.mark.parametrize(
    ("manifest_changes", "change", "environ", "compiled", "reason"),
    [
        ({}, None, {}, True, "built 2026-12-04T08:00:00+00:00 with mypy 2.4.1"),
        ({}, None, {"REEWATCH_PURE_PYTHON": "1"}, False, "REEWATCH_PURE_PYTHON is set"),
        ({}, None, {"REEWATCH_PURE_PYTHON": "0"}, True, "built"),
        ({}, _edit_frames, {}, False, "frames.py changed since the build: rebuild"),
        ({}, _drop_manifest, {}, False, "not built: run `make`"),
        ({}, _garble_manifest, {}, False, "unreadable build manifest"),
        ({"interpreter": "cpython-310 .cpython-310-x86_64-linux-gnu.so"}, None, {}, False, "built for 'cpython-310"),
        ({"sources": None}, None, {}, False, "lists no sources"),
        ({}, _drop_engine, {}, False, "the build lacks engine: rebuild"),
        ({}, _drop_group, {}, False, f"the build lacks {native.GROUP}__mypyc"),
        ({}, _truncate_frames, {}, False, "the build's files differ from its manifest"),
        ({"files": None}, None, {}, False, "the build's files differ from its manifest"),
    ],
)
def test_a_build_stands_in_only_for_the_sources_it_was_built_from(
    tmp_path, manifest_changes, change, environ, compiled, reason
):
    rules = _sources(tmp_path)
    build = _build(tmp_path, rules, **manifest_changes)
    if change is not None:
        change(rules, build)
    choice = native.choose(build, rules, environ)
    assert choice.compiled is compiled
    assert reason in choice.reason


def test_a_refused_build_leaves_the_package_path_alone(tmp_path):
    """Without a usable build, `service.rules` imports its Python source."""
    rules = _sources(tmp_path)
    build = _build(tmp_path, rules)
    _edit_frames(rules, build)
    package_path = [str(rules)]
    # use_compiled checks the installed sources; a build of other sources is refused by digest.
    choice = native.use_compiled(package_path, build)
    assert not choice.compiled
    assert package_path == [str(rules)]


def test_every_module_constant_of_the_compiled_modules_is_final():
    """A constant without `Final` is a dictionary lookup at every use in the compiled engine."""
    import ast
    import re

    loose = []
    for name in native.MODULES:
        path = native.RULES_DIR / f"{name}.py"
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign):
                targets = [t for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)]
                loose += [f"{path.name}:{node.lineno} {t.id}" for t in targets]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                if not re.match(r"(typing\.)?Final\b", ast.unparse(node.annotation)):
                    loose.append(f"{path.name}:{node.lineno} {node.target.id}")
    assert loose == [], "module-level names assigned without Final: " + ", ".join(loose)
