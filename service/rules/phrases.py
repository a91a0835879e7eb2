"""Phrases as rules write them -> one Aho-Corasick automaton that finds all of them in one pass.

Text is normalised to lower-case words separated by single spaces and padded with a space at
each end, and every phrase variant is stored the same way (" export controls "), so a match in
the automaton is always a match of whole words. Hyphens, apostrophes and other punctuation become
spaces on both sides: "rare-earth" matches "rare earth", "China's" matches "China".
"""

from __future__ import annotations

import importlib
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any, Final

import ahocorasick

def _c_module() -> Any:
    """`_scanner.c`, built with the compiled engine (service/native.py): the phrase scan and the
    spacing of ASCII text in C. None without a build, or with the engine run as Python: then
    pyahocorasick and the Python below do the same."""
    try:
        return importlib.import_module("service.rules._scanner")
    except ImportError:
        return None


_C: Final[Any] = _c_module()
_CScanner: Final[Any] = _C.Scanner if _C is not None else None
#: squeeze(text, table): an ASCII text through a byte table, single-spaced and padded (None
#: when not ASCII); see `normalise`.
squeeze: Final[Any] = _C.squeeze if _C is not None else None

# Everything that separates words. Mapping "โ" (U+0E42) too keeps the lossy cp874 mojibake that
# ftfy cannot repair ("Trumpโs") from gluing words together when the parser's repair did not run.
_SEPARATORS: Final = string.punctuation + "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2010\u2011\u2012\u2013\u2014\u2015\u2026\u00a0\u00ab\u00bb\u00b7\u2022\u0e42\u0e22"
_TO_SPACE: Final = str.maketrans({c: " " for c in _SEPARATORS})
# The same as one regex: str.translate looks every character up in a dict, which is ~4x slower.
_SEPARATOR: Final = re.compile("[" + re.escape(_SEPARATORS) + "]")
# The same for ASCII text, as a byte table that also lower-cases (bytes.translate is much faster)
# and turns what str.split() takes for whitespace into spaces too.
_ASCII_TABLE: Final = bytes(
    32 if chr(b) in _SEPARATORS or (b < 128 and chr(b).isspace()) else (b + 32 if 65 <= b <= 90 else b)
    for b in range(256)
)
_WORD: Final = re.compile(r"[^\W_]+")
_VOWELS: Final = frozenset("aeiou")
#: Words written in capitals of two to five letters (US, EU, BIS, MP) match only in capitals.
_ACRONYM: Final = re.compile(r"^[A-Z]{2,5}$")

#: str.lower reached through Python, not as a primitive of compiled code: mypyc's own lower-casing
#: of non-ASCII text misses the final sigma ("ΟΔΟΣ" must become "οδος", as CPython makes it).
_str_lower: Final = str.lower


def lower(text: str) -> str:
    """`text.lower()` exactly as CPython does it, compiled or not. The modules that service.native
    compiles lower-case only through this."""
    return text.lower() if text.isascii() else _str_lower(text)


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, with a space at each end."""
    if text.isascii():
        if squeeze is not None:
            return squeeze(text, _ASCII_TABLE)  # the lines below, in C
        # Every separator is a space now: collapsing runs of spaces gives the same words,
        # single-spaced and padded, as split() and join() (cheaper for typical texts).
        spaced = " " + text.encode().translate(_ASCII_TABLE).decode() + " "
        while "  " in spaced:
            spaced = spaced.replace("  ", " ")
        return spaced if len(spaced) > 1 else "  "
    return " " + " ".join(_SEPARATOR.sub(" ", lower(text)).split()) + " "


def distinct(items: Iterable[str]) -> tuple[str, ...]:
    """The items in the order they first come, each once: `tuple(dict.fromkeys(items))`, which
    compiled code reaches through the dict type's slow path (a sixth of reading a clause's
    frame, measured). A handful of names is checked against the list kept; more, against a set."""
    kept: list[str] = []
    seen: set[str] | None = None
    for item in items:
        if seen is not None:
            if item in seen:
                continue
            seen.add(item)
        elif item in kept:
            continue
        elif len(kept) >= 8:
            seen = set(kept)
            seen.add(item)
        kept.append(item)
    return tuple(kept)


def words_of(phrase: str) -> list[str]:
    """The words of a phrase as written (case kept), split the way `normalise` splits text."""
    return phrase.translate(_TO_SPACE).split()


def is_acronym(word: str) -> bool:
    return bool(_ACRONYM.match(word))


def word_forms(word: str) -> set[str]:
    """A lower-case word and the inflections a reader expects to match it (tariff -> tariffs).

    Plurals and -ed/-ing forms of the base; a plural written in the rule also matches its
    singular. Short words (under four letters, such as "us"), numbers and acronyms stay exact.
    """
    if len(word) < 3 or not word.isalpha():
        return {word}
    # A word written as a plural is a noun: it matches its singular, never verb forms
    # ("units" must not match "united").
    if word.endswith("ies") and len(word) > 4:
        return {word, word[:-3] + "y"}
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return {word, word[:-2]}
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return {word, word[:-1]}
    return {word} | _inflect(word)


def _inflect(base: str) -> set[str]:
    out: set[str] = set()
    last, before = base[-1], base[-2]
    if last == "y" and before not in _VOWELS:
        stem = base[:-1]
        out.update({stem + "ies", stem + "ied", base + "ing"})
    elif base.endswith(("s", "x", "z", "ch", "sh")):
        out.update({base + "es", base + "ed", base + "ing"})
    elif last == "e":
        out.update({base + "s", base + "d", base[:-1] + "ing"})
        if base.endswith("ee"):
            out.add(base + "ing")
    else:
        out.update({base + "s", base + "ed", base + "ing"})
        if _ends_consonant_vowel_consonant(base):
            # ban -> banned, control -> controlled; both spellings are kept (target -> targeted).
            doubled = base + last
            out.update({doubled + "ed", doubled + "ing"})
    return out


def _ends_consonant_vowel_consonant(word: str) -> bool:
    if len(word) < 3:
        return False
    a, b, c = word[-3], word[-2], word[-1]
    return a not in _VOWELS and b in _VOWELS and c not in _VOWELS and c not in "wxy"


@dataclass(frozen=True)
class Phrase:
    """One phrase of a rule or a watchlist, as the matcher knows it."""

    #: The phrase as a person wrote it (shown in `matched`).
    text: str
    #: Normalised variants that count as this phrase (" tariff ", " tariffs ").
    keys: frozenset[str]
    #: Positions of words that must appear in capitals (US in "US tariff"), or empty.
    capitals: tuple[int, ...] = ()

    @property
    def words(self) -> int:
        return len(words_of(self.text))


# Loading a ruleset compiles the same few thousand words again for each frame condition, and a
# service reloads its rules when a file changes: each phrase is compiled once per process (a
# Phrase is immutable). The bound keeps hostile rule files from growing it without end.
@lru_cache(maxsize=65536)
def phrase_variants(text: str, *, inflect: bool = True) -> Phrase:
    """Compile one phrase. A leading "=" turns inflections off ("=rule" does not match "ruling")."""
    raw = text.strip()
    if raw.startswith("="):
        raw, inflect = raw[1:].strip(), False
    words = words_of(raw)
    if not words:
        raise ValueError(f"phrase {text!r} has no words in it")
    capitals = tuple(i for i, w in enumerate(words) if is_acronym(w))
    lowered = [lower(w) for w in words]
    head, last = lowered[:-1], lowered[-1]
    forms = word_forms(last) if inflect and (len(words) - 1) not in capitals else {last}
    keys = frozenset(" " + " ".join([*head, form]) + " " for form in forms)
    return Phrase(raw, keys, capitals)


@dataclass
class MatcherBuilder:
    """Collects every phrase of a ruleset, then builds the one automaton that finds them all."""

    phrases: list[Phrase] = field(default_factory=list)
    _ids: dict[tuple[frozenset[str], tuple[int, ...], str], int] = field(default_factory=dict)

    def add(self, phrase: Phrase) -> int:
        """Register a phrase; the same variants in the same case rule share one id."""
        marker = lower(phrase.text) if phrase.capitals else ""
        identity = (phrase.keys, phrase.capitals, marker)
        found = self._ids.get(identity)
        if found is not None:
            return found
        self.phrases.append(phrase)
        self._ids[identity] = len(self.phrases) - 1
        return len(self.phrases) - 1

    def build(self) -> PhraseMatcher:
        return PhraseMatcher(self.phrases)


class PhraseMatcher:
    """All phrases of a ruleset in one automaton: one pass over the text finds every phrase."""

    def __init__(self, phrases: Iterable[Phrase]):
        self.phrases = list(phrases)
        by_key: dict[str, list[int]] = {}
        checks: dict[str, list[tuple[int, re.Pattern, str]]] = {}
        for index, phrase in enumerate(self.phrases):
            for key in phrase.keys:
                if phrase.capitals:
                    # The capitalised word itself: when the text lacks it, no regex is needed.
                    needle = words_of(phrase.text)[phrase.capitals[0]]
                    checks.setdefault(key, []).append((index, _capitals_pattern(phrase, key), needle))
                else:
                    by_key.setdefault(key, []).append(index)
        self.keys: list[str] = sorted(set(by_key) | set(checks))
        #: Per key: phrases matched outright, and phrases that first need a check of capitals.
        self.plain: list[tuple[int, ...]] = [tuple(by_key.get(k, ())) for k in self.keys]
        self.checked: list[tuple[tuple[int, re.Pattern, str], ...]] = [tuple(checks.get(k, ())) for k in self.keys]
        #: Per phrase, its keys longest first (to show the form an article used).
        self.phrase_keys: list[tuple[str, ...]] = [tuple(sorted(p.keys, key=len, reverse=True)) for p in self.phrases]
        #: Every key -> the phrases it counts for outright, plus (a negative number) its entry in
        #: `checks` when phrases with capitals need a look at the original text first. Tuples of
        #: plain integers let one C-level `set(chain.from_iterable(...))` turn a text's matches
        #: into phrase ids with no Python step per match.
        self.checks: dict[int, tuple[tuple[int, re.Pattern, str], ...]] = {}
        values: list[tuple[int, ...]] = []
        for key_id in range(len(self.keys)):
            value = self.plain[key_id]
            if self.checked[key_id]:
                check_id = -len(self.checks) - 1
                self.checks[check_id] = self.checked[key_id]
                value += (check_id,)
            values.append(value)
        self.check_ids = frozenset(self.checks)
        #: Per key, what finding it yields: its phrase ids, and its check id (below zero).
        self.values = values
        #: text -> the values of every key found in it (`set(values)` of the keys in the text).
        self.find: Callable[[str], set[int]] = (
            _CScanner(self.keys, values).find if _CScanner is not None else _automaton_find(self.keys, values)
        )

    def __len__(self) -> int:
        return len(self.phrases)


def _automaton_find(keys: list[str], values: list[tuple[int, ...]]) -> Callable[[str], set[int]]:
    """`PhraseMatcher.find` with pyahocorasick: the keys' value tuples, flattened by
    `set(chain.from_iterable(...))` in C, with no Python step per match."""
    automaton = _automaton(keys, values)
    if automaton is None:
        return _find_nothing
    search = automaton.iter

    def find(text: str) -> set[int]:
        return set(chain.from_iterable(map(_second, search(text))))

    return find


def _find_nothing(text: str) -> set[int]:
    return set()


def matcher_of(keys: list[str], payloads: list[Any]) -> Callable[[str], list[tuple[int, Any]]]:
    """text -> [(end, payload)] for every occurrence of every key (`end`: the index of its last
    character), by end and then the longest key first: the C scanner's `matches`, or
    pyahocorasick's iter() without a build."""
    if _CScanner is not None:
        return _CScanner(keys, [()] * len(keys), payloads).matches  # type: ignore[no-any-return]
    return _automaton_matches(keys, payloads)


def rule_picker(clauses: list[tuple[tuple[int, ...], ...]], phrases: int) -> Callable[[set[int]], list[int]] | None:
    """found -> the rules (indexes, in order) all of whose clauses (per rule, tuples of phrase
    ids below `phrases`) have a phrase in `found`, done in C; None without a build."""
    if _C is None:
        return None
    return _C.Picker(clauses, phrases).pick  # type: ignore[no-any-return]


def _automaton_matches(keys: list[str], payloads: list[Any]) -> Callable[[str], list[tuple[int, Any]]]:
    automaton = _automaton(keys, payloads)
    if automaton is None:
        return _match_nothing
    search = automaton.iter

    def matches(text: str) -> list[tuple[int, Any]]:
        return list(search(text))

    return matches


def _automaton(keys: list[str], values: list[Any]) -> Any:
    """A pyahocorasick automaton of the keys, each with its value; None when there are no keys
    (an empty automaton cannot be searched)."""
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, value in zip(keys, values):
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


def _match_nothing(text: str) -> list[tuple[int, Any]]:
    return []


_second: Final = itemgetter(1)


def _capitals_pattern(phrase: Phrase, key: str) -> re.Pattern:
    """A case-aware regex for one variant: capitals where the phrase had them, any case elsewhere."""
    key_words = key.split()
    written = words_of(phrase.text)
    parts = []
    for index, word in enumerate(key_words):
        if index in phrase.capitals:
            parts.append(re.escape(written[index]))
        else:
            parts.append(f"(?i:{re.escape(word)})")
    # The first word comes first and the "no letter or digit before it" check right after it:
    # the same matches as r"(?<![^\W_])" + words, but `re` can then jump to the first word's
    # occurrences instead of trying every position of the text (about 20x faster).
    first = parts[0]
    return re.compile(first + rf"(?<![^\W_]{first})" + "".join(r"[\W_]+" + part for part in parts[1:]) + r"(?![^\W_])")


# A sentence ends at . ! or ? (and any closing quote) followed by a space and a capital or digit.
_SENTENCE_END: Final = re.compile(r"[.!?][\"'\u2019\u201d)]*\s+(?=[\"'\u2018\u201c(]?[A-Z0-9])")
_ABBREVIATIONS: Final = frozenset(
    "no nos inc corp co ltd plc mr mrs ms dr st jr sr gen gov sen rep dept est approx vs "
    "jan feb mar apr jun jul aug sep sept oct nov dec fig".split()
)


#: A first sentence shorter than this ("Quick notes after today's readouts.") says nothing
#: yet: the lead runs on to the next sentence.
MIN_LEAD_WORDS: Final = 6


def split_lead(summary: str) -> tuple[str, str]:
    """The first sentence of an article's text, and the rest.

    Abbreviations do not end a sentence: "U.S." (single capitals), "No. 61", "Corp.", "Nov. 10".
    """
    for match in _SENTENCE_END.finditer(summary):
        start = match.start()
        # The letters and digits right before the stop. Only one letter or an abbreviation
        # (at most 6 characters, and lower() never shortens) matters, so 7 characters back
        # decide as well as the whole word would.
        at = start
        while at > start - 7 and at > 0 and summary[at - 1].isalnum():
            at -= 1
        word = summary[at:start]
        if (len(word) == 1 and word.isalpha()) or lower(word) in _ABBREVIATIONS:
            continue
        # Fewer than MIN_LEAD_WORDS words before the stop (counting stops there).
        if len(summary[:start].split(None, MIN_LEAD_WORDS - 1)) < MIN_LEAD_WORDS:
            continue
        return summary[: match.end()].rstrip(), summary[match.end() :]
    return summary, ""
