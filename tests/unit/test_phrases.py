"""Phrase matching basics: normalisation, inflections, capitals, and where the lead sentence ends."""

import pytest

from service.rules.phrases import normalise, phrase_variants, split_lead, word_forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("China's rare-earth curbs", " china s rare earth curbs "),
        ("  U.S.  tariffs\n on\tChina ", " u s tariffs on china "),
        ("“Magnets” — scarce…", " magnets scarce "),
        ("Trump\u0e42s tariff", " trump s tariff "),
        ("", "  "),
    ],
)
def test_normalise(text, expected):
    """Text becomes lower-case words between single spaces, punctuation and mojibake dashes removed."""
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("tariff", {"tariff", "tariffs", "tariffed", "tariffing"}),
        ("ban", {"ban", "bans", "baned", "baning", "banned", "banning"}),
        ("supply", {"supply", "supplies", "supplied", "supplying"}),
        ("rule", {"rule", "rules", "ruled", "ruling"}),
        ("tariffs", {"tariffs", "tariff"}),
        ("units", {"units", "unit"}),
        ("entities", {"entities", "entity"}),
        ("us", {"us"}),
        ("232", {"232"}),
    ],
)
def test_word_forms(word, expected):
    """A base form gains plural and verb forms; a plural only gains its singular; short words stay exact."""
    assert word_forms(word) == expected


@pytest.mark.parametrize(
    ("phrase", "keys", "capitals"),
    [
        ("export control", {" export control ", " export controls ", " export controled ", " export controling ",
                            " export controlled ", " export controlling "}, ()),
        ("=rule", {" rule "}, ()),
        ("US tariff", {" us tariff ", " us tariffs ", " us tariffed ", " us tariffing "}, (0,)),
        ("MP", {" mp "}, (0,)),
        ("rare-earth", {" rare earth ", " rare earths ", " rare earthed ", " rare earthing "}, ()),
    ],
)
def test_phrase_variants(phrase, keys, capitals):
    """Only the last word is inflected; "=" switches inflection off; short capitals are remembered."""
    compiled = phrase_variants(phrase)
    assert set(compiled.keys) == keys
    assert compiled.capitals == capitals


def test_phrase_without_words_is_refused():
    """A phrase of punctuation only cannot match anything and is an error."""
    with pytest.raises(ValueError, match="no words"):
        phrase_variants("--")


@pytest.mark.parametrize(
    ("summary", "lead"),
    [
        ("China acted on exports of gallium today. Markets fell.", "China acted on exports of gallium today."),
        ("The U.S. Commerce Department acted on Friday. Markets fell.", "The U.S. Commerce Department acted on Friday."),
        ("Announcement No. 61 applies to all exporters now. More text.", "Announcement No. 61 applies to all exporters now."),
        ("MP Materials Corp. signed the deal on Nov. 10. Shares rose.", "MP Materials Corp. signed the deal on Nov. 10."),
        ("Prices rose 4.5% in Shanghai on Monday. Traders cheered.", "Prices rose 4.5% in Shanghai on Monday."),
        ("“It is done and it is final,” he said. The minister left.", "“It is done and it is final,” he said."),
        ("Quick notes after the call. China pauses the package. More.", "Quick notes after the call. China pauses the package."),
        ("One sentence only", "One sentence only"),
        # The word before the stop is its letters and digits, whatever the script; an
        # underscore ends it ("SEC_A." ends in an initial, so no sentence ends there).
        ("Output rose at the Baotou plant in Q³. Prices fell.", "Output rose at the Baotou plant in Q³."),
        ("Shipments resumed from the port of Tianjin É. Then more.", "Shipments resumed from the port of Tianjin É. Then more."),
        ("The filing was made under Rule SEC_A. Shares rose.", "The filing was made under Rule SEC_A. Shares rose."),
        ("Talks opened with the minister of Commerce Dept. Monday came.", "Talks opened with the minister of Commerce Dept. Monday came."),
    ],
)
def test_split_lead(summary, lead):
    """The first sentence ends at a full stop before a capital, not after an abbreviation; a
    first sentence of under six words runs on to the next."""
    first, rest = split_lead(summary)
    assert first == lead
    assert (first + " " + rest).strip() == summary.strip()


def test_capitals_check_matches_like_a_leading_boundary():
    """The capitals regex (first word, then a look back for a letter or digit before it) matches
    exactly where "no letter or digit, then the words" would: it is only written to be fast."""
    import itertools
    import re

    from service.rules.phrases import _capitals_pattern

    texts = [
        "US", "US.", "(US)", "_US", "xUS", "9US", "USA", "US_", "éUS", "US-China", "the US, tariffs",
        "MP Materials", "MP  materials", "MP_materials", "AMP Materials", "MP Materialsx", "mp materials",
        "NYSE:MP materials.", "ÉU US tariffs", "rare EU", "Rare--EU!", "prare EU", "600111.SS", "a600111 SS",
    ]
    texts += [" ".join(pair) for pair in itertools.permutations(texts[:12], 2)]
    for written in ("US", "MP Materials", "rare EU", "US tariff", "600111.SS"):
        phrase = phrase_variants(written)
        for key in phrase.keys:
            fast = _capitals_pattern(phrase, key)
            words = key.split()
            parts = [
                re.escape(words_written) if index in phrase.capitals else f"(?i:{re.escape(word)})"
                for index, (word, words_written) in enumerate(zip(words, written.replace(".", " ").split()))
            ]
            plain = re.compile(r"(?<![^\W_])" + r"[\W_]+".join(parts) + r"(?![^\W_])")
            for text in texts:
                assert bool(fast.search(text)) == bool(plain.search(text)), (written, key, text)


@pytest.mark.parametrize(
    "items",
    [
        [],
        ["a"],
        ["b", "a", "b", "a"],
        list("abcdefgh") + ["a", "i", "h", "j", "i"],  # past the short list: a set takes over
        [str(n % 13) for n in range(200)],
    ],
)
def test_distinct_keeps_first_order_and_drops_repeats(items):
    from service.rules.phrases import distinct

    assert distinct(items) == tuple(dict.fromkeys(items))
    assert distinct(iter(items)) == tuple(dict.fromkeys(items))
