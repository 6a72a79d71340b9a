"""A generated lab on live routers: a different seed each run proves, over time, that any
lab in the documented format works, not only the shipped ones.

The lab comes from tests/labgen.py in its small shape (two VPNs, one site per VPN and side,
at most one P router per core; the option and variant follow from the seed). The seed is
MPLSLAB_LAB_SEED when set, else drawn fresh; it is printed and named in any failure, so the
run can be replayed: ``python tests/labgen.py --seed N --small > lab.yml``, then ``mplslab
up lab.yml --verify``, or ``MPLSLAB_LAB_SEED=N pytest tests/e2e/test_generated_lab.py``.

(The file is not called test_generated_labs.py: tests/unit has a module of that name, and
pytest, run on tests/unit and tests/e2e at once as `make test` does, refuses two test
modules with one basename.)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from labkit import running_lab, verify_all

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import labgen

pytestmark = pytest.mark.e2e


def lab_seed() -> int:
    chosen = os.environ.get("MPLSLAB_LAB_SEED", "").strip()
    return int(chosen) if chosen else time.time_ns() // 1000 % 1_000_000


def test_a_generated_lab_passes_verify(tmp_path):
    seed = lab_seed()
    lab = labgen.generate(seed, small=True)
    about = (f"generated lab {lab.name} from seed {seed}: option {lab.option}"
             f"{f', variant {lab.variant}' if lab.variant else ''}, {lab.shape['routers']} "
             f"routers; replay: MPLSLAB_LAB_SEED={seed} or {lab.replay}")
    print(about, flush=True)
    print(lab.text, flush=True)
    path = tmp_path / f"{lab.name}.yml"
    path.write_text(lab.text)
    try:
        with running_lab(str(path)) as (model, _):
            assert (model.name, model.variant) == (lab.name, lab.variant)
            report = verify_all(lab.name, tmp_path)
    except Exception as exc:
        raise AssertionError(f"{about}\n{type(exc).__name__}: {exc}") from exc
    assert report["variant"] == lab.variant, about
