"""Strict YAML loading for the files traders and operators edit by hand.

Every problem is reported with file:line:column, unknown keys get a did-you-mean suggestion,
and all problems in a file are reported at once, so one `reewatch rules check` run is enough
to fix a file.
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


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader whose impossible dates (2026-02-30) are located errors, not a bare ValueError."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def read_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse one YAML file, or raise ConfigError saying where and why it is not valid YAML."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError([Problem(str(path), None, None, f"not UTF-8 text ({exc.reason})")]) from None
        except OSError as exc:
            raise ConfigError([Problem(str(path), None, None, f"cannot read: {exc.strerror}")]) from None
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_problem(path, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(str(path), None, None, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    marks: dict[Loc, tuple[int, int]] = {}
    problems: list[Problem] = []
    if node is not None:
        _collect_marks(node, (), marks, problems, path)
    if problems:
        raise ConfigError(problems)
    return YamlDocument(path, data, marks)


def _yaml_problem(path: Path, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    detail = exc.problem or str(exc)
    if "'\\t'" in detail or "\t" in detail:
        detail = "a tab character is used for indentation; YAML needs spaces"
    else:
        detail = f"invalid YAML: {detail}"
        if exc.context:
            detail += f" ({exc.context})"
    return Problem(str(path), line, column, detail)


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
