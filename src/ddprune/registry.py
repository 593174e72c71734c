"""A name -> factory table, so datasets and models plug in by name from a config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

Factory = TypeVar("Factory", bound=Callable)


class Registry(Generic[Factory]):
    """Factories registered under names; an unknown name lists the registered ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Factory] = {}

    def register(self, name: str) -> Callable[[Factory], Factory]:
        def decorate(factory: Factory) -> Factory:
            self._factories[name] = factory
            return factory

        return decorate

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __getitem__(self, name: str) -> Factory:
        if name not in self._factories:
            raise KeyError(f"unknown {self.kind} {name!r}; registered: {self.names()}")
        return self._factories[name]
