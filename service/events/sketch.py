"""A report's text as a MinHash sketch, and the LSH band keys that find its near duplicates.

Resemblance is the Jaccard index of two reports' word pairs (Broder). A MinHash sketch of 64
values estimates it from 256 bytes per report, and cutting the sketch into 21 bands of 3 values
gives keys that two reports share with probability 1 - (1 - s^3)^21: 0.94 at a resemblance of
0.5, 0.99 at 0.6, 0.16 at 0.2. The keys are indexed in the database, so the reports that may be
near duplicates of a new one are found by a lookup, not by comparing it with every stored
report; the sketch then estimates each candidate's resemblance.

A 64-bit SimHash with Hamming distance <= 3 was measured first and dropped: it suits full pages,
but on a headline and a two-line summary one edited word moves it by 3 to 10 bits.

The MinHash is datasketch's (2.x) "affine32" scheme, written out here because importing datasketch
loads SciPy for its LSH classes (about 55 MB resident in every process that sketches) and we use
none of them: our bands live in the database. Stored sketches are compared with new ones, so the
values must never change: tests/unit/test_sketch.py checks them byte for byte against datasketch
and against values pinned in the test.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

#: Shingle length in words; pairs keep a one-word edit in a short summary from mattering much.
SHINGLE_WORDS = 2
#: Values per sketch, and how they are cut into bands for the index.
PERMUTATIONS = 64
BANDS = 21
ROWS = 3
#: Fixed, so sketches stored by one process compare with those of every other process.
SEED = 20251009
#: datasketch's name for the permutation scheme below (its MinHash(seed=SEED, scheme=SCHEME)).
SCHEME = "affine32"

_WORD = re.compile(r"\w+")
#: MurmurHash3's 32-bit finalizer: (shift, multiplier, shift, multiplier, shift).
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The multipliers `a` (odd, so h -> a*h + b mod 2^32 is a bijection) and offsets `b` of the
    permutations, drawn from the seed as datasketch draws them. NumPy keeps RandomState's stream
    fixed across releases (NEP 19) for exactly this: reproducing stored results."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, PERMUTATIONS, dtype=np.uint32)
    return a, b


def _minhash(items: list[bytes]) -> np.ndarray:
    """The MinHash values of a non-empty set of byte strings: per permutation, the least image."""
    # Each item's hash is the first 4 bytes of its SHA-1, little-endian (datasketch's sha1_hash32).
    digests = b"".join(hashlib.sha1(item).digest()[:4] for item in items)
    hashes = np.frombuffer(digests, dtype="<u4").astype(np.uint32)
    s1, m1, s2, m2, s3 = _FMIX32
    # Mixed once with the finalizer (a bijection that spreads structured inputs); uint32 array
    # arithmetic wraps, which is the intended arithmetic modulo 2^32.
    hashes = hashes ^ (hashes >> s1)
    hashes = hashes * m1
    hashes = hashes ^ (hashes >> s2)
    hashes = hashes * m2
    hashes = hashes ^ (hashes >> s3)
    a, b = _permutations()
    return (hashes[:, np.newaxis] * a + b).min(axis=0)


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


@dataclass(frozen=True, slots=True)
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
    values = _minhash([" ".join(pair).encode("utf-8") for pair in pairs])
    return Sketch(values.astype("<u4").tobytes())


def index_key(kind: bytes, value: bytes) -> int:
    """A stable signed 64-bit key for the story index: the same in every process and database."""
    digest = hashlib.blake2b(value, digest_size=8, person=kind.ljust(16, b"\0")[:16]).digest()
    return int.from_bytes(digest, "big", signed=True)
