"""Official documents read as structure: who issued it, what kind of document it is, its number.

A Federal Register rule, a presidential proclamation, a MOFCOM announcement or an SEC 8-K says
more by its form than by its words: "Additions to the Entity List" names neither a mineral nor a
country, yet it is the US Commerce Department listing companies; an 8-K's Item codes say what
was filed (Item 1.01, a material agreement; Item 5.07, the results of a shareholder vote).

A document is recognised by its link (the issuer's own site), by a feed kind of `official` with a
title in the issuer's format, or, for 8-Ks, by the EDGAR title format. Rules test the result
with `official:` conditions, and frames take the issuer as the actor of a title that names none.
No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from service.rules.phrases import lower

#: Document kinds, as `official: {kind: ...}` names them.
KINDS: Final = (
    "court", "sec_filing", "federal_register", "presidential_action", "white_house", "ustr", "commerce", "bis", "defense",
    "energy", "mofcom", "china_customs", "tariff_commission", "state_council", "sec_8k", "eu",
    "japan", "india", "australia", "canada", "government",
)
#: Document types, as `official: {type: ...}` names them.
TYPES: Final = (
    "rule", "proposed_rule", "notice", "executive_order", "proclamation", "memorandum", "fact_sheet",
    "announcement", "decree", "filing", "press_release", "opinion",
)

# Hosts of the issuers a desk follows: (kind, agency, country).
_HOSTS: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("federalregister.gov", "federal_register", "", "United States"),
    ("whitehouse.gov", "white_house", "White House", "United States"),
    ("ustr.gov", "ustr", "USTR", "United States"),
    ("bis.gov", "bis", "BIS", "United States"),
    ("bis.doc.gov", "bis", "BIS", "United States"),
    ("commerce.gov", "commerce", "Commerce Department", "United States"),
    ("trade.gov", "commerce", "Commerce Department", "United States"),
    ("defense.gov", "defense", "DoD", "United States"),
    ("war.gov", "defense", "DoD", "United States"),
    ("energy.gov", "energy", "DOE", "United States"),
    ("sec.gov", "sec_8k", "", ""),
    ("mofcom.gov.cn", "mofcom", "MOFCOM", "China"),
    ("customs.gov.cn", "china_customs", "China customs", "China"),
    ("gss.mof.gov.cn", "tariff_commission", "Customs Tariff Commission", "China"),
    ("gov.cn", "state_council", "State Council", "China"),
    ("europa.eu", "eu", "European Commission", "European Union"),
    ("meti.go.jp", "japan", "METI", "Japan"),
    ("jogmec.go.jp", "japan", "JOGMEC", "Japan"),
    ("pib.gov.in", "india", "", "India"),
    ("mines.gov.in", "india", "Ministry of Mines", "India"),
    ("industry.gov.au", "australia", "Department of Industry, Science and Resources", "Australia"),
    ("pm.gov.au", "australia", "", "Australia"),
    ("canada.ca", "canada", "", "Canada"),
    ("supremecourt.gov", "court", "Supreme Court", "United States"),
    ("cit.uscourts.gov", "court", "Court of International Trade", "United States"),
    ("cafc.uscourts.gov", "court", "Federal Circuit", "United States"),
    ("nrcan.gc.ca", "canada", "Natural Resources Canada", "Canada"),
)
# Feed names that say the issuer when no link does (the names feeds.yaml gives them).
_FEEDS: Final[tuple[tuple[re.Pattern, str, str, str], ...]] = tuple(
    (re.compile(pattern), kind, agency, country)
    for pattern, kind, agency, country in (
        (r"federal[-_ ]?register", "federal_register", "", "United States"),
        # The White House's presidential-actions feed carries orders, proclamations and memoranda.
        (r"presidential[-_ ]?actions", "presidential_action", "White House", "United States"),
        (r"white[-_ ]?house", "white_house", "White House", "United States"),
        (r"\bustr\b", "ustr", "USTR", "United States"),
        (r"\bbis\b", "bis", "BIS", "United States"),
        (r"mofcom", "mofcom", "MOFCOM", "China"),
        (r"china[-_ ]customs|\bgacc\b", "china_customs", "China customs", "China"),
        (r"state[-_ ]council", "state_council", "State Council", "China"),
        (r"edgar|8-?k\b", "sec_8k", "", ""),
    )
)

_CIK: Final = re.compile(r"[?&]CIK=(\d{1,10})|\((\d{10})\)", re.IGNORECASE)
_CASE: Final = re.compile(r"\b[\w.,&' -]+ v\. [\w.,&' -]+")
_TRADE_REMEDY: Final = re.compile(r"less than fair value|anti-?dumping|countervailing|safeguard measure", re.IGNORECASE)
#: Words, lower-cased, of which a text must hold one for a pattern to match it (see read_official).
_TRADE_REMEDY_WORDS: Final = ("fair value", "dumping", "countervailing", "afeguard")
_OTHER_FORM: Final = re.compile(
    r"^\s*(?:Form\s+)?(SD|10-Q|10-K|S-1|S-3|S-8|3|4|5|144|DEF 14A|DEFA14A|SC 13[DG](?:/A)?|424B\d|6-K|20-F|40-F|11-K)\b\s*(?:-|:)",
    re.IGNORECASE,
)
_EIGHT_K_TITLE: Final = re.compile(r"^\s*8-K(?:/A)?\b|\bForm 8-K(?:/A)?\b")
#: A filing relayed by a news or filings site: "MP Materials files 8-K: Item 5.07 ...".
_EIGHT_K_ITEM_TITLE: Final = re.compile(r"\b8-K(?:/A)?\b.{0,80}?\bItems?\s+\d\.\d{2}\b")
#: An 8-K's items by their names, for filings that name them without the code.
_ITEM_NAMES: Final = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (r"entry into a material definitive agreement", "1.01"),
        (r"termination of a material definitive agreement", "1.02"),
        (r"bankruptcy or receivership", "1.03"),
        (r"completion of acquisition or disposition", "2.01"),
        (r"results of operations and financial condition", "2.02"),
        (r"creation of a direct financial obligation", "2.03"),
        (r"triggering events that accelerate", "2.04"),
        (r"costs associated with exit or disposal", "2.05"),
        (r"material impairments", "2.06"),
        (r"notice of delisting", "3.01"),
        (r"unregistered sales? of equity securities", "3.02"),
        (r"changes? in registrant.s certifying accountant", "4.01"),
        (r"departure of directors or certain officers|election of directors|appointment of certain officers", "5.02"),
        (r"amendments? to articles of incorporation or bylaws", "5.03"),
        (r"submission of matters to a vote of security holders", "5.07"),
        (r"regulation fd disclosure", "7.01"),
        (r"\bother events\b", "8.01"),
        (r"financial statements and exhibits", "9.01"),
    )
)
_ITEM: Final = re.compile(r"\bItems?\s+((?:\d\.\d{2}(?:\s*(?:,|and|&)\s*)?)+)", re.IGNORECASE)
_ITEM_CODE: Final = re.compile(r"\d\.\d{2}")
#: "Announcement No. 70 of 2025", and "Announcement of the Customs Tariff Commission ... No. 4 of 2025".
#: "Announcement No. 61 of 2025", and as translations also write it, "No. 10 [2025]" or "No. 10 (2025)".
_ANNOUNCEMENT: Final = re.compile(r"\bAnnouncement\b(?:\s+[^\s]+){0,14}?\s+No\.?\s*(\d+)\s*(?:of\s+|\[|\()(\d{4})",
                                  re.IGNORECASE)
_DECREE: Final = re.compile(r"\bDecree\s+No\.?\s*(\d+)", re.IGNORECASE)
_ANNOUNCEMENT_WORDS: Final = ("announcement",)
_DECREE_WORDS: Final = ("decree",)
_PRESIDENTIAL: Final = (
    (re.compile(r"\bexecutive order\b", re.IGNORECASE), ("executive order",), "executive_order"),
    (re.compile(r"\bproclamation\b|\badjusting imports\b", re.IGNORECASE), ("proclamation", "adjusting imports"),
     "proclamation"),
    (re.compile(r"\bmemorandum\b", re.IGNORECASE), ("memorandum",), "memorandum"),
    (re.compile(r"\bfact sheet\b", re.IGNORECASE), ("fact sheet",), "fact_sheet"),
)
_FEDERAL_REGISTER_TYPES: Final = (
    (re.compile(r"\bproposed rule\b|\bnotice of proposed rulemaking\b", re.IGNORECASE), "proposed_rule"),
    (re.compile(r"\b(?:interim )?final rule\b|\bthis rule\b|\bthe rule\b|\bamends the\b|\brevises the\b", re.IGNORECASE), "rule"),
    (re.compile(r"\bnotice\b|\brequest for (?:public )?comments?\b|\binitiation of\b", re.IGNORECASE), "notice"),
)
_FR_AGENCIES: Final = (
    (re.compile(r"Bureau of Industry and Security|\bBIS\b|Export Administration Regulations|Entity List"), "BIS"),
    (re.compile(r"Trade Representative|\bUSTR\b|Section 301"), "USTR"),
    (re.compile(r"International Trade Administration|Section 232"), "Commerce Department"),
    (re.compile(r"Department of Defense|Defense Logistics Agency"), "DoD"),
    (re.compile(r"Department of Energy"), "DOE"),
    (re.compile(r"Department of the Interior|Geological Survey"), "Interior Department"),
    (re.compile(r"Executive Office of the President|the President\b"), "White House"),
)


@dataclass(frozen=True)
class OfficialDocument:
    """An official document: its issuer, its kind and type, and what its form says."""

    kind: str  # one of KINDS
    type: str  # one of TYPES, or "" when the form does not say
    agency: str  # the issuing agency as watchlists.yaml names it ("BIS", "MOFCOM"), or ""
    country: str  # the issuing government, or "" (an 8-K's filer is a company)
    #: An 8-K's Item codes ("1.01", "7.01"), in the order filed.
    items: tuple[str, ...] = ()
    #: "61 of 2025" for a numbered announcement or decree.
    number: str = ""
    #: What the document's measures are when its own words say so: an anti-dumping
    #: determination's "provisional measures" are duties.
    measures: str | None = None
    #: An 8-K filer's SEC Central Index Key, ten digits, when the link or title gives it.
    filer_cik: str | None = None

    @property
    def instrument(self) -> str | None:
        """What this issuer's "measures", "announcements" or "provisions" are when the text does
        not say: MOFCOM's and customs' are export controls, the Tariff Commission's tariffs."""
        return self.measures or _ISSUER_INSTRUMENTS.get(self.kind) or _AGENCY_INSTRUMENTS.get(self.agency)

    @property
    def actor(self) -> tuple[str, str, str] | None:
        """Who acts in a title that names nobody: the issuer, as frames take an actor."""
        if not self.country:
            return None
        return ("court" if self.kind == "court" else "government", self.agency or self.country, self.country)



_ISSUER_INSTRUMENTS: Final = {"mofcom": "export_control", "china_customs": "export_control", "bis": "export_control",
                       "tariff_commission": "tariff", "ustr": "tariff"}
_AGENCY_INSTRUMENTS: Final = {"BIS": "export_control", "USTR": "tariff"}


def read_official(title: str, summary: str, link: str | None, feed: str, source_kind: str) -> OfficialDocument | None:
    """The official document an article is, or None."""
    host_match = _by_host(link)
    eight_k = _EIGHT_K_TITLE.match(title) is not None or ("8-K" in title and _EIGHT_K_ITEM_TITLE.search(title) is not None)
    if host_match is None and source_kind != "official" and not eight_k:
        return None
    kind, agency, country = host_match or _by_feed(feed) or _by_title(title) or ("government", "", "")
    text = f"{title}\n{summary}"
    form = _OTHER_FORM.match(title)
    if form and (kind == "sec_8k" or source_kind == "official"):
        # Another SEC form (SD, 10-Q, S-8, Form 4 ...): a filing, not a current report.
        return OfficialDocument("sec_filing", "filing", "", "", (), form.group(1).upper())
    if kind == "sec_8k" or eight_k:
        coded = [code for group in _ITEM.findall(text) for code in _ITEM_CODE.findall(group)]
        named = [code for pattern, code in _ITEM_NAMES if pattern.search(text)]
        items = tuple(sorted(dict.fromkeys(coded + named)))
        found = _CIK.search(f"{link or ''} {title}")
        cik = next((g for g in found.groups() if g), None) if found else None
        return OfficialDocument("sec_8k", "filing", "", "", items, filer_cik=cik.zfill(10) if cik else None)
    number = ""
    doc_type = ""
    # Each pattern below needs a word most documents lack; a substring test of the lower-cased
    # text rules it out for a fraction of a case-insensitive regex search. Only on ASCII text:
    # case-insensitive matching also takes a few non-ASCII letters (the Kelvin sign, a dotted
    # capital I) for ASCII ones.
    folded = lower(text) if text.isascii() else None
    found = _ANNOUNCEMENT.search(text) if _may_contain(folded, _ANNOUNCEMENT_WORDS) else None
    if found:
        number = f"{int(found.group(1))} of {found.group(2)}"
        doc_type = "announcement"
        if kind in ("government", "white_house") and country in ("", "China"):
            kind, agency, country = _chinese_issuer(text)
    decree = _DECREE.search(text) if _may_contain(folded, _DECREE_WORDS) else None
    if decree and not number:
        number, doc_type = decree.group(1), "decree"
        if country in ("", "China") and "State Council" in text:
            kind, agency, country = "state_council", "State Council", "China"
    if kind in ("government", "court") and " v. " in title and _CASE.search(title):
        # "Learning Resources, Inc. v. Trump": a court's opinion, by its caption.
        return OfficialDocument("court", "opinion", agency, country or "United States", (), number)
    if kind in ("white_house", "presidential_action") or (kind == "government" and country in ("", "United States")):
        folded_title = lower(title) if title.isascii() else None
        for pattern, words, presidential in _PRESIDENTIAL:
            if _may_contain(folded_title, words) and pattern.search(title):
                kind, doc_type = "presidential_action", presidential
                agency, country = "White House", "United States"
                break
    measures = "tariff" if _may_contain(folded, _TRADE_REMEDY_WORDS) and _TRADE_REMEDY.search(text) else None
    if kind == "federal_register":
        for pattern, fr_type in _FEDERAL_REGISTER_TYPES:
            if pattern.search(text):
                doc_type = fr_type
                break
        for pattern, fr_agency in _FR_AGENCIES:
            if pattern.search(text):
                agency = fr_agency
                break
    if not doc_type and kind in ("ustr", "commerce", "bis", "defense", "energy", "eu", "japan", "india",
                                 "australia", "canada", "white_house", "mofcom", "china_customs"):
        doc_type = "press_release"
    return OfficialDocument(kind, doc_type, agency, country, (), number, measures)


def _may_contain(folded: str | None, words: tuple[str, ...]) -> bool:
    """Whether a text, lower-cased (None when it is not ASCII: then it may hold anything),
    holds one of `words`."""
    return folded is None or any(word in folded for word in words)


def _by_host(link: str | None) -> tuple[str, str, str] | None:
    if not link:
        return None
    try:
        host = lower(urlsplit(link).hostname or "")
    except ValueError:
        return None
    for suffix, kind, agency, country in _HOSTS:
        if host == suffix or host.endswith("." + suffix):
            if kind == "white_house" and "/presidential-actions/" in link:
                kind = "presidential_action"
            return kind, agency, country
    return None


def _by_feed(feed: str) -> tuple[str, str, str] | None:
    # A service reads the same few feeds all day: each name is read once.
    if feed in _FEED_KINDS:
        return _FEED_KINDS[feed]
    name = lower(feed)
    found = next(((kind, agency, country) for pattern, kind, agency, country in _FEEDS if pattern.search(name)), None)
    if len(_FEED_KINDS) >= _MAX_FEED_KINDS:
        _FEED_KINDS.clear()  # bounded: feed names come from configuration, but a test may invent many
    _FEED_KINDS[feed] = found
    return found


_FEED_KINDS: Final[dict[str, tuple[str, str, str] | None]] = {}
_MAX_FEED_KINDS: Final = 4096


def _by_title(title: str) -> tuple[str, str, str] | None:
    if _ANNOUNCEMENT.search(title) or _CHINESE_ISSUERS.search(title):
        return _chinese_issuer(title)
    return None


_CHINESE_ISSUERS: Final = re.compile(
    r"\bMOFCOM\b|Ministry of Commerce|General Administration of Customs|Tariff Commission|\bState Council\b"
)


def _chinese_issuer(text: str) -> tuple[str, str, str]:
    if re.search(r"Tariff Commission", text):
        return "tariff_commission", "Customs Tariff Commission", "China"
    if re.search(r"MOFCOM|Ministry of Commerce", text):
        return "mofcom", "MOFCOM", "China"
    if re.search(r"General Administration of Customs|\bGACC\b", text):
        return "china_customs", "China customs", "China"
    return "state_council", "State Council", "China"
