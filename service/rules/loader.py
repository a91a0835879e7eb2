"""The one loader for a rules folder: the service, `reewatch rules check` and `scan` all use it.

    rules/watchlists.yaml   groups of tickers, elements, countries, agencies, default impacts
    rules/terms.yaml        named word lists ("@name" in rules); optional
    rules/ignore.yaml       articles no rule may fire on (opinion, explainers, recaps); optional
    rules/alerts/*.yaml     the alert rules, one file per theme

Every problem in every file is collected before anything is raised, so one `rules check` run
lists them all, each with file:line:column and the rule id.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field

from service.config_watch import WatchedConfig
from service.errors import ConfigError, Problem
from service.rules.conditions import AllOf, AnyOf, Condition, ConditionParser, FrameTest, Mentions, Near, Phrases
from service.rules.engine import Rule, Ruleset
from service.rules.entities import EntityCatalogue, build_catalogue
from service.rules.frames import FrameReader, head_words, watchlist_lexicon
from service.rules.phrases import MatcherBuilder, phrase_variants
from service.rules.price import NewsTrigger, PriceRule
from service.rules.schema import RULE_KINDS, PriceRuleSpec, RuleSpec, StrictModel, TermsFile, WatchlistFile, suggest
from service.yamlfile import YamlDocument, read_yaml, validate

WATCHLISTS = "watchlists.yaml"
TERMS = "terms.yaml"
IGNORE = "ignore.yaml"
ALERTS = "alerts"
MENTIONED = "mentioned"


class _AlertsFileShape(StrictModel):
    rules: list[dict[str, Any]] = Field(min_length=1)


class _IgnoreFileShape(StrictModel):
    ignore: Any = Field(...)


def ruleset_files(rules_dir: Path) -> list[Path]:
    """The files a ruleset is built from (what the service watches for changes)."""
    rules_dir = Path(rules_dir)
    files = [rules_dir / WATCHLISTS]
    for optional in (TERMS, IGNORE):
        if (rules_dir / optional).exists():
            files.append(rules_dir / optional)
    return files + alert_files(rules_dir)


def alert_files(rules_dir: Path) -> list[Path]:
    folder = Path(rules_dir) / ALERTS
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def watch_ruleset(rules_dir: Path) -> WatchedConfig[Ruleset]:
    """The ruleset of `rules_dir`, reloaded when its files change (the last good one kept)."""
    rules_dir = Path(rules_dir)
    return WatchedConfig("rules", lambda: ruleset_files(rules_dir), lambda: load_ruleset(rules_dir))


def load_ruleset(rules_dir: Path) -> Ruleset:
    """Read, check and compile a rules folder. Raises ConfigError listing every problem."""
    rules_dir = Path(rules_dir)
    problems: list[Problem] = []
    builder = MatcherBuilder()
    watchlists, catalogue = _load_watchlists(rules_dir / WATCHLISTS, builder, problems)
    word_lists = _load_terms(rules_dir / TERMS, builder, problems)
    near_words: dict[int, int] = {}
    ignore = _load_ignore(rules_dir / IGNORE, builder, catalogue, word_lists, near_words, problems, watchlists)
    files = alert_files(rules_dir)
    if not files:
        where = rules_dir / ALERTS
        problems.append(Problem(str(where), None, None, f"no alert rules: put at least one .yaml file of rules in {where}"))
    rules: list[Rule] = []
    price_rules: list[PriceRule] = []
    seen_ids: dict[str, str] = {}
    for path in files:
        rules.extend(
            _load_alerts(
                path, builder, catalogue, watchlists, word_lists, near_words, seen_ids, problems, len(rules), price_rules
            )
        )
    if problems:
        # In reading order, so a person fixes them top to bottom.
        raise ConfigError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0)))
    assert catalogue is not None
    paths = [str(p) for p in ruleset_files(rules_dir)]
    assert watchlists is not None
    frame_words = {
        kind: frozenset(builder.add(phrase_variants(word)) for word in words if word.strip())
        for kind, words in head_words(watchlists.programmes).items()
    }
    return Ruleset(
        builder.build(),
        catalogue,
        rules,
        paths,
        len(files),
        ignore,
        price_rules,
        frames=FrameReader(watchlist_lexicon(watchlists)),
        default_impact=watchlists.default_impact,
        frame_words=frame_words,
    )


def _load_watchlists(
    path: Path, builder: MatcherBuilder, problems: list[Problem]
) -> tuple[WatchlistFile | None, EntityCatalogue | None]:
    try:
        doc = read_yaml(path)
        if not isinstance(doc.data, dict):
            raise ConfigError([doc.problem((), "expected a mapping with context, groups, elements, countries, "
                                           "agencies and default_impact")])
        spec: WatchlistFile = validate(doc, WatchlistFile)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None, None
    found = _watchlist_problems(doc, spec)
    if found:
        problems.extend(found)
        return None, None
    return spec, build_catalogue(spec, builder)


def _watchlist_problems(doc: YamlDocument, spec: WatchlistFile) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for group, group_spec in spec.groups.items():
        for index, ticker in enumerate(group_spec.tickers):
            here = ("groups", group, "tickers", index, "symbol")
            if ticker.symbol in first:
                problems.append(doc.problem(here, f"ticker {ticker.symbol!r} is listed twice (first in {first[ticker.symbol]})"))
            else:
                first[ticker.symbol] = f"group {group}, line {doc.where(here)[0]}"
    for section in ("countries", "agencies"):
        names: dict[str, int] = {}
        for index, entity in enumerate(getattr(spec, section)):
            key = entity.name.lower()
            if key in names:
                problems.append(doc.problem((section, index, "name"), f"{entity.name!r} is listed twice in {section} "
                                            f"(first at line {names[key]})"))
            names.setdefault(key, doc.where((section, index))[0] or 0)
    elements: dict[str, int] = {}
    for category, entries in spec.elements.items():
        for index, entity in enumerate(entries):
            key = entity.name.lower()
            if key in elements:
                problems.append(doc.problem(("elements", category, index), f"element {entity.name!r} is listed twice "
                                            f"(first at line {elements[key]})"))
            elements.setdefault(key, doc.where(("elements", category, index))[0] or 0)
    countries = {c.name for c in spec.countries}
    for section, entries in (("agencies", spec.agencies), ("programmes", spec.programmes)):
        for index, entity in enumerate(entries):
            if entity.country is not None and entity.country not in countries:
                problems.append(doc.problem((section, index, "country"), f"unknown country {entity.country!r}"
                                            f"{suggest(entity.country, sorted(countries))}"))
    targets = _impact_targets(spec)
    for event_type, impact in spec.default_impact.items():
        for target in impact:
            if target not in targets:
                problems.append(doc.problem(("default_impact", event_type, target),
                                            f"unknown watchlist group or ticker {target!r}{suggest(target, sorted(targets))}"))
    return problems


def _impact_targets(spec: WatchlistFile) -> set[str]:
    targets = {MENTIONED, *spec.groups}
    for group_spec in spec.groups.values():
        targets.update(t.symbol for t in group_spec.tickers)
    return targets


def _load_terms(path: Path, builder: MatcherBuilder, problems: list[Problem]) -> dict[str, frozenset[int]] | None:
    """The word lists by name; None when terms.yaml itself is broken (its problems are reported)."""
    if not path.exists():
        return {}
    try:
        doc = read_yaml(path)
        if not isinstance(doc.data, dict):
            raise ConfigError([doc.problem((), "expected a mapping: terms: {name: [phrase, ...]}")])
        spec: TermsFile = validate(doc, TermsFile)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    raw = spec.terms
    resolved: dict[str, frozenset[int]] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> frozenset[int]:
        if name in resolved:
            return resolved[name]
        ids: set[int] = set()
        for index, text in enumerate(raw[name]):
            here = ("terms", name, index)
            text = text.strip()
            if text.startswith("@"):
                other = text[1:]
                if other not in raw:
                    problems.append(doc.problem(here, f"unknown word list {text!r}{suggest(other, sorted(raw))}"))
                elif other in trail:
                    problems.append(doc.problem(here, f"word list {name!r} includes itself through {text!r}"))
                else:
                    ids |= resolve(other, trail + (other,))
                continue
            try:
                ids.add(builder.add(phrase_variants(text)))
            except ValueError as exc:
                problems.append(doc.problem(here, str(exc)))
        resolved[name] = frozenset(ids)
        return resolved[name]

    for name in raw:
        resolve(name, (name,))
    return resolved


def _load_ignore(
    path: Path,
    builder: MatcherBuilder,
    catalogue: EntityCatalogue | None,
    word_lists: dict[str, frozenset[int]] | None,
    near_words: dict[int, int],
    problems: list[Problem],
    watchlists: WatchlistFile | None = None,
) -> Condition | None:
    if not path.exists():
        return None
    try:
        doc = read_yaml(path)
        if not isinstance(doc.data, dict):
            raise ConfigError([doc.problem((), "expected a mapping: `ignore:` and a condition")])
        validate(doc, _IgnoreFileShape)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    parser = ConditionParser(doc, builder, catalogue, word_lists, problems, None, near_words, watchlists)
    return parser.parse(doc.data["ignore"], ("ignore",))


def _load_alerts(
    path: Path,
    builder: MatcherBuilder,
    catalogue: EntityCatalogue | None,
    watchlists: WatchlistFile | None,
    word_lists: dict[str, frozenset[int]] | None,
    near_words: dict[int, int],
    seen_ids: dict[str, str],
    problems: list[Problem],
    first_order: int,
    price_rules: list[PriceRule],
) -> list[Rule]:
    """The news rules of one alerts file; its price rules are added to `price_rules`."""
    try:
        doc = read_yaml(path)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return []
    if doc.data is None:
        problems.append(Problem(str(path), None, None, "the file is empty; write `rules:` and at least one rule"))
        return []
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "expected a mapping with a `rules:` list, not a list or text"))
        return []
    try:
        validate(doc, _AlertsFileShape)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return []
    rules: list[Rule] = []
    for index, data in enumerate(doc.data["rules"]):
        loc = ("rules", index)
        rule_id = data.get("id") if isinstance(data.get("id"), str) else None
        kind = data.get("kind", "news") if isinstance(data, dict) else "news"
        if kind not in RULE_KINDS:
            problems.append(doc.problem(loc + ("kind",), f"unknown rule kind {kind!r}{suggest(str(kind), RULE_KINDS)}", rule_id))
            _note_rule_id(doc, loc, rule_id, path, seen_ids, problems)
            continue
        if kind == "price":
            price_rule = _load_price_rule(doc, loc, data, rule_id, watchlists, path, problems)
            _note_rule_id(doc, loc, rule_id, path, seen_ids, problems)
            if price_rule is not None:
                price_rules.append(price_rule)
            continue
        spec: RuleSpec | None = None
        try:
            spec = validate(doc, RuleSpec, data=data, base_loc=loc, rule_id_of=lambda _loc, r=rule_id: r)
        except ConfigError as exc:
            problems.extend(exc.problems)
        _note_rule_id(doc, loc, rule_id, path, seen_ids, problems)
        if watchlists is not None and isinstance(data.get("impact"), dict):
            targets = _impact_targets(watchlists)
            for target in data["impact"]:
                if target not in targets:
                    problems.append(doc.problem(loc + ("impact", target), f"unknown watchlist group or ticker "
                                                f"{target!r}{suggest(str(target), sorted(targets))}", rule_id))
        condition: Condition | None = None
        if "match" in data:
            parser = ConditionParser(doc, builder, catalogue, word_lists, problems, rule_id, near_words, watchlists)
            condition = parser.parse(data["match"], loc + ("match",))
        if spec is None or condition is None or watchlists is None:
            continue
        rule = _compile_rule(doc, loc, spec, condition, watchlists, problems, first_order + len(rules), path)
        if rule is not None:
            rules.append(rule)
    return rules


def _note_rule_id(
    doc: YamlDocument, loc: tuple, rule_id: str | None, path: Path, seen_ids: dict[str, str], problems: list[Problem]
) -> None:
    """Rule ids are unique across every file and both kinds of rule."""
    if rule_id is None:
        return
    where = f"{path}:{doc.where(loc + ('id',))[0]}"
    if rule_id in seen_ids:
        problems.append(doc.problem(loc + ("id",), f"rule id {rule_id!r} is used twice (first at {seen_ids[rule_id]})", rule_id))
    else:
        seen_ids[rule_id] = where


#: What a price rule tests; exactly one per rule.
_PRICE_CHECKS = ("move", "gap", "volume")


def _load_price_rule(
    doc: YamlDocument,
    loc: tuple,
    data: dict[str, Any],
    rule_id: str | None,
    watchlists: WatchlistFile | None,
    path: Path,
    problems: list[Problem],
) -> PriceRule | None:
    """Check and compile one `kind: price` rule; every problem located, None if any."""
    found: list[Problem] = []
    spec: PriceRuleSpec | None = None
    if "match" in data:
        found.append(doc.problem(loc + ("match",), "a price rule has no `match`: it tests prices with one of "
                                 "`move`, `gap` or `volume` (and `after_news` for news first)", rule_id))
        data = {k: v for k, v in data.items() if k != "match"}
    try:
        spec = validate(doc, PriceRuleSpec, data=data, base_loc=loc, rule_id_of=lambda _loc, r=rule_id: r)
    except ConfigError as exc:
        found.extend(exc.problems)
    tickers: list[str] = []
    if watchlists is not None and isinstance(data.get("tickers"), list):
        targets = {*watchlists.groups, *(t.symbol for g in watchlists.groups.values() for t in g.tickers)}
        for index, target in enumerate(data["tickers"]):
            if target in watchlists.groups:
                tickers.extend(t.symbol for t in watchlists.groups[target].tickers)
            elif target in targets:
                tickers.append(target)
            else:
                found.append(doc.problem(loc + ("tickers", index), f"unknown watchlist group or ticker "
                                         f"{target!r}{suggest(str(target), sorted(targets))}; price rules watch "
                                         "the tickers of watchlists.yaml", rule_id))
    if spec is not None:
        checks = [name for name in _PRICE_CHECKS if getattr(spec, name) is not None]
        if len(checks) != 1:
            what = "none" if not checks else " and ".join(f"`{c}`" for c in checks)
            found.append(doc.problem(loc, f"a price rule tests exactly one of `move`, `gap` or `volume`; "
                                     f"this one has {what}", rule_id))
        elif spec.after_news is not None and checks[0] != "move":
            found.append(doc.problem(loc + ("after_news",), f"`after_news` goes with `move` (a move after the "
                                     f"news), not `{checks[0]}`", rule_id))
        elif spec.move is not None and spec.after_news is not None and spec.move.within is not None:
            found.append(doc.problem(loc + ("move", "within"), "in a rule with `after_news` the move is measured "
                                     "from the news: give the time allowed in `after_news.within` only", rule_id))
        elif spec.move is not None and spec.after_news is None and spec.move.within is None:
            found.append(doc.problem(loc + ("move",), "missing required key 'within': the window the move must "
                                     "happen in, like 1h or 30m", rule_id))
    problems.extend(found)
    if found or spec is None or watchlists is None or not spec.enabled:
        return None
    check = next(name for name in _PRICE_CHECKS if getattr(spec, name) is not None)
    condition = getattr(spec, check)
    return PriceRule(
        id=spec.id,
        description=spec.description,
        where=f"{path}:{doc.where(loc)[0]}",
        tickers=tuple(dict.fromkeys(tickers)),
        check=check,
        threshold=condition.at_least,
        direction=getattr(condition, "direction", "either"),
        severity=spec.severity,
        channel=spec.channel,
        throttle=spec.throttle,
        window=timedelta(seconds=spec.move.within) if spec.move is not None and spec.move.within else None,
        lookback=spec.volume.lookback if spec.volume is not None else 20,
        after_news=NewsTrigger(frozenset(spec.after_news.event_types), timedelta(seconds=spec.after_news.within))
        if spec.after_news is not None
        else None,
    )


def _compile_rule(
    doc: YamlDocument,
    loc: tuple,
    spec: RuleSpec,
    condition: Condition,
    watchlists: WatchlistFile,
    problems: list[Problem],
    order: int,
    path: Path,
) -> Rule | None:
    impact = spec.impact
    if impact is None:
        impact = {}
        for event_type in spec.event_types:
            for target, direction in watchlists.default_impact.get(event_type, {}).items():
                impact.setdefault(target, direction)
    targets = _impact_targets(watchlists)
    fixed: dict[str, str] = {}
    named: dict[str, str] = {}
    ok = True
    for target, direction in impact.items():
        if target not in targets:
            ok = False  # reported with the rule's other problems
        elif target in watchlists.groups:
            for ticker in watchlists.groups[target].tickers:
                fixed.setdefault(ticker.symbol, direction)
        elif target != MENTIONED:
            named[target] = direction
    if not ok or not spec.enabled:
        return None
    fixed.update(named)
    return Rule(
        id=spec.id,
        description=spec.description,
        order=order,
        where=f"{path}:{doc.where(loc)[0]}",
        condition=condition,
        event_types=tuple(spec.event_types),
        severity=spec.severity,
        min_score=spec.min_score,
        channel=spec.channel,
        throttle=spec.throttle,
        fixed_impact=fixed,
        mentioned_impact=impact.get(MENTIONED),
        named_tickers=frozenset(named),
        positive_phrases=_positive_phrases(condition),
        reads_frames=_reads_frames(condition),
    )


def _reads_frames(condition: Condition) -> bool:
    if isinstance(condition, FrameTest):
        return True
    if isinstance(condition, (AllOf, AnyOf)):
        return any(_reads_frames(item) for item in condition.items)
    return False


def _positive_phrases(condition: Condition) -> frozenset[int]:
    if isinstance(condition, Phrases):
        return condition.ids
    if isinstance(condition, Near):
        return condition.left | condition.right
    if isinstance(condition, Mentions):
        return condition.alias_phrases
    if isinstance(condition, (AllOf, AnyOf)):
        return frozenset().union(*(_positive_phrases(item) for item in condition.items))
    return frozenset()
