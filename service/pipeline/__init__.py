"""Use cases, each readable top to bottom: poll feeds (and, later, score, alert, deliver)."""
