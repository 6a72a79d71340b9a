"""The scaling point of carrier supporting carrier: a customer ISP's external table grows
(10k, 100k, 1M routes behind ASBR-1), the backbone carrier's VRFs do not. For each count:
csc-mpls with that many `external_routes` on ASBR-1, brought up; the time until ASBR-2
(site 2) holds them all over the ISP's iBGP, the route count of every backbone VRF and of
every backbone router's tables within the pool, the memory of each router and of the guest.
Prints figures; asserts nothing.

    python bench/csc_scale.py [--counts 10000 100000 1000000] [--deadline 3600]

Run it with no other lab up. Each count is its own lab (`csc-scale`), taken down after.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bringup import guest_used_mib, router_rss_mib

from emulator.model.build import load_lab
from emulator.paths import labs_dir
from emulator.runtime.registry import make_runtime
from emulator.runtime.state import LabState
from emulator.suites import probes
from emulator.verify.carrier import backbone

POOL = "16.0.0.0/4"  # room for 1M /24s; the lab is isolated
NAME = "csc-scale"


def lab_file(count: int, folder: Path) -> Path:
    spec = yaml.safe_load((labs_dir() / "csc-mpls.yml").read_text())
    spec["name"] = NAME
    spec.pop("variants", None)
    spec["nodes"]["ASBR-1"]["external_routes"] = {"count": count, "pool": POOL}
    path = folder / f"{NAME}.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def received(runtime, node: str, peer: str) -> int:
    """Prefixes ``node`` received from ``peer`` in IPv4 unicast (bgpd's own count: cheap
    at any table size)."""
    answer = runtime.exec(node, ["vtysh", "-c", "show bgp ipv4 unicast summary json"],
                          timeout=120)
    try:
        peers = json.loads(answer.stdout)["peers"]
    except (json.JSONDecodeError, KeyError):
        return 0
    return int(peers.get(peer, {}).get("pfxRcd", 0))


def measure(count: int, deadline: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = lab_file(count, Path(folder))
        model = load_lab(str(path))
        started = time.monotonic()
        up = subprocess.run([sys.executable, "-m", "emulator", "up", str(path)],
                            capture_output=True, text=True, check=False)
        up_seconds = time.monotonic() - started
        figures: dict = {"count": count, "up s": round(up_seconds)}
        try:
            if up.returncode != 0:
                figures["error"] = (up.stderr or up.stdout).strip().splitlines()[-1]
                return figures
            runtime = make_runtime(LabState.load(NAME))
            asbr1 = str(model.node("ASBR-1").loopback.ip)
            held = 0
            while time.monotonic() - started < deadline:
                held = received(runtime, "ASBR-2", asbr1)
                if held >= count:
                    break
                time.sleep(5)
            figures["site 2 holds"] = held
            figures["converged s"] = round(time.monotonic() - started) if held >= count \
                else None
            for node in backbone(model):
                asks = probes(node.suites["bgp"])
                for vrf in [None, *(v.name for v in node.vrfs)]:
                    key = f"{node.name} {vrf or 'default'}"
                    figures[f"{key} in pool"] = asks.routes_within(runtime, node.name, POOL,
                                                                   vrf)
                for vrf in node.vrfs:
                    figures[f"{node.name} VRF {vrf.name} routes"] = len(
                        asks.ip_routes(runtime, node.name, vrf=vrf.name))
            figures["MiB per router"] = {n.name: round(router_rss_mib(runtime, n.name))
                                         for n in model.nodes}
            figures["guest MiB"] = round(guest_used_mib(runtime) or 0)
            return figures
        finally:
            subprocess.run([sys.executable, "-m", "emulator", "down", NAME],
                           capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--deadline", type=float, default=3600,
                        help="seconds from `up` for site 2 to hold every route")
    args = parser.parse_args()
    for count in args.counts:
        figures = measure(count, args.deadline)
        print(json.dumps(figures, indent=1), flush=True)


if __name__ == "__main__":
    main()
