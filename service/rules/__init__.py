"""The rule engine: YAML rules and watchlists in, an Assessment per article out. No I/O here
beyond reading the rule files; the pipeline, `scan` and the benchmark share it."""

from service.rules.engine import Rule, Ruleset, score_entry
from service.rules.loader import load_ruleset, ruleset_files, watch_ruleset

__all__ = ["Rule", "Ruleset", "load_ruleset", "ruleset_files", "score_entry", "watch_ruleset"]
