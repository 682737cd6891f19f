"""Test servers run by `with`: started on entry, stopped on exit or when starting fails part-way."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

_S = TypeVar("_S", bound="Started")


class Started(ABC):
    """One or more servers that `with` starts and stops; `stop` must bear parts never started."""

    @abstractmethod
    def start(self) -> None:
        """Start every part (raise if one fails: `with` then stops what did start)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop every part that runs."""

    def __enter__(self: _S) -> _S:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
