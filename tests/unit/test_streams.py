"""make test's xdist streams (tests/conftest.py): a grouping pytest-xdist silently failed to apply is named."""

from __future__ import annotations

from tests.conftest import untagged


def test_an_id_without_xdists_group_tag_is_named():
    ids = ["tests/a.py::t@local", "tests/cluster/b.py::t", "tests/c.py::t[x@y]", "tests/c.py::t[x@y]@local"]
    assert untagged(ids) == ["tests/cluster/b.py::t", "tests/c.py::t[x@y]"]
