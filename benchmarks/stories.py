"""Story assignment: place 100,000 articles in their stories, as the pipeline does, and show that the
time per article does not grow with what is stored.

    .venv/bin/python benchmarks/stories.py [--articles 100000] [--per-day 800] [--database-url URL]

A synthetic stream of reports arrives in publication order, in batches of 20 (one feed's poll):
a fifth is policy news the rules judge (event types, countries, elements, companies, frames), the
rest other news; a third of the stories are told by two to four reports (rewritten in other words,
or copied with the outlet's name appended); 800 reports a day, so the 48-hour story span holds
about 1,600 reports whenever the clock is. Each batch is stored (articles), sketched and signed
(MinHash, event signature), looked up in the story index and placed (`place_reports`), in one
transaction per batch, on a fresh SQLite file (or an empty PostgreSQL database).

Printed as one JSON object:
  articles_per_second       over the whole run
  at_10000 / at_100000      milliseconds per article for the 1,000 articles placed when 10,000
                            and when 100,000 were stored (the last thousand before each mark)
  growth                    at_100000 / at_10000: the index keeps it flat (target <= 1.5)
  naive_at_100000           the same articles compared with every report in their span, without
                            the index: the baseline the index is measured against, in this run
  stories, joined           how many stories, and how many reports joined an earlier one
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from service.domain.scoring import EVENT_TYPES, Assessment, Frame  # noqa: E402
from service.events.signature import EventSignature, distinctive_words, signature_of  # noqa: E402
from service.events.sketch import Sketch, sketch  # noqa: E402
from service.events.stories import SPAN, Candidate, Told, best_match  # noqa: E402
from service.store import migrate  # noqa: E402
from service.store.db import make_engine, session  # noqa: E402
from service.store.models import Article, Feed  # noqa: E402
from service.store.stories import NewReport, place_reports  # noqa: E402

BATCH = 20
SAMPLE = 1000
TARGET_GROWTH = 1.5
COUNTRIES = ["China", "United States", "Australia", "Japan", "Canada", "Malaysia", "India", "South Korea"]
ELEMENTS = ["gallium", "germanium", "antimony", "graphite", "dysprosium", "terbium", "holmium", "tungsten", "neodymium"]
TICKERS = ["MP", "USAR", "LYC.AX", "UAMY", "PPTA", "AXTI", "NB", "F", "GM", "600111.SS"]
INSTRUMENTS = ["export_control", "tariff", "funding", "agreement", "supply", "price"]
#: The topic's own words: every report uses them, as the rules' vocabulary does in service.
TOPIC = "rare earth export controls tariff minerals critical supply china licence ban curbs deal".split()


def word_pool(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ten", "ra", "vo", "sel", "dur", "pa", "qui", "zen", "bro", "fal", "gre", "hin"]
    pool = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)}
    return sorted(pool)[:size]


class Stream:
    """Synthetic reports in publication order: stories of one to four reports, or lone items."""

    def __init__(self, seed: int, per_day: int):
        self.rng = random.Random(seed)
        # News uses tens of thousands of distinctive words; a smaller pool would make every
        # report look like hundreds of others.
        self.words = word_pool(self.rng, 20000)
        self.spacing = timedelta(days=1) / per_day
        self.clock = datetime(2025, 1, 1, tzinfo=UTC)
        self.pending: list[tuple[datetime, str, str, Assessment, frozenset[str], str]] = []
        self.story = 0

    def filler(self, n: int) -> list[str]:
        return [self.rng.choice(self.words) for _ in range(n)]

    def new_story(self) -> list[tuple[datetime, str, str, Assessment, frozenset[str], str]]:
        """One story's reports: policy news the rules judge (a fifth of all), or other news."""
        rng = self.rng
        self.story += 1
        judged = rng.random() < 0.2
        event_type = rng.choice(EVENT_TYPES)
        country = rng.choice(COUNTRIES)
        elements = rng.sample(ELEMENTS, rng.randint(1, 2)) if judged and rng.random() < 0.3 else []
        ticker = rng.choice(TICKERS) if judged and rng.random() < 0.3 else None
        specific = self.filler(4)
        polarity = rng.choice(["up", "down"])
        instrument = rng.choice(INSTRUMENTS)
        reports = []
        count = 1 if rng.random() < 0.7 else rng.randint(2, 4)
        first_text = None
        for n in range(count):
            at = self.clock + timedelta(hours=rng.uniform(0, 30)) if n else self.clock
            if n and first_text is not None and rng.random() < 0.25:
                title, summary = first_text[0] + " - Daily", first_text[1]  # a syndicated copy
            else:
                words = rng.sample(specific, 3) + self.filler(6)
                topic = rng.sample(TOPIC, 3) if judged else []
                title = " ".join([country, *topic, *words[:4]]).capitalize()
                summary = " ".join([*elements, *topic, *words[4:], *self.filler(18)]) + "."
                first_text = first_text or (title, summary)
            verdict = Assessment(
                event_types=(event_type,) if judged else (),
                score=70 if judged else 0,
                severity="high" if judged else None,
                alert=judged,
                rules=("bench",) if judged else (),
                matched=(),
                relevance={ticker: 100} if ticker else {},
                frames=(Frame(country, "act", polarity, instrument, ", ".join(elements)),) if judged else (),
            )
            named = frozenset({f"country:{country}", *(f"element:{e}" for e in elements)}) if judged else frozenset()
            reports.append((at, title, summary, verdict, named, f"s{self.story}"))
        return reports

    def __iter__(self):
        while True:
            self.pending.extend(self.new_story())
            self.pending.sort(key=lambda r: r[0])
            while self.pending and self.pending[0][0] <= self.clock:
                yield self.pending.pop(0)
            self.clock += self.spacing


def told_of(title: str, summary: str, verdict: Assessment, named: frozenset[str], at: datetime) -> Told:
    text = f"{title}\n{summary}"
    return Told(at, sketch(text), signature_of(verdict, named, distinctive_words(text, TOPIC)))


def run(url: str, articles: int, per_day: int) -> dict:
    migrate.upgrade(url)
    engine = make_engine(url)
    with session(engine) as s:
        feed = Feed(name="bench", url="https://bench.example/feed", kind="wire")
        s.add(feed)
        s.commit()
        feed_id = feed.id
    stream = iter(Stream(7, per_day))
    timings: list[float] = []
    joined = 0
    stories: set[int] = set()
    started = time.perf_counter()
    done = 0
    sample_for_naive: list[tuple[int, Told]] = []
    while done < articles:
        batch = [next(stream) for _ in range(min(BATCH, articles - done))]
        t0 = time.perf_counter()
        with session(engine) as s:
            rows = [
                {
                    "feed_id": feed_id, "guid": f"a{done + i}", "title": title, "summary": summary,
                    "published": at, "fetched_at": at, "content_hash": "h", "alert": True,
                }
                for i, (at, title, summary, _verdict, _named, _story) in enumerate(batch)
            ]
            ids = [row.id for row in s.exec(insert(Article).returning(Article.id), params=rows)]  # type: ignore[call-overload]
            reports = []
            for article_id, (at, title, summary, verdict, named, _story) in zip(ids, batch, strict=True):
                told = told_of(title, summary, verdict, named, at)
                reports.append(NewReport(article_id, title, "bench", "wire", told, verdict.severity))
                if articles - SAMPLE <= done + len(reports) - 1 < articles and len(sample_for_naive) < 200:
                    sample_for_naive.append((article_id, told))
            placed = place_reports(s, reports)
            s.commit()
        elapsed = time.perf_counter() - t0
        timings.extend([elapsed / len(batch)] * len(batch))
        for placement in placed.values():
            joined += placement.match is not None
            stories.add(placement.story.id)  # type: ignore[arg-type]
        done += len(batch)
        if done % 10_000 == 0:
            chunk = timings[done - SAMPLE : done]
            print(f"{done} stored: {1000 * sum(chunk) / len(chunk):.2f} ms per article", file=sys.stderr, flush=True)
    total = time.perf_counter() - started

    def window(mark: int) -> float:
        chunk = timings[max(0, mark - SAMPLE) : mark]
        return 1000 * sum(chunk) / len(chunk)

    naive = naive_ms(engine, sample_for_naive)
    engine.dispose()
    at_small, at_large = window(min(10_000, articles)), window(articles)
    return {
        "articles": articles,
        "per_day": per_day,
        "seconds": round(total, 1),
        "articles_per_second": round(articles / total),
        "at_10000_ms": round(at_small, 3),
        f"at_{articles}_ms": round(at_large, 3),
        "growth": round(at_large / at_small, 2),
        "naive_at_end_ms": round(naive, 3),
        "index_speedup_vs_naive": round(naive / at_large, 1) if at_large else None,
        "stories": len(stories),
        "joined": joined,
        "target_growth": TARGET_GROWTH,
        "target_met": at_large / at_small <= TARGET_GROWTH,
    }


def naive_ms(engine, sample: list[tuple[int, Told]]) -> float:
    """Milliseconds per article to compare it with every stored report in its span, no index."""
    if not sample:
        return 0.0
    started = time.perf_counter()
    with session(engine) as s:
        for article_id, told in sample:
            rows = s.exec(
                select(Article.id, Article.story_id, Article.published, Article.sketch, Article.signature).where(
                    Article.published >= told.at - SPAN, Article.published <= told.at + SPAN, Article.id != article_id
                )
            ).all()
            candidates = [
                Candidate(a, story, Told(at, Sketch(bytes(values or b"")), EventSignature.from_json(sig)))
                for a, story, at, values, sig in rows
                if story is not None
            ]
            best_match(told, candidates)
    return 1000 * (time.perf_counter() - started) / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=800)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.database_url:
        result = run(args.database_url, args.articles, args.per_day)
    else:
        with tempfile.TemporaryDirectory() as folder:
            result = run(f"sqlite:///{Path(folder) / 'stories.db'}", args.articles, args.per_day)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
