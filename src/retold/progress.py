"""Progress bars on stderr: shown on a terminal, silent when stderr is not a TTY or with --quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], desc: str, quiet: bool, total: int | None = None, initial: int = 0
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
        unit=" doc",
        file=sys.stderr,
        mininterval=0.5,
        dynamic_ncols=True,
    ) as bar:
        yield from bar
