"""A name -> entry table, so that datasets, models and methods plug in by name from a config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

Entry = TypeVar("Entry")


class Registry(Generic[Entry]):
    """Entries registered under names; an unknown name lists the registered ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def add(self, name: str, entry: Entry) -> Entry:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[Entry], Entry]:
        """``add`` as a decorator."""
        return lambda entry: self.add(name, entry)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def values(self) -> list[Entry]:
        """Every entry, in the order they were registered."""
        return list(self._entries.values())

    def __getitem__(self, name: str) -> Entry:
        if name not in self._entries:
            raise KeyError(f"unknown {self.kind} {name!r}; registered: {self.names()}")
        return self._entries[name]
