"""tests/conftest.py: the stand-in's tests are marked slow, and files with slow tests come first."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from tests.conftest import pytest_collection_modifyitems


class FakeItem:
    def __init__(self, path: str, name: str, fixtures: tuple[str, ...] = (), slow: bool = False):
        self.path = Path(path)
        self.name = name
        self.fixturenames = fixtures
        self.markers = {"slow"} if slow else set()

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.markers.add(marker.name)

    def get_closest_marker(self, name: str) -> Any:
        return name if name in self.markers else None


def test_files_with_slow_tests_come_first_each_in_its_own_order() -> None:
    items = [
        FakeItem("a.py", "a1"),
        FakeItem("b.py", "b1"),
        FakeItem("b.py", "b2", fixtures=("standin_savedmodel",)),
        FakeItem("c.py", "c1"),
        FakeItem("d.py", "d1", slow=True),
        FakeItem("d.py", "d2"),
    ]
    pytest_collection_modifyitems(cast(list[pytest.Item], items))
    assert [i.name for i in items] == ["b1", "b2", "d1", "d2", "a1", "c1"]
    assert "slow" in items[1].markers and "slow" not in items[0].markers
