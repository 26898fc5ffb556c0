"""Progress bars on stderr: shown on a terminal, silent when stderr is not a TTY or with --quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], desc: str, quiet: bool, total: int | None = None, initial: int = 0, unit: str = " doc"
) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar named ``desc`` unless quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    with tqdm(
        items,
        desc=desc,
        total=total,
        initial=initial,
        unit=unit,
        file=sys.stderr,
        mininterval=0.5,
        dynamic_ncols=True,
    ) as bar:
        yield from bar


class Steps:
    """A bar over the named steps of a phase that has no items to count ("audit: premise 3/4"),
    shown like :func:`progress` (a terminal, not quiet)."""

    def __init__(self, desc: str, steps: int, quiet: bool) -> None:
        self.desc = desc
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=steps, desc=desc, unit=" step", file=sys.stderr, dynamic_ncols=True)

    def step(self, name: str) -> None:
        """Start step ``name`` (the one before it is done)."""
        if self.bar is not None:
            if self.bar.desc != self.desc:
                self.bar.update(1)
            self.bar.set_description(f"{self.desc}: {name}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
