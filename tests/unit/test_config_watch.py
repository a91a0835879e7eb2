"""Hand-edited files reload on change, and a broken edit keeps the last good version."""

import os
import time

from service.config_watch import WatchedConfig
from service.sources.feed_config import load_feeds

GOOD = "- name: a\n  url: https://x.test/a\n"
BETTER = "- name: a\n  url: https://x.test/a\n- name: b\n  url: https://x.test/b\n"
BROKEN = "- name: a\n  url: https://x.test/a\n  intervall: 5m\n"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    # Make each edit visible to mtime-based change detection even within one clock tick.
    stamp = time.time_ns() + len(text)
    os.utime(path, ns=(stamp, stamp))


def test_reload_keeps_last_good_version(tmp_path, caplog):
    """Edits take effect; a broken edit is logged with its location and changes nothing."""
    path = tmp_path / "feeds.yaml"
    write(path, GOOD)
    watched = WatchedConfig("feeds.yaml", lambda: [path], lambda: load_feeds(path))
    assert [f.name for f in watched.load_initial()] == ["a"]
    assert watched.refresh() is False

    write(path, BETTER)
    assert watched.refresh() is True
    assert [f.name for f in watched.current] == ["a", "b"]

    write(path, BROKEN)
    assert watched.refresh() is False
    assert [f.name for f in watched.current] == ["a", "b"]
    assert "unknown key 'intervall'" in str(watched.last_error)
    assert "keeping the last good version" in caplog.text and "feeds.yaml:3:3" in caplog.text

    write(path, GOOD)
    assert watched.refresh() is True
    assert [f.name for f in watched.current] == ["a"] and watched.last_error is None
