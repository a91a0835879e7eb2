"""When two entries under one link are one article (a copy) and when they are two (a listing page)."""

import pytest

from service.store.articles import same_article

TEXT = "Beijing adds gallium and germanium to its export licence list from August, the ministry said."


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        # Copies: the same headline, or the outlet's name appended, or an edited headline over one text.
        (("China curbs gallium exports", TEXT), ("China curbs gallium exports", "Short teaser."), True),
        (("China curbs gallium exports", TEXT), ("CHINA CURBS GALLIUM EXPORTS!", TEXT), True),
        (("China curbs gallium exports", TEXT), ("China curbs gallium exports - Reuters", "Other words."), True),
        (("China curbs gallium exports", TEXT), ("Beijing restricts two chip metals", TEXT), True),
        # Items of one listing page: different headlines over different texts.
        (("China curbs gallium exports", TEXT), ("Ministry suspends antimony export ban", "The ban is paused for a year."), False),
        (("Notice No. 1", "On tungsten licences."), ("Notice No. 12", "On graphite licences."), False),
        # A short headline that happens to begin another is not the same headline.
        (("China", "First item text here."), ("China suspends antimony ban", "Second item text."), False),
    ],
)
def test_same_article(first, second, same):
    assert same_article(*first, *second) is same
    assert same_article(*second, *first) is same
