"""The labs this project ships, each with every variant it declares."""

from __future__ import annotations

from collections.abc import Iterator

from emulator.model.loader import read_raw
from emulator.paths import labs_dir


def lab_variants() -> Iterator[tuple[str, str | None]]:
    for path in sorted(labs_dir().glob("*.yml")):
        raw, _ = read_raw(path)
        for variant in list(raw.get("variants") or {}) or [None]:
            yield path.stem, variant
