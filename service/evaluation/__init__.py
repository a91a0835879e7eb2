"""Grading rules on labelled items: the corpus format, and the figures `reewatch eval` prints."""
