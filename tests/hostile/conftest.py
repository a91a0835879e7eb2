"""Fixtures for the hostile tests: the ingestion harness, and the parser's worker processes."""

from __future__ import annotations

import pytest

from tests.integration.harness import Ingestion


@pytest.fixture
def ingestion(make_settings):
    created: list[Ingestion] = []

    def make(specs, database_url=None, **overrides) -> Ingestion:
        run = Ingestion(make_settings(database_url, **overrides), specs)
        created.append(run)
        return run

    yield make
    for run in created:
        run.close()
