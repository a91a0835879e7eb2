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


def test_reload_runs_off_the_event_loop(tmp_path):
    """While a slow reload reads its files, the loop keeps running tasks; a second reload does
    not queue behind the first; the new version takes effect when the load finishes."""
    import asyncio
    import threading

    path = tmp_path / "feeds.yaml"
    write(path, GOOD)
    loading, release = threading.Event(), threading.Event()

    def slow_load():
        if watched.current is not None:  # the initial load is not held up
            loading.set()
            assert release.wait(30), "the test never released the load"
        return load_feeds(path)

    watched = WatchedConfig("feeds.yaml", lambda: [path], slow_load)
    watched.load_initial()
    write(path, BETTER)

    async def scenario():
        first = asyncio.create_task(watched.reload())
        # Were the load on the event loop, it would block it here until the wait gave up.
        assert await asyncio.to_thread(loading.wait, 30)
        assert watched.reloading and not first.done()
        assert await watched.reload() is False  # returns at once, the first is still loading
        release.set()
        return await first

    assert asyncio.run(scenario()) is True
    assert [f.name for f in watched.current] == ["a", "b"] and not watched.reloading
