"""One bounded, thread-safe memo of computed answers, shared by the /why and /causes caches."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruAnswers(ABC, Generic[K, V]):
    """Answers by key, least recently used dropped first; ``size`` 0 remembers nothing.

    The graph does not change while the service runs, so an answer once computed stays right. A subclass
    says how to compute one (:meth:`_compute`); a key whose computation raises (an unknown name's 404) is
    not remembered. The lock makes it safe for the threads answers are computed in; the computation itself
    runs outside it.

    >>> class Squares(LruAnswers[int, int]):
    ...     def _compute(self, key: int) -> int:
    ...         return key * key
    >>> squares = Squares(size=2)
    >>> squares.get(3) is None, squares.answer(3), squares.get(3)
    (True, 9, 9)
    >>> _ = squares.answer(4), squares.answer(5)
    >>> squares.get(3) is None  # the least recently used went first
    True
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    @abstractmethod
    def _compute(self, key: K) -> V:
        """The answer for ``key``, computed afresh."""

    def get(self, key: K) -> V | None:
        """The remembered answer, if any (marks it recently used)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def compute(self, key: K) -> V:
        """Compute the answer for ``key`` and remember it."""
        entry = self._compute(key)
        if self._size:
            with self._lock:
                self._entries[key] = entry
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return entry

    def answer(self, key: K) -> V:
        """The remembered answer, or a new one, remembered."""
        entry = self.get(key)
        return entry if entry is not None else self.compute(key)
