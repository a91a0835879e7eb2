"""Strict YAML loading for the files traders and operators edit by hand.

Every problem is reported with file:line:column, unknown keys get a did-you-mean suggestion,
and all problems in a file are reported at once, so one `reewatch rules check` run is enough
to fix a file.

Files are edited by people in a hurry and could be written by someone hostile, so loading is
bounded: a file over MAX_FILE_BYTES, nesting deeper than MAX_DEPTH, or aliases that expand the
document past MAX_EXPANDED_NODES values (nine levels of ten aliases is a small file with 10^9
paths) is refused with the place it went over, before anything walks the expanded document.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from service.errors import ConfigError, Problem

T = TypeVar("T")
Loc = tuple[str | int, ...]

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
#: Values in a document with every alias expanded; each shipped rules file holds under a thousand.
MAX_EXPANDED_NODES = 250_000


class YamlDocument:
    """A parsed YAML file: its Python value plus where each key and item sits in the text."""

    def __init__(self, path: Path, data: Any, marks: dict[Loc, tuple[int, int]]):
        self.path = path
        self.data = data
        self.marks = marks

    def where(self, loc: Loc) -> tuple[int | None, int | None]:
        """The 1-based line and column of `loc`, or of its nearest located parent."""
        loc = tuple(loc)
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), (None, None))

    def problem(self, loc: Loc, message: str, rule_id: str | None = None) -> Problem:
        line, column = self.where(loc)
        return Problem(str(self.path), line, column, message, rule_id)


class _LimitExceeded(yaml.MarkedYAMLError):
    """The document goes past one of the loader's bounds at `problem_mark`."""


class _Bounded:
    """A safe loader whose impossible dates (2026-02-30) are located errors, not a bare ValueError,
    and whose composer counts depth and expanded size as it builds the node graph."""

    _depth = 0
    _expanded = 0

    def _start_counting(self) -> None:
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            # An alias repeats its anchor's whole subtree wherever the document is walked.
            self._count(self._sizes.get(id(node), 1), event, "aliases expand")
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitExceeded(
                problem=f"nested more than {MAX_DEPTH} levels deep; flatten this structure", problem_mark=event.start_mark
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._sizes.get(id(child), 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        else:
            size = 1
        self._sizes[id(node)] = size
        self._count(1, event, "this file holds")
        return node

    def _count(self, values: int, event: yaml.Event, what: str) -> None:
        self._expanded += values
        if self._expanded > MAX_EXPANDED_NODES:
            raise _LimitExceeded(
                problem=f"{what} more than {MAX_EXPANDED_NODES:,} values in all; use fewer or smaller aliases",
                problem_mark=event.start_mark,
            )

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None


class _PureLoader(_Bounded, yaml.SafeLoader):
    """PyYAML's own reader, in Python: the reference, and the fallback without libyaml."""

    def __init__(self, stream: str):
        yaml.SafeLoader.__init__(self, stream)
        self._start_counting()


try:  # libyaml reads ~7x faster than PyYAML's Python reader: most of the service's start-up.
    from yaml._yaml import CParser  # type: ignore[import-not-found]
except ImportError:  # a PyYAML built without libyaml
    _FastLoader: type = _PureLoader
else:

    class _FastLoader(_Bounded, yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor,  # type: ignore[no-redef,misc]
                      yaml.resolver.Resolver):
        """libyaml's events composed by PyYAML's composer, so the bounds are counted the same way."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start_counting()


for _loader in {_PureLoader, _FastLoader}:
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _loader.construct_yaml_timestamp)  # type: ignore[attr-defined]


def read_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse one YAML file, or raise ConfigError saying where and why it is not valid YAML."""
    path = Path(path)
    if text is None:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ConfigError([Problem(str(path), None, None, f"cannot read: {exc.strerror}")]) from None
        _check_size(path, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError([Problem(str(path), None, None, f"not UTF-8 text ({exc.reason})")]) from None
    else:
        _check_size(path, text.encode("utf-8", "surrogatepass"))
    try:
        node, data = _parse(text)
    except _LimitExceeded as exc:
        mark = exc.problem_mark
        raise ConfigError([Problem(str(path), mark.line + 1, mark.column + 1, str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_problem(path, exc, text)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(str(path), None, None, f"invalid YAML: {exc}")]) from None
    marks: dict[Loc, tuple[int, int]] = {}
    problems: list[Problem] = []
    if node is not None:
        _collect_marks(node, (), marks, problems, path)
    if problems:
        raise ConfigError(problems)
    return YamlDocument(path, data, marks)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node graph and value, read by libyaml where it can."""
    try:
        return _load(_FastLoader, text)
    except yaml.MarkedYAMLError as exc:
        if _FastLoader is _PureLoader or isinstance(exc, _LimitExceeded) or "nesting depth" not in str(exc.problem):
            raise
        # libyaml stops at its own depth limit (1,000), scanning ahead of our composer: PyYAML's
        # reader finds where the nesting first went past MAX_DEPTH.
        return _load(_PureLoader, text)


def _load(loader_class: type, text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _check_size(path: Path, raw: bytes) -> None:
    """Refuse a file past MAX_FILE_BYTES, located where it goes past."""
    if len(raw) <= MAX_FILE_BYTES:
        return
    head = raw[:MAX_FILE_BYTES]
    line = head.count(b"\n") + 1
    column = len(head) - (head.rfind(b"\n") + 1) + 1
    raise ConfigError(
        [Problem(str(path), line, column, f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it or trim it")]
    )


def _yaml_problem(path: Path, exc: yaml.MarkedYAMLError, text: str = "") -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    detail = exc.problem or str(exc)
    if "'\\t'" in detail or "\t" in detail or "tab character" in detail or _tab_at(text, mark):
        detail = "a tab character is used for indentation; YAML needs spaces"
    else:
        detail = f"invalid YAML: {detail}"
        if exc.context:
            detail += f" ({exc.context})"
    return Problem(str(path), line, column, detail)


def _tab_at(text: str, mark: Any) -> bool:
    """Whether the parser stopped at a tab (libyaml does not always say so)."""
    if mark is None or not text:
        return False
    lines = text.split("\n")
    return mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t"


def _collect_marks(node: yaml.Node, loc: Loc, marks: dict, problems: list[Problem], path: Path) -> None:
    marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            here = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key is not None and key in seen:
                problems.append(
                    Problem(str(path), here[0], here[1], f"duplicate key {key!r} (first at line {seen[key]})")
                )
            if key is not None:
                seen[key] = here[0]
                marks[loc + (key,)] = here
                _collect_marks(value_node, loc + (key,), marks, problems, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, loc + (index,), marks, problems, path)


def validate(
    doc: YamlDocument,
    model: Any,
    *,
    data: Any = None,
    base_loc: Loc = (),
    rule_id_of: Callable[[Loc], str | None] | None = None,
) -> Any:
    """Validate `doc` (or `data` found at `base_loc`) against a pydantic type.

    Raises ConfigError listing every problem, each located and phrased for a person.
    """
    value = doc.data if data is None else data
    try:
        return TypeAdapter(model).validate_python(value)
    except ValidationError as exc:
        problems = [
            _validation_problem(doc, model, base_loc, err, rule_id_of) for err in exc.errors(include_url=False)
        ]
        raise ConfigError(problems) from None


def _validation_problem(doc, model, base_loc: Loc, err: dict, rule_id_of) -> Problem:
    loc = base_loc + _clean_loc(err["loc"])
    rule_id = rule_id_of(loc) if rule_id_of else None
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _fields_at(model, _clean_loc(err["loc"])[:-1])
        message = f"unknown key {key!r}"
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif allowed:
            message += f"; expected one of: {', '.join(sorted(allowed))}"
        return doc.problem(loc, message, rule_id)
    if kind == "missing":
        parent = loc[:-1]
        return doc.problem(parent, f"missing required key {loc[-1]!r}", rule_id)
    field = ".".join(str(p) for p in loc) or "file"
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return doc.problem(loc, f"{field}: {message}", rule_id)


def _clean_loc(loc: tuple) -> Loc:
    # pydantic inserts union member and function names into locations; keep only data keys.
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and not (
            part.startswith("function-") or "[" in part or part in {"list", "dict", "str", "int"}
        ):
            out.append(part)
    return tuple(out)


def _fields_at(model: Any, loc: Loc) -> list[str]:
    """Names the model accepts at `loc`, for did-you-mean suggestions."""
    current = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            if field is None:
                return []
            current = field.annotation
        else:
            args = typing.get_args(current)
            current = args[-1] if args else None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return tp
