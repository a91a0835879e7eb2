"""`rules/feeds.yaml`: the feeds to poll, loaded strictly."""

from __future__ import annotations

from pathlib import Path

from service.domain.feeds import FeedSpec
from service.errors import ConfigError, Problem
from service.yamlfile import read_yaml, validate


def load_feeds(path: Path) -> list[FeedSpec]:
    """Read and check a feeds file. Raises ConfigError listing every problem with its place."""
    doc = read_yaml(path)
    if doc.data is None:
        raise ConfigError([Problem(str(path), None, None, "the file is empty; list at least one feed")])
    if not isinstance(doc.data, list):
        raise ConfigError([doc.problem((), "expected a list of feeds (`- name: ...`), not a mapping")])
    specs: list[FeedSpec] = validate(doc, list[FeedSpec])
    problems: list[Problem] = []
    first_name: dict[str, int] = {}
    first_url: dict[str, int] = {}
    for index, spec in enumerate(specs):
        line = doc.where((index,))[0]
        if spec.name in first_name:
            problems.append(
                doc.problem((index, "name"), f"feed name {spec.name!r} is used twice (first at line {first_name[spec.name]})")
            )
        first_name.setdefault(spec.name, line or 0)
        url = str(spec.url)
        if url in first_url:
            problems.append(doc.problem((index, "url"), f"URL listed twice (first at line {first_url[url]})"))
        first_url.setdefault(url, line or 0)
    if problems:
        raise ConfigError(problems)
    return specs
