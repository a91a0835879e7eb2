"""A report's text as a MinHash sketch, and the LSH band keys that find its near duplicates.

Resemblance is the Jaccard index of two reports' word pairs (Broder). A MinHash sketch of 64
values estimates it from 256 bytes per report, and cutting the sketch into 21 bands of 3 values
gives keys that two reports share with probability 1 - (1 - s^3)^21: 0.94 at a resemblance of
0.5, 0.99 at 0.6, 0.16 at 0.2. The keys are indexed in the database, so the reports that may be
near duplicates of a new one are found by a lookup, not by comparing it with every stored
report; the sketch then estimates each candidate's resemblance.

A 64-bit SimHash with Hamming distance <= 3 was measured first and dropped: it suits full pages,
but on a headline and a two-line summary one edited word moves it by 3 to 10 bits.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

#: Shingle length in words; pairs keep a one-word edit in a short summary from mattering much.
SHINGLE_WORDS = 2
#: Values per sketch, and how they are cut into bands for the index.
PERMUTATIONS = 64
BANDS = 21
ROWS = 3
#: Fixed, so sketches stored by one process compare with those of every other process.
SEED = 20251009
SCHEME = "affine32"

_WORD = re.compile(r"\w+")


@cache
def _minhash_maker() -> tuple[type[MinHash], object]:
    """datasketch's MinHash and the fixed permutations, imported on first use: the package
    loads SciPy for its LSH classes, a second of every start for a class a sketch never uses."""
    from datasketch import MinHash

    return MinHash, MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME).permutations


def words(text: str) -> list[str]:
    """The text's words, case-folded, with compatibility forms unified ("ﬁ" is "fi")."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """The set of runs of `size` consecutive words (the whole text if shorter)."""
    found = words(text)
    if len(found) <= size:
        return frozenset({tuple(found)}) if found else frozenset()
    return frozenset(tuple(found[i : i + size]) for i in range(len(found) - size + 1))


def resemblance(a: frozenset, b: frozenset) -> float:
    """|a & b| / |a | b|: 1.0 for the same text, 0.0 for nothing shared (or nothing at all)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Sketch:
    """A MinHash sketch of a text's word pairs; `values` is empty for a text with no words."""

    values: bytes

    @property
    def empty(self) -> bool:
        return not self.values

    def resemblance(self, other: Sketch) -> float:
        """The estimated Jaccard index of the two texts' word pairs (0.0 when either is empty)."""
        if self.empty or other.empty or len(self.values) != len(other.values):
            return 0.0
        mine = np.frombuffer(self.values, dtype="<u4")
        theirs = np.frombuffer(other.values, dtype="<u4")
        return float(np.count_nonzero(mine == theirs)) / len(mine)

    def bands(self) -> list[int]:
        """The LSH band keys: signed 64-bit integers (a database BIGINT), one per band."""
        if self.empty:
            return []
        keys = []
        for band in range(BANDS):
            chunk = self.values[band * ROWS * 4 : (band + 1) * ROWS * 4]
            keys.append(index_key(b"band", bytes([band]) + chunk))
        return keys


def sketch(text: str) -> Sketch:
    """The sketch of a headline and summary as one text."""
    pairs = shingles(text)
    if not pairs:
        return Sketch(b"")
    minhash_class, permutations = _minhash_maker()
    minhash = minhash_class(num_perm=PERMUTATIONS, permutations=permutations, scheme=SCHEME)
    minhash.update_batch([" ".join(pair).encode("utf-8") for pair in pairs])
    return Sketch(minhash.hashvalues.astype("<u4").tobytes())


def index_key(kind: bytes, value: bytes) -> int:
    """A stable signed 64-bit key for the story index: the same in every process and database."""
    digest = hashlib.blake2b(value, digest_size=8, person=kind.ljust(16, b"\0")[:16]).digest()
    return int.from_bytes(digest, "big", signed=True)
