"""How long loading, normalising and rendering every lab takes (prints figures)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from emulator.model.build import load_lab
from emulator.model.loader import read_raw
from emulator.paths import labs_dir
from emulator.render import render_lab

ROUNDS = 20


def main() -> None:
    cases = []
    for path in sorted(labs_dir().glob("*.yml")):
        raw, _ = read_raw(path)
        cases += [(path.stem, v) for v in (list(raw.get("variants") or {}) or [None])]
    with tempfile.TemporaryDirectory() as out:
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            routers = 0
            for name, variant in cases:
                lab = load_lab(name, variant)
                routers += len(render_lab(lab, Path(out) / f"{name}-{variant}"))
            times.append(time.perf_counter() - started)
    print(f"labs+variants: {len(cases)}  routers rendered per round: {routers}")
    print(f"all labs, load+normalise+render: median {statistics.median(times) * 1000:.0f} ms, "
          f"best {min(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms "
          f"({ROUNDS} rounds)")
    print(f"per router: {statistics.median(times) / routers * 1000:.2f} ms")


if __name__ == "__main__":
    main()
