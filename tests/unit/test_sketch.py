"""Our MinHash is datasketch's: the same sketch values, byte for byte, for every text.

Sketches are stored in the database and compared with those of other processes and of later
versions, so the values must never drift. datasketch is a test-only dependency (the `test`
extra): the comparisons with it skip when it is not installed; the pinned values do not.
No corpus text is printed: holdout items are named by their ids only.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable

import pytest

from service.evaluation.corpus import load_corpus
from service.events.sketch import PERMUTATIONS, SCHEME, SEED, shingles, sketch
from tests.corpus.files import CORPUS

#: The sketch of HEADLINE as datasketch 2.0.0 computed it when sketches were first stored.
HEADLINE = "China suspends rare earth export curbs for one year"
HEADLINE_VALUES = bytes.fromhex(
    "feff4755619b6d2138d02e28c96d2c083d3c8726c0ad022887f316024443aa0653f179016dd87815133ac11e"
    "7d0eb50fcc1d6701f98a3d3e72de17203a647c118fdd3201039ba835b729a42653fc5c066cb0e005b12a5107"
    "5419670428cfb5061740c31bba65e523f9020f00602c791153eed2355d39c607243b98080372ec0d211a7e0e"
    "bc983805a69ec8100b3faa368074da0fcc0f8f2a8ae6d6028bd57a0eeb16ce3c2bb3dd03d167b61573f7f105"
    "f270130a9c1dcf04628f1001ecbb0423e7a9bb09334b6f15a3ef513a527d49076f0e7e1138e3be469aaa921a"
    "52e66024fcb8f60a39d2740987339b02c15c35140bbdee0447c66827fa930c621fde8c29"
)
#: A one-word text: a single shingle, so each value is that word's image under one permutation.
ONE_WORD_VALUES = bytes.fromhex(
    "b9baa4384911ebca86db44b4ba30213ece49e413af492188f9e4ff3b133a316c19f5e1047b6b64f1ddbbb32a"
    "9763b722a143d2ca841ae9de733898fc8986a3305e2755cfaef3a885d4679b72cbaa77c84ed4702a7f37cdef"
    "16fee451fd42de9eaef50e0f61293d399653589677ec2fb8dbdfb66a87c50f474e10eaec98de9bd1a36e1972"
    "049f9a20d726b4f46a93091ec8b4ec00b5ced532581ffd821d04457db1333a4f68ce84af29ba2b5be60a0766"
    "c9cdb1cf1bc8dcc499f1ff58eb8720f3acc2fa4bb5dddab9f88397edc4ccb0fb9e26ba5e8aeda2ff1c2c4e08"
    "3cbc03a3bae1edfd0c91573f50113a5fbcc6bb68101629873682c0bda40230f3bd973972"
)

AWKWARD = {
    "empty": "",
    "blank": " \t\n ",
    "punctuation only": "— … !? ¿¡ «»",
    "one word": "one",
    "one word, padded": "  One.  ",
    "two words": "rare earths",
    "three words": "rare earth magnets",
    "repeated word": "rare " * 1_000,
    "repeated pair": "rare earth " * 500,
    "repeated phrase": "export controls on rare earths; " * 300,
    "ligatures and widths": "ﬁrst ﬂoor ＲＡＲＥ ｅａｒｔｈ ²³",
    "accents, composed and not": "café cafe\u0301 naïve nai\u0308ve",
    "casefold": "STRASSE straße İstanbul ΣΊΣΥΦΟΣ",
    "chinese": "商务部 海关总署 公告 2025年 第18号 关于 对部分 中重稀土 相关物项 实施 出口管制",
    "arabic and hebrew": "المعادن النادرة עפרות נדירות",
    "emoji and symbols": "rare 😀 earth ⚡ magnets ™ © 1/2",
    "lone surrogate": "rare\ud800earth magnets",
    "control characters": "rare\x00earth\x1fmagnets\u200bprices",
    "digits and underscores": "No_18 of 2025 ¼ ٣ ٤ 12,500 t",
    "very long, distinct words": " ".join(f"w{n}" for n in range(60_000)),
    "very long summary": ("Beijing added seven heavy rare earths to its export control list. " * 400),
}


@pytest.fixture(scope="module")
def datasketch_values() -> Callable[[str], bytes]:
    """A text's sketch values as datasketch's MinHash computes them for our seed and scheme."""
    datasketch = pytest.importorskip("datasketch")
    permutations = datasketch.MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME).permutations

    def values(text: str) -> bytes:
        pairs = shingles(text)
        if not pairs:
            return b""
        minhash = datasketch.MinHash(num_perm=PERMUTATIONS, permutations=permutations, scheme=SCHEME)
        minhash.update_batch([" ".join(pair).encode("utf-8") for pair in pairs])
        return minhash.hashvalues.astype("<u4").tobytes()

    return values


def test_pinned_sketches_keep_their_values():
    """A headline and a single word sketch to the values stored since sketches were introduced."""
    assert sketch(HEADLINE).values == HEADLINE_VALUES
    assert sketch("one").values == ONE_WORD_VALUES
    assert sketch("  ONE!").values == ONE_WORD_VALUES


@pytest.mark.parametrize("name", AWKWARD)
def test_awkward_texts_sketch_as_datasketch_does(name, datasketch_values):
    """Empty, one-word, repetitive, unicode and very long texts get datasketch's values exactly."""
    text = AWKWARD[name]
    expected = datasketch_values(text)
    assert sketch(text).values == expected
    assert len(expected) in (0, 4 * PERMUTATIONS)


def test_corpus_texts_sketch_as_datasketch_does(datasketch_values):
    """Every labelled item's title, summary, and both as stories join them, as datasketch sketches them."""
    files = sorted(CORPUS.rglob("*.yaml"))
    differing, compared = [], 0
    for path in files:
        for item in load_corpus(path):
            for part, text in (("title", item.title), ("summary", item.summary), ("both", f"{item.title}\n{item.summary}")):
                compared += 1
                if sketch(text).values != datasketch_values(text):
                    differing.append(f"{path.relative_to(CORPUS)} {item.id} {part}")
    assert compared >= 3 * 2_000
    assert differing == [], f"{len(differing)} of {compared} texts differ: {differing[:20]}"


def test_random_texts_of_every_size_sketch_as_datasketch_does(datasketch_values):
    """Texts of 0 to 400 words drawn from a small vocabulary (so shingles repeat) match datasketch."""
    generator = random.Random(SEED)
    vocabulary = "rare earth export controls China magnets dysprosium terbium licence Beijing the of on".split()
    for size in list(range(12)) + [generator.randrange(12, 400) for _ in range(200)]:
        text = " ".join(generator.choice(vocabulary) for _ in range(size))
        assert sketch(text).values == datasketch_values(text), f"{size} words"


def test_sketching_loads_neither_datasketch_nor_scipy():
    """A process that sketches text pays for NumPy only, not for datasketch's SciPy."""
    code = (
        "import sys; from service.events.sketch import sketch; sketch('rare earth export curbs'); "
        "print(sorted({'datasketch', 'scipy'} & {name.split('.')[0] for name in sys.modules}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
