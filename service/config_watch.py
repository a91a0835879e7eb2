"""Reload hand-edited configuration when its files change, keeping the last good version."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

from service.errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")


def fingerprint(paths: Iterable[Path]) -> tuple:
    """Identity of a set of files: their names, sizes and modification times."""
    marks = []
    for path in sorted(paths):
        try:
            stat = path.stat()
        except OSError:
            continue
        marks.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(marks)


class WatchedConfig(Generic[T]):
    """A loaded configuration that reloads itself when its files change.

    A broken edit is logged with every problem and the last good value stays in force, so a
    typo in a YAML file never stops the service.
    """

    def __init__(self, name: str, files: Callable[[], Iterable[Path]], load: Callable[[], T]):
        self.name = name
        self._files = files
        self._load = load
        self._fingerprint: tuple | None = None
        self.current: T | None = None
        self.last_error: ConfigError | None = None
        self._reloading = False

    def load_initial(self) -> T:
        """Load now; a ConfigError here propagates (a service must not start without config)."""
        marks = fingerprint(self._files())
        self.current = self._load()
        self._fingerprint = marks
        return self.current

    def refresh(self) -> bool:
        """Reload if the files changed. Returns True when a new version took effect."""
        marks = fingerprint(self._files())
        if marks == self._fingerprint:
            return False
        self._fingerprint = marks
        try:
            self.current = self._load()
        except ConfigError as exc:
            self.last_error = exc
            log.error("%s has errors; keeping the last good version:\n%s", self.name, exc)
            return False
        self.last_error = None
        log.info("reloaded %s", self.name)
        return True

    @property
    def reloading(self) -> bool:
        """Whether a `reload` is running now."""
        return self._reloading

    async def reload(self) -> bool:
        """`refresh` for the running service: the files are read and checked in a worker
        thread, so the event loop goes on polling however big or slow the edit is. While one
        reload runs, another call returns False at once instead of queueing behind it."""
        if self._reloading:
            return False
        self._reloading = True
        try:
            return await asyncio.to_thread(self.refresh)
        finally:
            self._reloading = False
