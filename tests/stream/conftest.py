"""Fixtures of the streaming tests."""

import pytest

from skensemble.stream import _fast_leaf_lists


@pytest.fixture(params=["lists", "arrays"])
def leaf_storage(request, monkeypatch):
    """Run a test once with every leaf as Python lists and once as numpy arrays.

    The fast path picks lists for narrow leaves and arrays for wide ones; both
    must give river's numbers bit for bit on every stream, so the tests force
    each in turn.
    """
    cells = 10**9 if request.param == "lists" else -1
    monkeypatch.setattr(_fast_leaf_lists, "MAX_LIST_CELLS", cells)
    return request.param
