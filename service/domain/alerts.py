"""An alert as the outbox keeps it: the article and the rules' verdict, frozen when it was raised."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.domain.scoring import DIRECTIONS, Assessment, Source

#: Bumped when the payload's shape changes, so old rows can still be read.
PAYLOAD_VERSION = 1
#: The outbox column's width; longer keys keep a readable head and end in a digest of the whole.
MAX_THROTTLE_KEY = 300


@dataclass(frozen=True)
class Alert:
    """What a trader is told about one article; everything a renderer needs, nothing it must look up."""

    article_id: int | None
    title: str
    link: str | None
    source: Source
    published: datetime | None
    assessment: Assessment

    @property
    def throttle_key(self) -> str | None:
        """Top rule id and the tickers at stake: repeats with the same key share a Slack thread.

        The tickers are the companies the article names when it names any: two stories of one
        rule about different companies are different stories. Otherwise the impacted ones.
        """
        if not self.assessment.rules:
            return None
        tickers = sorted(self.assessment.relevance) or list(self.assessment.tickers)
        key = f"{self.assessment.rules[0]}|{','.join(tickers)}"
        if len(key) <= MAX_THROTTLE_KEY:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{key[: MAX_THROTTLE_KEY - len(digest) - 1]}#{digest}"

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox row."""
        a = self.assessment
        return {
            "v": PAYLOAD_VERSION,
            "article_id": self.article_id,
            "title": self.title,
            "link": self.link,
            "source": {"name": self.source.name, "kind": self.source.kind, "weight": self.source.weight},
            "published": self.published.astimezone(UTC).isoformat() if self.published else None,
            "assessment": {
                "event_types": list(a.event_types),
                "score": a.score,
                "severity": a.severity,
                "alert": a.alert,
                "rules": list(a.rules),
                "matched": list(a.matched),
                "impacts": dict(a.impacts),
                "relevance": dict(a.relevance),
                "channels": list(a.channels),
                "throttle_seconds": a.throttle_seconds,
                "novelty": a.novelty,
            },
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Alert:
        """Read a payload written by `to_payload` (ValueError if it is not one)."""
        if data.get("v") != PAYLOAD_VERSION:
            raise ValueError(f"unknown alert payload version {data.get('v')!r}")
        a = data["assessment"]
        impacts = {str(t): d for t, d in dict(a.get("impacts") or {}).items()}
        for ticker, direction in impacts.items():
            if direction not in DIRECTIONS:
                raise ValueError(f"ticker {ticker}: unknown direction {direction!r}")
        published = data.get("published")
        source = data.get("source") or {}
        return cls(
            article_id=data.get("article_id"),
            title=str(data.get("title") or ""),
            link=data.get("link"),
            source=Source(
                name=str(source.get("name") or "unknown source"),
                kind=str(source.get("kind") or "sector"),
                weight=float(source.get("weight", 0.8)),
            ),
            published=datetime.fromisoformat(published).astimezone(UTC) if published else None,
            assessment=Assessment(
                event_types=tuple(a.get("event_types") or ()),
                score=int(a.get("score") or 0),
                severity=a.get("severity"),
                alert=bool(a.get("alert", True)),
                rules=tuple(a.get("rules") or ()),
                matched=tuple(a.get("matched") or ()),
                impacts=impacts,
                relevance={str(t): int(r) for t, r in dict(a.get("relevance") or {}).items()},
                channels=tuple(a.get("channels") or ()),
                throttle_seconds=int(a.get("throttle_seconds", 1800)),
                novelty=int(a.get("novelty", 100)),
            ),
        )
