"""What network engineers reach for, on option3's live routers (issue 32): a capture of a live
link decoded by tshark (the label stack depth of the echo requests, as verify's wire-labels
check derives it from the model), Ctrl-C leaving no tcpdump behind; a route target changed
by hand that `mplslab diff` shows as exactly that line and `mplslab save` writes; and a
shell on a router (`sh -c`, a script, an interactive shell driven through tmux) whose
vtysh reaches that router's daemons. The links, routers and route targets come from the
model, never written down."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time

import pytest
from labkit import (
    MPLSLAB,
    capture_during_ping,
    captures_left,
    echo_request_depths,
    mplslab,
    vtysh,
    wire_hop,
)

from emulator.paths import PROJECT_DIR, state_dir
from emulator.runtime.state import LabState

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("option3")]


def test_capture_of_a_link_by_its_ends_has_the_label_stack_the_slides_say(option3, tmp_path):
    """`capture option3 PE-2:P-2 -w FILE --count N`: tshark finds the echo requests of a
    ping across the lab with the depth wire-labels expects on that link (three labels
    leaving PE-2); the same through standard output (`| wireshark -k -i -`)."""
    model, runtime = option3
    source, destination, hop = wire_hop(model)
    link = f"{hop.sender}:{hop.receiver}"
    end = model.link_end(link)
    pcap = tmp_path / "link.pcap"
    status, said, _ = capture_during_ping("option3", link, source, destination, pcap, count=8)
    assert status == 0, said
    assert f"capturing on {end} of option3" in said and f"wrote {pcap}" in said
    depths = echo_request_depths(pcap, source, destination)
    assert depths and set(depths) == {hop.depth}, (hop, depths)
    status, said, written = capture_during_ping("option3", link, source, destination, None,
                                                count=8)
    assert status == 0, said
    piped = tmp_path / "piped.pcap"
    piped.write_bytes(written)
    depths = echo_request_depths(piped, source, destination)
    assert depths and set(depths) == {hop.depth}, (hop, depths)
    assert not captures_left(runtime, hop.sender)


def test_ctrl_c_ends_a_capture_whole_and_leaves_no_tcpdump(option3, tmp_path):
    model, runtime = option3
    source, destination, hop = wire_hop(model)
    pcap = tmp_path / "stopped.pcap"
    status, said, _ = capture_during_ping("option3", f"{hop.sender}:{hop.receiver}", source,
                                          destination, pcap, interrupt=True)
    assert status == 0, said
    assert "packets captured" in said  # tcpdump's own last words: it ended, not killed
    assert set(echo_request_depths(pcap, source, destination)) == {hop.depth}
    assert not captures_left(runtime, hop.sender)


def test_vtysh_in_sh_c_and_in_a_script_reaches_the_routers_daemons(option3):
    """The issue's own example, `exec option3 PE-2 -- sh -c "vtysh -c 'show bgp summary'"`,
    said "failed to connect to any daemons"."""
    model, _ = option3
    _, _, hop = wire_hop(model)
    pe = model.node(hop.sender)
    said = mplslab("exec", "option3", pe.name, "--", "sh", "-c",
                   "vtysh -c 'show bgp summary'")
    assert f"BGP router identifier {pe.router_id}" in said.stdout
    script = LabState.folder("option3") / "show-bgp.sh"  # a folder the routers see
    script.write_text("#!/bin/sh\nset -e\nvtysh -c 'show bgp summary' | head -n 3\n"
                      "echo done\n")
    script.chmod(0o755)
    said = mplslab("exec", "option3", pe.name, "--", "sh", str(script))
    assert f"BGP router identifier {pe.router_id}" in said.stdout and "done" in said.stdout
    # A link by its ends: the command runs on its router, with its interface.
    end = model.link_end(f"{hop.sender}:{hop.receiver}")
    said = mplslab("exec", "option3", f"{hop.sender}:{hop.receiver}", "--", "sh", "-c",
                   'ip -o link show dev "$MPLSLAB_INTERFACE"; echo "to $MPLSLAB_PEER"')
    assert f": {end.interface}@" in said.stdout and f"to {end.peer}" in said.stdout
    assert f"{hop.sender}:{hop.receiver} is {end}" in said.stderr


def test_an_interactive_shell_on_a_router_reaches_its_daemons(option3):
    """`exec option3 PE-2 -- bash` at a terminal (tmux gives it one): vtysh typed there,
    with -c and then interactively, answers as PE-2."""
    model, _ = option3
    _, _, hop = wire_hop(model)
    pe = model.node(hop.sender)
    assert shutil.which("tmux"), "tmux is not installed (make setup installs it)"
    # A server of this test's own: it inherits this process's environment (MPLSLAB_STATE).
    tmux = ["tmux", "-L", f"mplslab-e2e-{os.getpid()}"]
    shell = shlex.join([*MPLSLAB, "exec", "option3", pe.name, "--", "bash", "--norc", "-i"])
    subprocess.run([*tmux, "new-session", "-d", "-s", "router", "-x", "200", "-y", "50",
                    shell], check=True, cwd=PROJECT_DIR)
    identifier = f"BGP router identifier {pe.router_id}"

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-J", "-S", "-500", "-t",
                               "router"], capture_output=True, text=True).stdout

    def typed(keys: str, shows: str) -> str:
        """Type ``keys`` and Enter; wait until the screen shows ``shows`` once more."""
        before = screen().count(shows)
        subprocess.run([*tmux, "send-keys", "-t", "router", keys, "Enter"], check=True)
        deadline = time.monotonic() + 120
        while (shown := screen()).count(shows) <= before:
            assert time.monotonic() < deadline, f"no {shows!r} after {keys!r}:\n{shown}"
            time.sleep(1)
        return shown

    try:
        typed("echo ready-$((6*7))", "ready-42")
        typed("vtysh -c 'show bgp summary'", identifier)
        typed("vtysh", "Hello, this is FRRouting")
        shown = typed("show bgp summary", identifier)
        subprocess.run([*tmux, "send-keys", "-t", "router", "exit", "Enter"], check=True)
        typed("echo back-$((6*7))", "back-42")  # vtysh ended: bash reads again
        assert "failed to connect" not in shown, shown
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_diff_shows_a_route_target_changed_by_hand_and_save_writes_it(option3, tmp_path):
    """As deployed, nothing differs; a route target replaced by hand in a PE's VRF is
    exactly one line out and one in, in that VRF's block; `save` writes the router's
    running configuration with it; put back, nothing differs again."""
    model, runtime = option3
    deployed = mplslab("diff", "option3", check=False)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    pe = next(n for n in model.nodes if n.role == "pe" and n.vrfs)
    vrf = pe.vrfs[0]
    both = vrf.import_targets == vrf.export_targets  # as templates/frr/bgp_vrf.j2 words it
    kind = "both" if both else "import"
    old = " ".join(vrf.import_targets)
    used = {t for v in model.vpns for t in [*v.import_targets, *v.export_targets]}
    new = next(f"{pe.bgp_asn}:{n}" for n in range(4242, 4300) if f"{pe.bgp_asn}:{n}" not in used)
    block = [f"router bgp {pe.bgp_asn} vrf {vrf.name}", "address-family ipv4 unicast"]

    def replace(was: str, now: str) -> None:
        done = runtime.exec(pe.name, vtysh(*block, f"no rt vpn {kind} {was}",
                                           f"rt vpn {kind} {now}"))
        assert done.returncode == 0 and "%" not in done.stdout, done.stdout + done.stderr

    replace(old, new)
    try:
        changed = mplslab("diff", "option3", check=False)
        assert changed.returncode == 1, changed.stdout + changed.stderr
        lines = [line for line in changed.stdout.splitlines()
                 if line[:1] in "+-" and not line.startswith(("--- ", "+++ "))]
        assert lines == [f"-  rt vpn {kind} {old}", f"+  rt vpn {kind} {new}"], changed.stdout
        assert f"@@ {' / '.join(block)} @@" in changed.stdout
        assert changed.stdout.startswith(f"--- {pe.name}/frr.conf")
        folder = tmp_path / "saved"
        mplslab("save", "option3", "--out", str(folder))
        assert {p.parent.name for p in folder.glob("*/frr.conf")} == \
            {n.name for n in model.nodes}
        saved = (folder / pe.name / "frr.conf").read_text()
        assert f"rt vpn {kind} {new}" in saved and f"rt vpn {kind} {old}" not in saved
        # By default beside the lab's state folder, named in what it says.
        told = mplslab("save", "option3", pe.name)
        [default] = (state_dir() / "option3.saved").glob(f"*/{pe.name}/frr.conf")
        assert str(default.parent.parent) in told.stdout.replace("\n", "")
        assert f"rt vpn {kind} {new}" in default.read_text()
    finally:
        replace(new, old)
        shutil.rmtree(state_dir() / "option3.saved", ignore_errors=True)
    again = mplslab("diff", "option3", pe.name, check=False)  # one router: seconds
    assert again.returncode == 0, again.stdout + again.stderr
