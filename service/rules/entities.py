"""Who and what an article names: watchlist companies, elements, countries and agencies.

Every name and alias is a phrase in the ruleset's one automaton; this module knows which phrase
stands for which entity, which names count only in context ("Mountain Pass", "MP"), and how
prominent a ticker is in an article (its relevance, 0-100).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from service.rules.phrases import MatcherBuilder, lower, phrase_variants
from service.rules.schema import NamedEntitySpec, WatchlistFile

ENTITY_KINDS: Final = ("ticker", "group", "element", "country", "agency")

#: Exchange prefixes under which a short code is surely a ticker ("NYSE: MP", "ASX:LYC").
_EXCHANGES: Final = r"NYSE(?: American)?|NASDAQ|Nasdaq|ASX|TSXV?|HKEX|HKG|SSE|SZSE|SHA|SHE|OTC(?:QX|QB)?|LSE|AIM"


@dataclass(frozen=True)
class Entity:
    kind: str  # ticker | element | country | agency
    name: str  # the symbol for tickers, else the canonical name
    category: str | None = None  # a ticker's watchlist group, an element's category, an agency's country
    label: str = ""  # the company name of a ticker


@dataclass(frozen=True)
class AliasUse:
    """How one phrase names one entity."""

    entity: int
    #: Counts only when the article also has a context word (or, for codes, a ticker form).
    ambiguous: bool
    #: For ticker codes: "(MP)", "$MP" or "NYSE: MP" make even an ambiguous code count.
    ticker_form: re.Pattern | None = None
    #: One-letter codes (F) count only in a ticker form.
    ticker_form_only: bool = False
    #: Names a watchlist ticker (whose mentions are counted for relevance).
    ticker: bool = False
    #: Phrase ids of the ticker's `not_in` phrases: a mention inside one does not count.
    false_friends: frozenset[int] = frozenset()


@dataclass
class EntityCatalogue:
    """Every entity of the watchlists file, and the phrases that name each of them."""

    entities: list[Entity] = field(default_factory=list)
    by_name: dict[tuple[str, str], int] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    element_categories: dict[str, list[int]] = field(default_factory=dict)
    #: phrase id -> the entities it names.
    aliases: dict[int, tuple[AliasUse, ...]] = field(default_factory=dict)
    #: entity id -> every phrase id naming it (for rule pre-filtering).
    phrases_of: dict[int, list[int]] = field(default_factory=dict)
    context: frozenset[int] = frozenset()
    #: SEC CIK (ten digits) -> watchlist ticker.
    ciks: dict[str, str] = field(default_factory=dict)

    def ids_of_kind(self, kind: str) -> list[int]:
        return [i for i, e in enumerate(self.entities) if e.kind == kind]

    def find(self, kind: str, name: str) -> int | None:
        return self.by_name.get((kind, lower(name)))

    def names_of_kind(self, kind: str) -> list[str]:
        return [e.name for e in self.entities if e.kind == kind]

    @property
    def tickers(self) -> list[str]:
        return [e.name for e in self.entities if e.kind == "ticker"]


def build_catalogue(spec: WatchlistFile, builder: MatcherBuilder) -> EntityCatalogue:
    """Register every entity's names with the matcher and return the catalogue."""
    catalogue = EntityCatalogue()
    uses: dict[int, list[AliasUse]] = {}

    def add_entity(entity: Entity) -> int:
        catalogue.entities.append(entity)
        index = len(catalogue.entities) - 1
        catalogue.by_name[(entity.kind, lower(entity.name))] = index
        catalogue.phrases_of[index] = []
        return index

    def add_alias(
        index: int, text: str, *, ambiguous: bool = False, code: str | None = None,
        false_friends: frozenset[int] = frozenset(),
    ) -> None:
        phrase_id = builder.add(phrase_variants(text, inflect=False))
        form = None
        form_only = False
        if code is not None:
            form = re.compile(rf"(?:\(\s*|\$|\b(?:{_EXCHANGES})\s*:\s*){re.escape(code)}(?![^\W_])")
            form_only = len(code) == 1
        is_ticker = catalogue.entities[index].kind == "ticker"
        uses.setdefault(phrase_id, []).append(AliasUse(index, ambiguous, form, form_only, is_ticker, false_friends))
        catalogue.phrases_of[index].append(phrase_id)

    for group, group_spec in spec.groups.items():
        catalogue.groups[group] = [t.symbol for t in group_spec.tickers]
        for ticker in group_spec.tickers:
            index = add_entity(Entity("ticker", ticker.symbol, group, ticker.name))
            if ticker.cik:
                catalogue.ciks[ticker.cik.zfill(10)] = ticker.symbol
            codes = ticker_codes(ticker.symbol)
            friends = frozenset(builder.add(phrase_variants(text, inflect=False)) for text in ticker.not_in)
            for text in (ticker.name, *ticker.aliases):
                add_alias(index, text, false_friends=friends)
            for text in ticker.ambiguous:
                if text not in codes:
                    add_alias(index, text, ambiguous=True, false_friends=friends)
            for code in codes:
                ambiguous = code_is_ambiguous(code) or code in ticker.ambiguous
                add_alias(index, code, ambiguous=ambiguous, code=code, false_friends=friends)
    for category, elements in spec.elements.items():
        catalogue.element_categories[category] = []
        for element in elements:
            index = _add_named(add_entity, add_alias, "element", element, category)
            catalogue.element_categories[category].append(index)
    for country in spec.countries:
        _add_named(add_entity, add_alias, "country", country, None)
    for agency in spec.agencies:
        # An agency's category is the country it acts for, if any.
        _add_named(add_entity, add_alias, "agency", agency, getattr(agency, "country", None))
    catalogue.aliases = {pid: tuple(u) for pid, u in uses.items()}
    catalogue.context = frozenset(builder.add(phrase_variants(text)) for text in spec.context)
    return catalogue


def _add_named(add_entity, add_alias, kind: str, spec: NamedEntitySpec, category: str | None) -> int:
    index = add_entity(Entity(kind, spec.name, category, spec.name))
    for text in (spec.name, *spec.aliases):
        add_alias(index, text)
    for text in spec.ambiguous:
        add_alias(index, text, ambiguous=True)
    return index


def ticker_codes(symbol: str) -> list[str]:
    """How a Yahoo symbol appears in news: 'LYC.AX' as 'LYC.AX' and 'LYC', '600111.SS' as '600111'."""
    base = symbol.split(".", 1)[0]
    return [symbol, base] if base != symbol else [symbol]


def code_is_ambiguous(code: str) -> bool:
    """Two-letter codes (MP, GM) and short numbers are words or figures too; they need context."""
    if "." in code:
        return False
    if code.isdigit():
        return len(code) < 6
    return len(code) <= 2


def relevance(first_segment: int, count: int) -> int:
    """0-100: a headline mention is prominent (100); the first sentence next; the body least.

    Each further mention adds 10, up to 85 for the first sentence and 70 for the body, so only
    a headline mention or a lead with repeated mentions reaches the "significant" 75.
    """
    if first_segment == 0:
        return 100
    if first_segment == 1:
        return min(85, 55 + 10 * (count - 1))
    return min(70, 30 + 10 * (count - 1))
