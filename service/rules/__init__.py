"""The rule engine: YAML rules and watchlists in, an Assessment per article out. No I/O here
beyond reading the rule files; the pipeline, `scan` and the benchmark share it."""

from service.native import use_compiled

#: Whether the engine's modules run compiled or as Python, and why (see service/native.py).
#: Decided before any of them is imported.
BUILD = use_compiled(__path__)

from service.rules.engine import Rule, Ruleset, score_entry  # noqa: E402
from service.rules.loader import load_ruleset, ruleset_files, watch_ruleset  # noqa: E402

__all__ = ["BUILD", "Rule", "Ruleset", "load_ruleset", "ruleset_files", "score_entry", "watch_ruleset"]
