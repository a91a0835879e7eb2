"""How fast the rule engine reads articles, against naive engines that test each rule on its own.

    python benchmarks/rules.py [--articles 20000] [--rules 200] [--naive-articles 1000]

Articles are built from the sentences of the labelled corpus (tests/corpus/training/seed.yaml), shuffled
into new combinations with a fixed seed, each as long as a randomly drawn corpus item, so they
read like real feed items at the corpus's mix of relevant stories and hard negatives. Four
timings, each on one core, in CPU seconds (the process's own time, so other work on the machine
distorts it less), each the best of `--repeat` runs as `timeit` does:

- the shipped rules (rules/), which also tag entities, score and explain every article;
- 200 generated rules (random phrase groups, `none` lists, `near` and headline conditions, all
  drawn from the corpus vocabulary), on the same engine;
- the same 200 rules with the frame reader switched off (`generated_rules_without_frames`):
  not a configuration the service runs, but what the figure above pays for reading event frames
  (who did what to which lever) on every article a rule fires on;
- two naive engines on the same 200 rules, both looping over the rules for every article and
  testing each with its own regex(es), case-insensitive, words as `\\b(?:a|b|c)(?:s|es|ed|ing)?\\b`:
  `naive_baseline` compiles one regex per condition group and stops at a rule's first failing
  test; `naive_one_regex_per_rule` compiles each rule into a single regex of lookaheads (the
  issue's words read literally). `near` is simplified to "both present" and `mentions` to a
  regex of China's names, which only makes them faster. They fire the same rules. They are
  timed on a slice of the articles (they are slow) and reported per article. The headline
  `speedup_vs_naive` is against the faster of the two (so far always `naive_baseline`).

The 200-rule engine and the two naive engines take turns, one pass each per round, so that a
slow spell of the machine weighs on all three and not on one side of the ratio.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.domain.feeds import SOURCE_WEIGHTS  # noqa: E402
from service.domain.scoring import EVENT_TYPES, SEVERITIES, Source  # noqa: E402
from service.rules import BUILD, Ruleset, load_ruleset  # noqa: E402
from service.rules.phrases import split_lead  # noqa: E402

SEED = 20251009
#: The names the naive baselines accept for `mentions: {country: China}`.
CHINA = ["China", "Chinese", "Beijing", "PRC"]
KINDS = list(SOURCE_WEIGHTS)
STOPWORDS = frozenset(
    "the a an and or of to in on for with at by from as is are was were be been it its that this "
    "said says will would could has have had not but after before than more most into over about "
    "their they he she his her which who also one two three new year week on".split()
)


def corpus() -> list[dict]:
    return yaml.safe_load((ROOT / "tests" / "corpus" / "training" / "seed.yaml").read_text(encoding="utf-8"))


def make_articles(count: int, rng: random.Random) -> list[tuple[str, str, Source]]:
    """New articles from the corpus's titles and sentences, recombined."""
    items = corpus()
    titles = [i["title"] for i in items]
    sentences: list[str] = []
    lengths: list[int] = []
    for item in items:
        text = item["summary"]
        before = len(sentences)
        while text:
            first, text = split_lead(text)
            sentences.append(first)
        lengths.append(len(sentences) - before)
    articles = []
    for _ in range(count):
        body = " ".join(rng.sample(sentences, rng.choice(lengths)))
        kind = rng.choice(KINDS)
        articles.append((rng.choice(titles), body, Source(f"{kind}-feed", kind, SOURCE_WEIGHTS[kind])))
    return articles


def vocabulary(rng: random.Random) -> list[str]:
    """Words and two-word phrases of the corpus, the common ones first."""
    counts: dict[str, int] = {}
    for item in corpus():
        words = [w for w in re.findall(r"[a-z]+", (item["title"] + " " + item["summary"]).lower()) if len(w) > 2]
        for index, word in enumerate(words):
            if word not in STOPWORDS:
                counts[word] = counts.get(word, 0) + 1
                if index + 1 < len(words) and words[index + 1] not in STOPWORDS:
                    pair = f"{word} {words[index + 1]}"
                    counts[pair] = counts.get(pair, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    return ranked[:3000]


def generated_rules(count: int, rng: random.Random) -> tuple[list[dict], str]:
    """`count` rules as YAML data, and the same rules as an alerts file."""
    words = vocabulary(rng)
    rules = []
    for number in range(count):
        groups = [rng.sample(words, rng.randint(3, 6)), rng.sample(words, rng.randint(2, 5))]
        match: dict = {"all": groups, "none": rng.sample(words, rng.randint(1, 3))}
        if number % 4 == 0:
            match["near"] = {"terms": [rng.choice(words), rng.choice(words)], "within": 5}
        if number % 5 == 0:
            match["headline"] = rng.sample(words, 4)
        if number % 6 == 0:
            match["mentions"] = {"country": "China"}
        rules.append(
            {
                "id": f"generated-{number:03d}",
                "description": "generated for the benchmark",
                "match": match,
                "event_types": [rng.choice(EVENT_TYPES)],
                "severity": rng.choice(SEVERITIES),
            }
        )
    return rules, yaml.safe_dump({"rules": rules}, sort_keys=False)


def ruleset_with(rules_yaml: str) -> Ruleset:
    """The shipped watchlists and word lists with only the generated alert rules."""
    folder = Path(tempfile.mkdtemp(prefix="reewatch-bench-"))
    try:
        for name in ("watchlists.yaml", "terms.yaml"):
            shutil.copy(ROOT / "rules" / name, folder / name)
        (folder / "alerts").mkdir()
        (folder / "alerts" / "generated.yaml").write_text(rules_yaml, encoding="utf-8")
        return load_ruleset(folder)
    finally:
        shutil.rmtree(folder)


class NaiveEngine:
    """The baseline: every rule tested on its own, one regex per condition group."""

    def __init__(self, rules: list[dict]):
        self.rules = [self._compile(rule["match"]) for rule in rules]
        self.china = self._group(CHINA)

    @staticmethod
    def _group(phrases: list[str]) -> re.Pattern:
        alternatives = "|".join(re.escape(p) for p in phrases)
        return re.compile(rf"\b(?:{alternatives})(?:s|es|ed|ing)?\b", re.IGNORECASE)

    def _compile(self, match: dict):
        tests = [("all", self._group(group)) for group in match["all"]]
        tests += [("none", self._group([p])) for p in match["none"]]
        if "near" in match:
            tests += [("all", self._group([t])) for t in match["near"]["terms"]]
        if "headline" in match:
            tests.append(("headline", self._group(match["headline"])))
        if "mentions" in match:
            tests.append(("china", None))
        return tests

    def fired(self, title: str, summary: str) -> int:
        text = f"{title}\n{summary}"
        count = 0
        for tests in self.rules:
            ok = True
            for kind, pattern in tests:
                if kind == "all":
                    ok = pattern.search(text) is not None
                elif kind == "none":
                    ok = pattern.search(text) is None
                elif kind == "headline":
                    ok = pattern.search(title) is not None
                else:
                    ok = self.china.search(text) is not None
                if not ok:
                    break
            count += ok
        return count


class OneRegexPerRule:
    """The baseline read literally: each rule is one compiled regex, tried on every article.

    The rule's tests become lookaheads, in NaiveEngine's order, over the same text
    (headline, a newline, then the summary): `(?=.*?X)` for each `all` group, the `near` terms
    and the China names, `(?!.*?X)` for each `none` phrase, and `(?=[^\n]*?X)` for the headline
    group (the headline is the first line). One `match` per rule and article.
    """

    def __init__(self, rules: list[dict]):
        self.rules = [self._compile(rule["match"]) for rule in rules]

    @staticmethod
    def _words(phrases: list[str]) -> str:
        alternatives = "|".join(re.escape(p) for p in phrases)
        return rf"\b(?:{alternatives})(?:s|es|ed|ing)?\b"

    def _compile(self, match: dict) -> re.Pattern:
        parts = [rf"(?=.*?{self._words(group)})" for group in match["all"]]
        parts += [rf"(?!.*?{self._words([p])})" for p in match["none"]]
        if "near" in match:
            parts += [rf"(?=.*?{self._words([t])})" for t in match["near"]["terms"]]
        if "headline" in match:
            parts.append(rf"(?=[^\n]*?{self._words(match['headline'])})")
        if "mentions" in match:
            parts.append(rf"(?=.*?{self._words(CHINA)})")
        return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)

    def fired(self, title: str, summary: str) -> int:
        text = f"{title}\n{summary}"
        return sum(1 for pattern in self.rules if pattern.match(text))


def time_engine(ruleset: Ruleset, articles, repeat: int = 1) -> tuple[float, int, int]:
    """The best CPU time of `repeat` passes, and how many articles fired a rule and alerted."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fired = alerts = 0
        for title, summary, source in articles:
            verdict = ruleset.assess(title, summary, source)
            fired += bool(verdict.rules)
            alerts += verdict.alert
        best = min(best, time.process_time() - started)
    return best, fired, alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--naive-articles", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(SEED)
    articles = make_articles(args.articles, rng)
    rules, rules_yaml = generated_rules(args.rules, rng)

    shipped = load_ruleset(ROOT / "rules")
    generated = ruleset_with(rules_yaml)
    # One warm-up pass so imports and caches are not timed.
    time_engine(shipped, articles[:200])
    shipped_seconds, shipped_fired, shipped_alerts = time_engine(shipped, articles, args.repeat)

    # The engine and the naive engines take turns, so a slow spell of the machine (another
    # process, the CPU's clock) falls on all of them alike instead of on one of the three.
    sample = articles[: args.naive_articles]
    naives = {"naive_baseline": NaiveEngine(rules), "naive_one_regex_per_rule": OneRegexPerRule(rules)}
    naive_seconds = dict.fromkeys(naives, float("inf"))
    generated_seconds = float("inf")
    for _ in range(args.repeat):
        seconds, generated_fired, _ = time_engine(generated, articles)
        generated_seconds = min(generated_seconds, seconds)
        for name, naive in naives.items():
            started = time.process_time()
            for title, summary, _ in sample:
                naive.fired(title, summary)
            naive_seconds[name] = min(naive_seconds[name], time.process_time() - started)
    naive_rates = {name: (seconds, len(sample) / seconds) for name, seconds in naive_seconds.items()}
    frameless = dataclasses.replace(generated, frames=None)
    time_engine(frameless, articles[:200])
    frameless_seconds, _, _ = time_engine(frameless, articles, args.repeat)

    engine_rate = args.articles / generated_seconds
    strongest = max(naive_rates, key=lambda name: naive_rates[name][1])
    speedup = engine_rate / naive_rates[strongest][1]
    targets = {"articles_per_second_with_200_rules": 20_000, "speedup_vs_naive": 50}
    print(
        json.dumps(
            {
                "articles": args.articles,
                "clock": f"CPU seconds of this process (one core), best of {args.repeat}",
                "python": platform.python_version(),
                # Compiled with mypyc when `make` built it (service/native.py); REEWATCH_PURE_PYTHON=1
                # times the same code as Python.
                "engine_build": str(BUILD),
                "shipped_rules": {
                    "rules": len(shipped.rules),
                    "seconds": round(shipped_seconds, 3),
                    "articles_per_second": round(args.articles / shipped_seconds),
                    "articles_with_a_rule_fired": shipped_fired,
                    "alerts": shipped_alerts,
                },
                "generated_rules": {
                    "rules": len(generated.rules),
                    "seconds": round(generated_seconds, 3),
                    "articles_per_second": round(engine_rate),
                    "articles_with_a_rule_fired": generated_fired,
                },
                "generated_rules_without_frames": {
                    "rules": len(frameless.rules),
                    "seconds": round(frameless_seconds, 3),
                    "articles_per_second": round(args.articles / frameless_seconds),
                    "share_of_time_reading_frames": round(1 - frameless_seconds / generated_seconds, 3),
                },
                **{
                    name: {
                        "rules": len(rules),
                        "articles": len(sample),
                        "seconds": round(seconds, 3),
                        "articles_per_second": round(rate),
                        "speedup": round(engine_rate / rate, 1),
                    }
                    for name, (seconds, rate) in naive_rates.items()
                },
                "speedup_vs_naive": round(speedup, 1),
                "speedup_vs_naive_against": strongest,
                "targets": targets,
                "targets_met": {
                    "articles_per_second_with_200_rules": engine_rate >= targets["articles_per_second_with_200_rules"],
                    "speedup_vs_naive": speedup >= targets["speedup_vs_naive"],
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
