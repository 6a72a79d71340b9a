"""Stall probe for the micro-VM: N boots, several at a time, optionally with every spare
core kept busy, and for each boot whether the guest answered SSH the first time and how
long that took. Prints figures; asserts nothing.

    python bench/boot_probe.py [--boots 8] [--parallel 2] [--load 1]

A boot "answered first time" when SSH answered before the boot deadline, without the
runtime's retry. The console of every boot is kept under .mplslab/bootprobe-*.console.log;
"no DHCP lease" counts boots in which virtme-ng-init's one-shot DHCP never got a lease: those
stalled before the appliance's guest script (emulator/runtime/guest/sshd) set eth0's
address itself.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulator.errors import LabError
from emulator.runtime import appliance
from emulator.runtime.state import LabState
from emulator.runtime.vm import VmRuntime
from emulator.runtime.vm_boot import BOOT_DEADLINE, BootTimeout, kvm_works, shared_folders
from emulator.runtime.vm_processes import owner_tag


def burn() -> None:
    while True:
        pass


def one_boot(index: int, image: appliance.Appliance, disk: Path, kvm: bool) -> dict:
    name = f"bootprobe-{index}"
    state = LabState(lab=name, variant=None, runtime="vm", rendered="", source="probe")
    runtime = VmRuntime(state)
    console = LabState.folder(name).parent / f"{name}.console.log"
    console.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    outcome = "answered"
    try:
        # A VM of the probe's own (its own tag, no shared record): never the labs' VM.
        runtime.boot(image, disk, kvm, console, progress=lambda line: None, tag=owner_tag(name))
    except BootTimeout:
        outcome = "stalled"
    except LabError as exc:
        outcome = f"failed: {exc.message}"
    seconds = time.monotonic() - started
    runtime.down()
    LabState.remove(name)
    text = console.read_text(errors="replace") if console.exists() else ""
    return {"boot": index, "outcome": outcome, "seconds": seconds,
            "dhcp_lease": "udhcpc: lease of" in text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boots", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--load", type=int, default=1,
                        help="busy processes beside the boots (default 1: the other core)")
    args = parser.parse_args()
    image = appliance.build(progress=print)
    disk = appliance.vm_disk(image, [folder for folder, _ in shared_folders()], print)
    kvm = kvm_works(image, disk)
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.load)]
    for process in burners:
        process.start()
    try:
        with ThreadPoolExecutor(args.parallel) as pool:
            results = list(pool.map(lambda i: one_boot(i, image, disk, kvm),
                                    range(1, args.boots + 1)))
    finally:
        for process in burners:
            process.kill()
    for result in results:
        print(f"boot {result['boot']:2d}: {result['outcome']:9s} {result['seconds']:6.1f} s"
              + ("" if result["dhcp_lease"] else "  (no DHCP lease)"))
    answered = [r for r in results if r["outcome"] == "answered"]
    times = [r["seconds"] for r in answered]
    print(f"\n{'KVM' if kvm else 'software emulation'}, {args.parallel} at a time, "
          f"{args.load} busy process(es), boot deadline {BOOT_DEADLINE:.0f} s, "
          f"{multiprocessing.cpu_count()} cores")
    print(f"boots tried:             {len(results)}")
    print(f"answered first time:     {len(answered)}")
    print(f"no DHCP lease:           {sum(not r['dhcp_lease'] for r in results)}")
    if times:
        print(f"seconds to SSH:          min {min(times):.1f}, median "
              f"{statistics.median(times):.1f}, max {max(times):.1f}")
    print(f"consoles: {Path(LabState.folder('x').parent)}/bootprobe-*.console.log")


if __name__ == "__main__":
    main()
