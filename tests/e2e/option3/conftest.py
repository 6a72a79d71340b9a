"""One option3 for this package's tests (faults, then engineers' tools): bringing it up
costs about a minute under emulation, once instead of once per module. The package scope
takes it down after the last of them, before any other lab's test starts."""

from __future__ import annotations

import pytest
from labkit import CONVERGE, running_lab

from emulator.verify.runner import run_checks


@pytest.fixture(scope="package")
def option3():
    with running_lab("option3") as (model, runtime):
        # The data plane works end to end first: a test's checks must fail for what it
        # does, not for a lab still converging.
        converged = run_checks(model, runtime, deadline=CONVERGE, kinds={"ping", "label-chain"})
        assert converged.passed, {r.name: r.observed for r in converged.results
                                  if not r.passed}
        yield model, runtime
