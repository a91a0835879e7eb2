"""The rules engine as `make` builds it: compiled with mypyc, identical in every verdict to its
Python source, and never run from a build older than the source."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import service.rules
import service.rules.frames
from service import native
from tests.engine_verdicts import verdicts

ROOT = Path(__file__).resolve().parents[2]
compiled_only = pytest.mark.skipif(
    not service.rules.BUILD.compiled, reason=f"the rules engine runs as {service.rules.BUILD}"
)


def _is_extension(path: str) -> bool:
    return any(path.endswith(suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES)


@pytest.mark.skipif(not os.environ.get("REEWATCH_EXPECT_COMPILED"), reason="make did not build the engine here")
def test_the_engine_make_built_is_the_one_that_runs():
    """`make test` sets REEWATCH_EXPECT_COMPILED when it built the engine: a build refused at
    import (stale, for another interpreter, incomplete) fails here instead of silently running
    the suite on the Python source."""
    assert service.rules.BUILD.compiled, str(service.rules.BUILD)
    assert _is_extension(service.rules.frames.__file__)


@compiled_only
def test_compiled_and_python_engines_give_the_same_verdicts():
    """Every field of every training item's verdict, compiled and as Python."""
    python = subprocess.run(
        [sys.executable, "-m", "tests.engine_verdicts"],
        cwd=ROOT, env={**os.environ, native.PURE_ENV: "1"}, capture_output=True, text=True, timeout=600, check=True,
    )
    as_python = json.loads(python.stdout)
    compiled = json.loads(json.dumps(verdicts()))
    assert len(compiled) > 3000
    differ = [item for item in compiled if compiled[item] != as_python.get(item)]
    assert not differ, f"{len(differ)} verdicts differ, e.g. items {differ[:10]}"


def _copy_of_the_package(into: Path) -> Path:
    shutil.copytree(ROOT / "service", into / "service", ignore=shutil.ignore_patterns("__pycache__"))
    return into


def _build_in_use(cwd: Path) -> tuple[bool, str, str]:
    probe = (
        "import json, service.rules as r, service.rules.frames as f; "
        "print(json.dumps([r.BUILD.compiled, r.BUILD.reason, f.__file__]))"
    )
    env = {key: value for key, value in os.environ.items() if key != native.PURE_ENV}
    env["PYTHONPATH"] = str(cwd)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    compiled, reason, frames_file = json.loads(done.stdout)
    return compiled, reason, frames_file


@compiled_only
def test_an_edited_module_runs_as_python_not_as_its_old_build(tmp_path):
    """A copy of the package with its build runs compiled; edit one module's source and the
    whole engine runs as Python, saying which file changed."""
    package = _copy_of_the_package(tmp_path)
    compiled, _, frames_file = _build_in_use(package)
    assert compiled and _is_extension(frames_file) and frames_file.startswith(str(package))

    with (package / "service" / "rules" / "frames.py").open("a", encoding="utf-8") as source:
        source.write("\n# edited after the build\n")
    compiled, reason, frames_file = _build_in_use(package)
    assert not compiled
    assert reason == "frames.py changed since the build: rebuild"
    assert frames_file == str(package / "service" / "rules" / "frames.py")


# The build type-checks the six modules with mypy before it reaches the compiler: half a minute
# on an idle machine, several times that beside the rest of the suite, past its two-minute guard.
@pytest.mark.timeout(600)
def test_without_a_compiler_the_build_says_why_and_the_engine_runs_as_python(tmp_path):
    """What a machine without gcc sees: the build fails naming the command, and the engine,
    whose sources have no build, runs as Python."""
    pytest.importorskip("mypyc.build", reason="the native extra (mypy) is not installed")
    package = tmp_path
    shutil.copytree(
        ROOT / "service", package / "service", ignore=shutil.ignore_patterns("__pycache__", "_compiled")
    )
    env = {key: value for key, value in os.environ.items() if key != native.PURE_ENV}
    env.update(PYTHONPATH=str(package), CC="/bin/false")
    done = subprocess.run(
        [sys.executable, "-m", "service.native", "build"], cwd=package, env=env, capture_output=True, text=True,
        timeout=600,
    )
    assert done.returncode == 1
    assert "could not compile the rules engine; it will run as Python" in done.stderr
    assert "/bin/false" in done.stderr
    assert not (package / "service" / "rules" / "_compiled").exists()
    compiled, reason, frames_file = _build_in_use(package)
    assert not compiled and reason.startswith("not built")
    assert frames_file.endswith("frames.py")


@compiled_only
def test_a_build_that_does_not_load_leaves_the_engine_in_python(tmp_path):
    """A damaged build is refused as a whole, and no module of the engine runs from it: a
    truncated module before it is loaded (loading it would kill the process), one that fails
    to load when the loader refuses it."""
    package = _copy_of_the_package(tmp_path)
    build = package / "service" / "rules" / "_compiled"
    (engine,) = [path for path in (build / "service" / "rules").iterdir() if path.name.startswith("engine.")]
    intact = engine.read_bytes()
    engine.write_bytes(intact[:4096])
    compiled, reason, frames_file = _build_in_use(package)
    assert not compiled
    assert reason.startswith("the build's files differ from its manifest")
    assert frames_file == str(package / "service" / "rules" / "frames.py")

    # Not a library at all, though the manifest vouches for it: the loader's ImportError.
    engine.write_bytes(b"not a shared library")
    manifest = json.loads((build / native.MANIFEST).read_text(encoding="utf-8"))
    manifest["files"] = native._file_digests(build)
    (build / native.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    compiled, reason, frames_file = _build_in_use(package)
    assert not compiled
    assert reason.startswith("the build does not load")
    assert frames_file == str(package / "service" / "rules" / "frames.py")
