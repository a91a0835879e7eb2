"""Official documents recognised by their form: issuer, kind, type, number and 8-K items."""

from __future__ import annotations

import pytest

from service.rules.official import read_official


@pytest.mark.parametrize(
    ("title", "summary", "link", "feed", "source", "expected"),
    [
        (
            "Additions to the Entity List",
            "In this rule, the Bureau of Industry and Security amends the Export Administration Regulations.",
            "https://www.federalregister.gov/documents/2025/03/25/2025-05038/additions-to-the-entity-list",
            "federal-register-bis", "official",
            {"kind": "federal_register", "type": "rule", "agency": "BIS", "country": "United States"},
        ),
        (
            "Further Modifying Reciprocal Tariff Rates To Reflect Ongoing Discussions With China",
            "", "https://www.whitehouse.gov/presidential-actions/2025/08/further-modifying/", "", "official",
            {"kind": "presidential_action", "agency": "White House", "country": "United States"},
        ),
        (
            "Executive Order on Immediate Measures to Increase American Mineral Production",
            "", None, "whitehouse-presidential-actions", "official",
            {"kind": "presidential_action", "type": "executive_order", "country": "United States"},
        ),
        (
            "MOFCOM Announcement No. 70 of 2025 on Suspending the Implementation of Announcements No. 55 to 58",
            "", None, "mofcom-announcements", "official",
            {"kind": "mofcom", "type": "announcement", "number": "70 of 2025", "country": "China", "instrument": "export_control"},
        ),
        (
            # Translations also write the year in brackets.
            "Announcement No. 10 [2025] of MOFCOM and GAC on export controls for tungsten items",
            "", None, "mofcom-announcements", "official",
            {"kind": "mofcom", "type": "announcement", "number": "10 of 2025", "country": "China"},
        ),
        (
            "Announcement of the Customs Tariff Commission of the State Council No. 4 of 2025",
            "", None, "", "official",
            {"kind": "tariff_commission", "number": "4 of 2025", "instrument": "tariff"},
        ),
        (
            "Active Anode Material From China: Preliminary Determination of Sales at Less Than Fair Value",
            "", "https://www.federalregister.gov/documents/2025/07/18/x/active-anode", "", "official",
            {"kind": "federal_register", "instrument": "tariff"},
        ),
        (
            "Learning Resources, Inc. v. Trump", "The Court holds that IEEPA does not authorize tariffs.",
            "https://www.supremecourt.gov/opinions/24pdf/24-1287.pdf", "", "official",
            {"kind": "court", "type": "opinion", "country": "United States"},
        ),
    ],
)
def test_an_official_document_is_known_by_its_form(title, summary, link, feed, source, expected):
    """Link, feed and title tell the issuer, the kind of document and what its measures are."""
    doc = read_official(title, summary, link, feed, source)
    assert doc is not None
    got = {"kind": doc.kind, "type": doc.type, "agency": doc.agency, "country": doc.country,
           "number": doc.number, "instrument": doc.instrument}
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("title", "summary", "link", "items", "cik"),
    [
        ("8-K - MP Materials Corp. / DE (0001801368) (Filer)", "Items 1.01, 3.02 and 7.01", None, ("1.01", "3.02", "7.01"), "0001801368"),
        ("8-K - Current report", "Item 5.07 Submission of Matters to a Vote of Security Holders",
         "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0000101538&type=8-K", ("5.07",), "0000101538"),
        ("MP Materials Corp. - Form 8-K: Entry into a Material Definitive Agreement", "", None, ("1.01",), None),
        ("8-K - Current report", "Regulation FD Disclosure; Other Events; Financial Statements and Exhibits", None,
         ("7.01", "8.01", "9.01"), None),
    ],
)
def test_an_8k_lists_its_items_by_code_or_name_and_its_filer(title, summary, link, items, cik):
    """Items are read from codes ("Item 1.01") or their names ("Regulation FD Disclosure")."""
    doc = read_official(title, summary, link, "sec-edgar-mp-8k", "official")
    assert (doc.kind, doc.items, doc.filer_cik) == ("sec_8k", items, cik)


@pytest.mark.parametrize(
    ("title", "source", "items"),
    [
        ("MP Materials files 8-K: Item 5.07 Submission of Matters to a Vote of Security Holders", "aggregator", ("5.07",)),
        ("USA Rare Earth 8-K filing - Items 1.01 and 7.01", "wire", ("1.01", "7.01")),
        ("MP Materials files 8-K: Item 1.01 Entry into a Material Definitive Agreement", "official", ("1.01",)),
    ],
)
def test_an_8k_relayed_by_a_news_site_is_read_by_its_items(title, source, items):
    """A filings site or the press relaying an 8-K names its form and Item codes: the items say
    what was filed, whoever carries it (a shareholder vote stays out of the desk's alerts)."""
    doc = read_official(title, "", None, "filings-news", source)
    assert doc is not None and (doc.kind, doc.items) == ("sec_8k", items)


def test_a_story_about_an_8k_without_its_items_is_news():
    """"Analysts say MP's 8-K shows a big deal" is reporting, not the filing."""
    assert read_official("Analysts say MP Materials 8-K shows big rare earth deal", "", None, "reuters", "wire") is None


@pytest.mark.parametrize(
    ("title", "form"),
    [("SD - Specialized disclosure report - MP Materials Corp. / DE", "SD"), ("10-Q - Quarterly report", "10-Q"),
     ("4 - Statement of changes in beneficial ownership", "4")],
)
def test_other_sec_forms_are_filings_not_current_reports(title, form):
    doc = read_official(title, "", "https://www.sec.gov/Archives/x", "sec-edgar-mp-8k", "official")
    assert (doc.kind, doc.number) == ("sec_filing", form)


@pytest.mark.parametrize(
    ("title", "link", "source"),
    [
        ("Trump signs executive order on critical minerals", None, "wire"),  # a report of an order, not the order
        ("China's Announcement No. 61 explained", "https://www.mining.com/x", "sector"),
        ("Gold tops $4,000", None, "aggregator"),
    ],
)
def test_reports_about_documents_are_not_documents(title, link, source):
    """Only the issuer's own site, an official feed or the EDGAR form makes a document official."""
    assert read_official(title, "", link, "some-feed", source) is None


@pytest.mark.parametrize(
    ("title", "summary", "link", "field", "value"),
    [
        # Each wording a trade remedy takes, in the title or deep in the text.
        ("Graphite From China: Final Antidumping Determination", "", None, "instrument", "tariff"),
        ("Graphite from China", "Commerce issues an anti-dumping duty order. " * 20, None, "instrument", "tariff"),
        ("Graphite from China", "The countervailing duty investigation continues.", None, "instrument", "tariff"),
        ("Graphite from China", "A SAFEGUARD MEASURE on imports was extended.", None, "instrument", "tariff"),
        ("Graphite From China: Sales at Less Than Fair Value", "", None, "instrument", "tariff"),
        # Case-insensitive matching takes a dotless i for an i: the text is not ASCII, so no
        # lower-cased shortcut may rule the word out.
        ("Graphite from China", "The countervaılıng duty investigation continues.", None, "instrument", "tariff"),
        ("Antimony rules", "MOFCOM ANNOUNCEMENT No. 46 of 2024 takes effect.", None, "number", "46 of 2024"),
        ("Mineral rules", "Under State Council Decree No. 794 the quotas apply.", None, "number", "794"),
        ("Adjusting Imports of Processed Critical Minerals", "", "https://www.whitehouse.gov/presidential-actions/x/",
         "type", "proclamation"),
        ("FACT SHEET: President Secures Critical Minerals", "", "https://www.whitehouse.gov/briefings/x/",
         "type", "fact_sheet"),
        ("Memorandum on Critical Minerals", "", "https://www.whitehouse.gov/presidential-actions/x/", "type", "memorandum"),
        ("V.O.S. Selections, Inc. v. Trump", "The court rules on the tariffs.", "https://cafc.uscourts.gov/x.pdf",
         "type", "opinion"),
    ],
)
def test_a_form_word_is_found_wherever_and_however_it_is_written(title, summary, link, field, value):
    """The words that say what a document is count in any case and anywhere in its text."""
    doc = read_official(title, summary, link, "", "official")
    assert doc is not None
    got = {"instrument": doc.instrument, "number": doc.number, "type": doc.type}
    assert got[field] == value


def test_a_feed_is_known_by_its_name_every_time_and_the_names_kept_are_bounded():
    """Each feed name is read once and remembered; a flood of names (one per item, say) does
    not grow the memory without end."""
    from service.rules import official

    first = read_official("Rule", "", None, "federal-register-bis", "official")
    again = read_official("Rule", "", None, "federal-register-bis", "official")
    assert first == again and first is not None and first.kind == "federal_register"
    assert read_official("Notice", "", None, "some-other-feed", "official").kind == "government"
    for number in range(official._MAX_FEED_KINDS + 50):
        read_official("Notice", "", None, f"feed-{number}", "official")
        assert len(official._FEED_KINDS) <= official._MAX_FEED_KINDS
    assert read_official("Rule", "", None, "federal-register-bis", "official") == first
