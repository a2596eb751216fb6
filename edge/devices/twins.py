"""The simulated twins of the process: one registry for every device kind.

A twin is the device a ``sim://NAME`` URL names. Every opener of the same name in one process
reaches the same twin, so a test (or the demo's fault buttons) can tell the twin the web app drives to
run out of paper. Each kind's ``sim`` module makes one :class:`Twins` and calls it ``TWINS``;
:func:`reset_all` puts every twin of every kind back as it was made (the test suite does so before
each test, so no test needs a unique twin name to stay apart from the others). A reset keeps each twin
object, so a web app that opened ``sim://front`` before the reset still drives the twin a test reaches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_ALL: dict[str, Twins] = {}


class Twins(Generic[T]):
    """The twins of one device kind by name, made on first use by ``make(name)``."""

    def __init__(self, kind: str, make: Callable[[str], T]):
        if kind in _ALL:
            raise ValueError(f"twins of kind {kind!r} are registered twice")
        self.kind = kind
        self._make = make
        self._twins: dict[str, T] = {}
        self._lock = threading.Lock()
        _ALL[kind] = self

    def obtain(self, name: str = "") -> tuple[T, bool]:
        """The twin called ``name`` and whether this call made it."""
        with self._lock:
            twin = self._twins.get(name)
            if twin is not None:
                return twin, False
            twin = self._twins[name] = self._make(name)
            return twin, True

    def get(self, name: str = "") -> T:
        return self.obtain(name)[0]

    def reset(self) -> None:
        """Every twin of this kind back as it was made: no fault, nothing queued (``twin.reset()``)."""
        with self._lock:
            twins = list(self._twins.values())
        for twin in twins:
            twin.reset()


def reset_all() -> None:
    """Every twin of every kind whose ``sim`` module is loaded back as it was made."""
    for twins in list(_ALL.values()):
        twins.reset()
