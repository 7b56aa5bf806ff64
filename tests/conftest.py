"""Shared fixtures. Cluster tests carry @pytest.mark.cluster (see pyproject)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHART = REPO / "charts" / "portico"
# Real public charts (../shared/corpus beside the checkout, as CI lays it out).
CORPUS = REPO.parent / "shared" / "corpus" / "charts"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
