"""The rules engine compiled to C with mypyc, used only when it was built from the current source.

Scoring an article runs through six modules of `service.rules` (phrase matching, conditions,
event frames, official documents, entities, the engine). They are plain, fully annotated
Python; mypyc compiles them to C extension modules that run the same code, and with the C
scanner below an article scores a little over twice as fast. Compiling is an install step (`make` does it; `python -m service.native build`
by hand), never a requirement: without a build, or when the build is stale, the same modules run
as Python.

A build is kept out of the source folders, in `service/rules/_compiled/`, with a manifest of
the SHA-256 of every source it was compiled from. `use_compiled()` (called when `service.rules`
is imported) puts it in front of the sources only when the manifest matches the interpreter and
every source byte for byte, so an edited module never runs as its old binary, and only when
every compiled file matches its recorded digest and loads; otherwise the engine runs as Python,
whole. Set REEWATCH_PURE_PYTHON=1 to run the Python source regardless (to debug, or to compare).

The same build compiles one module written in C, `service/rules/_scanner.c`: the phrase scan
(every phrase of the rules found in a text in one pass, as a set of ids). The Python source does
that scan with pyahocorasick, whose matches reach Python one tuple at a time; the C scanner
builds the same automaton as a complete table and hands back the set. `phrases.py` uses it when
the build is in use and pyahocorasick otherwise; both give the same sets.

Every module-level constant of those modules is declared `Final`. Compiled, a `Final` constant
is a C value (or a static the code reads directly); any other module-level name is looked up in
the module's dictionary at each use, which in the frame reader's token loops cost about a tenth
of the engine's time. A test keeps it so.

    python -m service.native build     # compile; exits 1 and says why when it cannot
    python -m service.native status    # which build `service.rules` uses, and why
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from collections.abc import Mapping
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RULES_DIR = PACKAGE_DIR / "rules"
#: Where a build lives: a package-shaped folder tree (service/rules/*.so) and its manifest.
BUILD_DIR = RULES_DIR / "_compiled"
MANIFEST = "manifest.json"
#: The modules compiled, in `service.rules`. Everything they import from outside this list
#: stays Python.
MODULES = ("phrases", "entities", "official", "frames", "conditions", "engine")
#: Modules written in C, built beside them (each `service/rules/<name>.c`).
C_MODULES = ("_scanner",)
#: Every module of a build, and the source file it is built from.
SOURCES = {**{name: f"{name}.py" for name in MODULES}, **{name: f"{name}.c" for name in C_MODULES}}
#: The shared library mypyc puts the six modules' code in (one group, so calls between them are
#: native calls).
GROUP = "reewatch_rules"
PURE_ENV = "REEWATCH_PURE_PYTHON"


@dataclass(frozen=True)
class Choice:
    """Which build `service.rules` runs, and why."""

    compiled: bool
    reason: str

    def __str__(self) -> str:
        return f"{'compiled' if self.compiled else 'pure Python'} ({self.reason})"


def source_digests(rules_dir: Path = RULES_DIR) -> dict[str, str]:
    """SHA-256 of each compiled module's source, by module name."""
    return {name: hashlib.sha256((rules_dir / source).read_bytes()).hexdigest() for name, source in SOURCES.items()}


def _interpreter() -> str:
    """What a C extension is built for: the implementation, its version and its ABI tag."""
    return f"{sys.implementation.cache_tag} {importlib.machinery.EXTENSION_SUFFIXES[0]}"


def choose(build_dir: Path = BUILD_DIR, rules_dir: Path = RULES_DIR, environ: Mapping[str, str] | None = None) -> Choice:
    """Whether the build in `build_dir` may stand in for the sources in `rules_dir`."""
    if environ is None:
        environ = os.environ
    if environ.get(PURE_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return Choice(False, f"{PURE_ENV} is set")
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Choice(False, "not built: run `make` or `python -m service.native build`")
    except (OSError, ValueError) as exc:
        return Choice(False, f"unreadable build manifest {build_dir / MANIFEST}: {exc}")
    if not isinstance(manifest, dict) or manifest.get("interpreter") != _interpreter():
        built_for = manifest.get("interpreter") if isinstance(manifest, dict) else None
        return Choice(False, f"built for {built_for!r}, this is {_interpreter()!r}: rebuild")
    built = manifest.get("sources")
    if not isinstance(built, dict):
        return Choice(False, f"build manifest {build_dir / MANIFEST} lists no sources: rebuild")
    changed = [SOURCES[name] for name, digest in source_digests(rules_dir).items() if built.get(name) != digest]
    if changed:
        return Choice(False, f"{', '.join(changed)} changed since the build: rebuild")
    missing = [name for name in (*SOURCES, GROUP + "__mypyc") if not _extension(build_dir, name)]
    if missing:
        return Choice(False, f"the build lacks {', '.join(missing)}: rebuild")
    # A damaged library can kill the process when loaded (a truncated one with SIGBUS), so
    # each is checked against its digest before anything loads it.
    files = manifest.get("files")
    if not isinstance(files, dict) or _file_digests(build_dir) != files:
        return Choice(False, "the build's files differ from its manifest (damaged or partly copied): rebuild")
    return Choice(True, f"built {manifest.get('built', '?')} with mypy {manifest.get('mypy', '?')}")


def _file_digests(build_dir: Path) -> dict[str, str]:
    """SHA-256 of each compiled file of a build, by its path in the build."""
    return {
        path.relative_to(build_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(build_dir.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _extension(build_dir: Path, name: str) -> Path | None:
    """The compiled file of a module of the build (or of its shared group library)."""
    folder = build_dir if name.startswith(GROUP) else build_dir / "service" / "rules"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def use_compiled(package_path: list[str], build_dir: Path = BUILD_DIR) -> Choice:
    """Put the build in front of `service.rules`' sources (`package_path` is the package's
    `__path__`) if `choose` allows it. Must run before any of the compiled modules is imported."""
    choice = choose(build_dir)
    if not choice.compiled:
        return choice
    group = GROUP + "__mypyc"
    folder = str(build_dir / "service" / "rules")
    try:
        if group not in sys.modules:
            # The compiled modules import their shared library by this top-level name.
            spec = importlib.util.spec_from_file_location(group, _extension(build_dir, group))
            if spec is None or spec.loader is None:
                raise ImportError(f"no loader for {group}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[group] = module
            spec.loader.exec_module(module)
        package_path.insert(0, folder)
        # Load them all now: a build that does not load (truncated, built against another
        # libc) must not leave the engine half compiled.
        for name in (*C_MODULES, *MODULES):
            importlib.import_module(f"service.rules.{name}")
    except ImportError as exc:
        if folder in package_path:
            package_path.remove(folder)
        for name in (group, *(f"service.rules.{name}" for name in SOURCES)):
            sys.modules.pop(name, None)
        return Choice(False, f"the build does not load ({exc}): rebuild")
    return choice


def build(build_dir: Path = BUILD_DIR, rules_dir: Path = RULES_DIR) -> Path:
    """Compile the modules into `build_dir` (replacing any earlier build) and write its manifest.

    Raises RuntimeError, with the compiler's or mypy's last words, when it cannot."""
    try:
        import mypy.version
        from mypyc.build import mypycify
        from setuptools import Extension, setup
    except ImportError as exc:
        raise RuntimeError(f"compiling needs mypy and setuptools ({exc}); pip install -e '.[native]'") from exc
    digests = source_digests(rules_dir)
    root = rules_dir.parent.parent  # the folder that holds the `service` package
    staging = Path(tempfile.mkdtemp(prefix="reewatch-native-"))
    output = staging / "out"
    log = staging / "build.log"
    here = Path.cwd()
    try:
        # mypyc names modules by their path from the working folder.
        os.chdir(root)
        paths = [str(Path("service") / "rules" / f"{name}.py") for name in MODULES]
        with log.open("w") as sink:
            saved = os.dup(1), os.dup(2)
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                extensions = mypycify(
                    ["--ignore-missing-imports", "--follow-imports=silent", *paths],
                    opt_level="3",
                    target_dir=str(staging / "c"),
                    group_name=GROUP,
                )
                extensions += [
                    Extension(f"service.rules.{name}", [str(Path("service") / "rules" / f"{name}.c")], extra_compile_args=["-O2"])
                    for name in C_MODULES
                ]
                setup(
                    name="reewatch-rules-compiled",
                    ext_modules=extensions,
                    script_args=["build_ext", "--build-lib", str(output), "--build-temp", str(staging / "tmp")],
                )
            except (Exception, SystemExit) as exc:  # setuptools and mypyc exit through SystemExit
                sys.stdout.flush()
                # The log's tail, then what stopped the build ("command 'gcc' failed ...").
                raise RuntimeError(f"{_last_lines(log, 8)}\n{exc}".strip()) from None
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        if source_digests(rules_dir) != digests:
            raise RuntimeError("a source changed while it was being compiled: build again")
        manifest = {
            "interpreter": _interpreter(),
            "mypy": mypy.version.__version__,
            "built": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "sources": digests,
            "files": _file_digests(output),
        }
        (output / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if build_dir.exists():
            shutil.rmtree(build_dir)
        shutil.copytree(output, build_dir)
        return build_dir
    finally:
        os.chdir(here)
        shutil.rmtree(staging, ignore_errors=True)


def _last_lines(log: Path, count: int = 15) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["build"]:
        try:
            where = build()
        except RuntimeError as exc:
            print(f"could not compile the rules engine; it will run as Python:\n{exc}", file=sys.stderr)
            return 1
        print(f"rules engine compiled into {where}: {choose()}")
        return 0
    if args == ["status"]:
        import service.rules

        print(f"rules engine: {service.rules.BUILD}")
        return 0
    print("usage: python -m service.native build | status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
