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
    ],
)
def test_split_lead(summary, lead):
    """The first sentence ends at a full stop before a capital, not after an abbreviation; a
    first sentence of under six words runs on to the next."""
    first, rest = split_lead(summary)
    assert first == lead
    assert (first + " " + rest).strip() == summary.strip()
