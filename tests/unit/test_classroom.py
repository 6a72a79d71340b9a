"""A class on one machine without routers: the copies' names and lab files, the memory a
class needs, its record, `class up` all or nothing, `class down` whatever is broken,
`class check`'s one row per trainee and its reports, and the command line's errors."""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from emulator import lifecycle
from emulator.classroom import course, grading, sizing
from emulator.classroom.copies import ClassRecord, DamagedClass, classes, copy_names, index_of
from emulator.cli import app
from emulator.errors import LabError, RuntimeFailure
from emulator.model.build import load_lab
from emulator.model.loader import renamed
from emulator.paths import PROJECT_DIR, state_dir
from emulator.render import render_lab
from emulator.runtime import vm_boot, vm_pin
from emulator.runtime.base import Runtime
from emulator.runtime.containers import container
from emulator.runtime.netns import namespace
from emulator.runtime.state import LabState
from emulator.runtime.vm_shared import class_user, described
from emulator.verify.checks import Report, Result

MINI = str(PROJECT_DIR / "tests" / "e2e" / "labs" / "mini.yml")
OPTION3 = str(PROJECT_DIR / "labs" / "option3.yml")


def mplslab(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


# -- names and copies ------------------------------------------------------------------------
def test_copies_are_named_after_the_lab_and_the_trainee():
    assert copy_names("option3", 3) == ["option3-t1", "option3-t2", "option3-t3"]
    assert [index_of("option3", name) for name in ("option3-t2", "option3-t12", "option3",
                                                   "option3-t0", "option4-t1", "a-t1-t2")] \
        == [2, 12, None, None, None, None]
    assert index_of("a-t1", "a-t1-t2") == 2


@pytest.mark.parametrize("lab,trainees,message", [
    ("option3", 0, "at least one trainee"),
    ("csc-mpls", 100, "longer than a lab name may be"),
    ("abcdefghijk", 2, "at most 9 characters"),
])
def test_a_class_whose_copies_cannot_be_named_is_refused(lab, trainees, message):
    with pytest.raises(LabError, match=message):
        copy_names(lab, trainees)


def test_a_copy_is_the_lab_renamed_and_nothing_else():
    text = Path(OPTION3).read_text()
    copy = renamed(text, "option3-t2")
    changed = [(a, b) for a, b in zip(text.splitlines(), copy.splitlines(), strict=True)
               if a != b]
    assert changed == [("name: option3", "name: option3-t2")]
    with pytest.raises(LabError, match="no top-level `name:` line"):
        renamed("title: x\n  name: y\n", "z")


def test_two_copies_collide_in_nothing_that_is_per_lab(tmp_path):
    """Their names, namespaces (FRR's pathspaces), containers and state folders differ; the
    addresses inside their routers are the lab's own, which no other copy's router sees."""
    copies = []
    for name in ("option3-t1", "option3-t2"):
        path = tmp_path / f"{name}.yml"
        path.write_text(renamed(Path(OPTION3).read_text(), name))
        copies.append(load_lab(str(path)))
    one, two = copies
    assert (one.name, two.name) == ("option3-t1", "option3-t2")
    for per_lab in (namespace, container):
        assert not {per_lab(one.name, n.name) for n in one.nodes} \
            & {per_lab(two.name, n.name) for n in two.nodes}
    assert LabState.folder(one.name) != LabState.folder(two.name)
    render_lab(one, tmp_path / "one")
    render_lab(two, tmp_path / "two")
    for node in one.nodes:
        assert (tmp_path / "one" / node.name / "frr.conf").read_text() == \
            (tmp_path / "two" / node.name / "frr.conf").read_text()


# -- sizing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,mib", [("2G", 2048), ("2560M", 2560), ("3072", 3072),
                                      ("1.5G", 1536), ("1t", 1048576), ("524288K", 512)])
def test_memory_sizes_read_as_qemu_reads_them(text, mib):
    assert vm_boot.memory_mib(text) == mib


@pytest.mark.parametrize("text", ["", "2GB", "lots", "-1G", "2 G"])
def test_a_memory_size_qemu_would_refuse_is_refused(text):
    with pytest.raises(LabError, match="not a memory size"):
        vm_boot.memory_mib(text)


def test_the_vm_memory_is_read_at_each_boot(monkeypatch, tmp_path):
    from emulator.runtime import appliance

    rootfs = tmp_path / "rootfs"
    (rootfs / "boot").mkdir(parents=True)
    (rootfs / "boot" / "vmlinuz-6.12.99+deb13-amd64").write_text("")
    monkeypatch.setattr(vm_boot, "vng_binary", lambda: Path("/usr/bin/vng"))

    def memory(**kwargs) -> str:
        command = vm_boot.vng_command(appliance.Appliance(rootfs), tmp_path / "root.ext4",
                                      kvm=False, extra=[], **kwargs)
        return command[command.index("--memory") + 1]
    monkeypatch.delenv("MPLSLAB_VM_MEMORY", raising=False)
    assert memory() == "2G"
    monkeypatch.setenv("MPLSLAB_VM_MEMORY", "3G")
    assert memory() == "3G"
    assert memory(memory="2560M") == "2560M"


def test_a_class_needs_memory_per_router_and_a_base_for_its_vm():
    four = sizing.Size("option3", 12, 4)
    assert four.copy_mib == 12 * sizing.ROUTER_MIB == 480
    assert four.copies_mib == 1920
    # The guest's base and the copies, in steps: 512 + 1920 = 2432 -> 2560.
    assert four.vm_mib == 2560
    assert sizing.Size("mini", 5, 2).vm_mib == 1024
    assert four.fitting(1500) == 3 and four.fitting(-10) == 0


def test_a_running_vm_with_room_takes_the_class():
    plan = sizing.in_running_vm(sizing.Size("mini", 5, 2), total_mib=3000,
                                available_mib=2500, users=[])
    assert plan.memory is None
    assert "2 copies of mini (5 routers each, ~40 MiB a router): ~400 MiB" in plan.told
    assert "2500 MiB free of 3000 MiB" in plan.told


def test_a_running_vm_too_small_says_how_to_restart_it_bigger():
    with pytest.raises(LabError) as caught:
        sizing.in_running_vm(sizing.Size("option3", 12, 4), total_mib=1985,
                             available_mib=1400, users=described(["option1", "_pinned"]))
    text = str(caught.value)
    assert "the running micro-VM has 1400 MiB free of 1985 MiB" in text
    assert "at most 2 copies fit now" in text
    assert "option1, `mplslab vm start`" in text and "`mplslab vm stop`" in text
    assert "MPLSLAB_VM_MEMORY=2560M mplslab vm start" in text


def test_a_vm_booted_for_the_class_is_as_big_as_it_needs_and_the_host_has():
    size = sizing.Size("option3", 12, 4)
    plan = sizing.in_new_vm(size, usual_mib=2048, host_available_mib=20000)
    assert plan.memory == "2560M" and "booting the micro-VM with 2560 MiB" in plan.told
    assert sizing.in_new_vm(sizing.Size("mini", 5, 2), usual_mib=2048,
                            host_available_mib=20000).memory == "2048M"
    with pytest.raises(LabError) as caught:
        sizing.in_new_vm(size, usual_mib=2048, host_available_mib=1600)
    assert "need a micro-VM of 2560 MiB; this host has 1600 MiB available (at most 2 " \
           "copies fit)" in str(caught.value)
    assert "several machines" in str(caught.value)


def test_routers_on_this_host_need_the_hosts_memory():
    assert sizing.on_this_host(sizing.Size("mini", 5, 2), 4000).memory is None
    with pytest.raises(LabError, match="at most 1 copy fits"):
        sizing.on_this_host(sizing.Size("mini", 5, 2), 500)


def test_memory_is_read_from_meminfo_and_loadavg():
    meminfo = "MemTotal:        2030044 kB\nMemFree:  100 kB\nMemAvailable:    1210044 kB\n"
    assert sizing.meminfo_mib(meminfo) == pytest.approx(1181.68, abs=0.01)
    readings = vm_pin.parse_readings(meminfo, "0.52 1.07 0.93 2/180 4242\n")
    assert readings.load == (0.52, 1.07, 0.93)
    assert readings.used_mib == pytest.approx((2030044 - 1210044) / 1024)
    with pytest.raises(RuntimeFailure, match="cannot be read"):
        vm_pin.parse_readings("MemTotal: 1 kB\n", "")


# -- the record ----------------------------------------------------------------------------
def test_the_record_keeps_the_copies_and_a_damaged_one_is_told():
    record = ClassRecord(lab="mini", trainees=["mini-t1", "mini-t2"], runtime="vm",
                         source=MINI, vm_user=class_user("mini"), memory="2048M")
    ClassRecord.folder("mini").mkdir(parents=True)
    record.write_copies()
    record.save()
    assert ClassRecord.load("mini") == record
    assert classes() == ["mini"]
    assert load_lab(record.files["mini-t2"]).name == "mini-t2"
    (ClassRecord.folder("mini") / "class.json").write_text('{"lab": "mini", "trainees": '
                                                           '["option3-t1"], "runtime": "vm"}')
    with pytest.raises(DamagedClass, match="is damaged"):
        ClassRecord.load("mini")
    record.remove()
    assert not (state_dir() / "_class").exists()
    with pytest.raises(LabError, match="class mini is not up"):
        ClassRecord.load("mini")


# -- up and down, on routers that are never started ------------------------------------------
class FakeRuntime(Runtime):
    """Routers that are never started; ``fail_on`` names the copy whose `up` fails."""

    name = "netns"
    calls: ClassVar[list[str]] = []
    fail_on: ClassVar[str | None] = None
    interrupt_on: ClassVar[str | None] = None

    @classmethod
    def available(cls):
        return True, "a fake"

    @classmethod
    def force_down(cls, lab):
        cls.calls.append(f"force_down {lab}")
        return []

    def up(self, progress):
        self.calls.append(f"up {self.state.lab}")
        progress("routers started")
        if self.state.lab == self.fail_on:
            raise RuntimeFailure("the deploy broke", hint="see its log")
        if self.state.lab == self.interrupt_on:
            raise KeyboardInterrupt

    def down(self):
        self.calls.append(f"down {self.state.lab}")

    def reset(self, progress):
        self.calls.append(f"reset {self.state.lab}")

    def gone(self):
        return None

    def exec(self, node, argv, timeout=60.0):
        raise AssertionError("no router runs here")

    def capture(self, taps, node, argv, **kwargs):
        raise AssertionError("no router runs here")

    def status(self):
        return {"routers": {}}


@pytest.fixture
def fake(monkeypatch):
    """`class up` as root on the fake runtime, with room for any class."""
    monkeypatch.setattr("emulator.runtime.appliance.require_root", lambda what: None)
    monkeypatch.setattr(lifecycle, "choose", lambda requested: ("netns", "a fake"))
    monkeypatch.setattr(course, "choose", lambda requested: ("netns", "a fake"))
    monkeypatch.setattr(lifecycle, "make_runtime", FakeRuntime)
    monkeypatch.setattr(lifecycle, "RUNTIMES", {"netns": None})
    monkeypatch.setattr(lifecycle, "runtime_class", lambda name: FakeRuntime)
    monkeypatch.setattr(sizing, "plan", lambda runtime, size: sizing.Plan(f"fits: {size.lab}"))
    monkeypatch.setattr(FakeRuntime, "calls", [])
    monkeypatch.setattr(FakeRuntime, "fail_on", None)
    monkeypatch.setattr(FakeRuntime, "interrupt_on", None)
    handler = signal.getsignal(signal.SIGTERM)
    yield FakeRuntime
    signal.signal(signal.SIGTERM, handler)


class Told(course.ClassWatch):
    def __init__(self):
        self.told: list[str] = []

    def sized(self, text):
        self.told.append(text)

    def copy_starting(self, index, total, lab):
        self.told.append(f"{index}/{total} {lab}")

    def copy_up(self, lab, seconds):
        self.told.append(f"up {lab}")

    def undoing(self, failed, copies):
        self.told.append(f"undo {failed}: {copies}")

    def copy_down(self, lab, problem):
        self.told.append(f"down {lab}" + (f": {problem}" if problem else ""))


def nothing_left(lab: str) -> None:
    assert not ClassRecord.exists(lab)
    assert not [name for name in LabState.names() if index_of(lab, name)]
    assert not (state_dir() / "_class").exists()


def test_class_up_brings_the_copies_up_in_order_and_down_takes_them_all(fake):
    watch = Told()
    done = course.up(MINI, 3, watch=watch)
    assert watch.told == ["fits: mini", "1/3 mini-t1", "up mini-t1", "2/3 mini-t2",
                          "up mini-t2", "3/3 mini-t3", "up mini-t3"]
    assert fake.calls == ["up mini-t1", "up mini-t2", "up mini-t3"]
    assert done.record.trainees == ["mini-t1", "mini-t2", "mini-t3"]
    assert done.record.vm_user is None  # the routers run on this host
    for name in done.record.trainees:
        state = LabState.load(name)
        assert state.source == done.record.files[name]
        assert json.loads((Path(state.rendered) / "model.json").read_text())["name"] == name
    with pytest.raises(LabError, match="class mini is already up"):
        course.up(MINI, 2)
    watch = Told()
    course.down("mini", watch=watch)
    assert watch.told == ["down mini-t1", "down mini-t2", "down mini-t3"]
    assert fake.calls[3:] == ["down mini-t1", "down mini-t2", "down mini-t3"]
    nothing_left("mini")


def test_a_copy_that_fails_takes_the_others_down_and_is_named(fake):
    fake.fail_on = "mini-t3"
    watch = Told()
    with pytest.raises(LabError) as caught:
        course.up(MINI, 4, watch=watch)
    assert str(caught.value) == (
        "class mini: mini-t3 (trainee 3 of 4) failed: the deploy broke; the 2 copies up "
        "before it were taken down, nothing is left (see its log)")
    assert caught.value.exit_code == 1
    assert "undo mini-t3 (trainee 3 of 4): ['mini-t1', 'mini-t2']" in watch.told
    assert fake.calls == ["up mini-t1", "up mini-t2", "up mini-t3", "down mini-t3",
                          "down mini-t2", "down mini-t1"]
    nothing_left("mini")


def test_an_interrupted_class_up_leaves_nothing(fake):
    fake.interrupt_on = "mini-t2"
    result = mplslab("class", "up", MINI, "--trainees", "2")
    assert result.exit_code == 130, result.output
    assert "interrupted: nothing is left behind" in result.output
    assert fake.calls == ["up mini-t1", "up mini-t2", "down mini-t2", "down mini-t1"]
    nothing_left("mini")


def test_a_class_up_that_fails_exits_non_zero_naming_the_copy(fake):
    fake.fail_on = "mini-t1"
    result = mplslab("class", "up", MINI, "-n", "2")
    assert result.exit_code == 1, result.output
    assert "mini-t1 (trainee 1 of 2) failed: the deploy broke; no copy was up" in result.output
    nothing_left("mini")


def test_copies_names_taken_by_a_running_lab_are_refused_before_anything(fake):
    LabState.folder("mini-t2").mkdir(parents=True)
    with pytest.raises(LabError, match="lab mini-t2 is already up, and it is the name of "
                                       "trainee 2's copy"):
        course.up(MINI, 3)
    assert fake.calls == [] and not ClassRecord.exists("mini")


def test_class_down_takes_down_broken_copies_by_name(fake):
    course.up(MINI, 3)
    # A trainee took one copy down by hand; another's state file is damaged.
    lifecycle.down("mini-t1")
    LabState.path("mini-t3").write_text("{")
    fake.calls.clear()
    watch = Told()
    course.down("mini", watch=watch)
    assert watch.told == ["down mini-t1", "down mini-t2", "down mini-t3"]
    assert fake.calls == ["force_down mini-t1", "down mini-t2", "force_down mini-t3"]
    nothing_left("mini")


def test_class_down_of_a_damaged_record_finds_the_copies_by_name(fake):
    course.up(MINI, 2)
    (ClassRecord.folder("mini") / "class.json").write_text("garbage")
    fake.calls.clear()
    course.down("mini")
    assert fake.calls == ["down mini-t1", "down mini-t2"]
    nothing_left("mini")


def test_a_copy_that_cannot_be_taken_down_keeps_the_class_to_try_again(fake, monkeypatch):
    course.up(MINI, 2)

    def broken(name, *, force=False, watch=lifecycle.SILENT):
        raise RuntimeFailure(f"{name} will not go")
    monkeypatch.setattr(lifecycle, "down", broken)
    with pytest.raises(RuntimeFailure, match="2 copies could not be taken down"):
        course.down("mini")
    assert ClassRecord.exists("mini")


def test_a_class_in_the_micro_vm_keeps_it_up_with_its_memory_until_down(fake, monkeypatch):
    monkeypatch.setattr(course, "choose", lambda requested: ("vm", "a fake"))
    monkeypatch.setattr(sizing, "plan", lambda runtime, size: sizing.Plan("boot", "2560M"))
    pinned: list[tuple] = []
    monkeypatch.setattr(vm_pin, "pin", lambda progress, user, memory: pinned.append(
        ("pin", user, memory)))
    monkeypatch.setattr(vm_pin, "unpin", lambda user: pinned.append(("unpin", user)))
    done = course.up(MINI, 2)
    assert done.record.vm_user == "_class-mini" and done.record.memory == "2560M"
    assert pinned == [("pin", "_class-mini", "2560M")]
    course.down("mini")
    assert pinned[-1] == ("unpin", "_class-mini")
    nothing_left("mini")
    fake.fail_on = "mini-t1"
    with pytest.raises(LabError):
        course.up(MINI, 2)
    assert pinned[-1] == ("unpin", "_class-mini")


# -- check ---------------------------------------------------------------------------------
def report_of(lab: str, failed: int = 0) -> Report:
    results = [Result(f"check {i}", "ping", "CE-A", i >= failed, "x", "y", 0.5)
               for i in range(4)]
    return Report(lab=lab, variant=None, passed=not failed, seconds=2.0, results=results)


def test_class_check_has_one_row_per_trainee_and_writes_json_and_junit(fake, monkeypatch,
                                                                        tmp_path):
    course.up(MINI, 3)
    outcomes = {"mini-t1": 0, "mini-t2": 2}
    monkeypatch.setattr("emulator.verify.runner.run_checks",
                        lambda model, runtime, **kw: report_of(model.name,
                                                               outcomes[model.name]))
    (LabState.folder("mini-t2") / "exercise.json").write_text('{"name": "rt-import"}')
    lifecycle.down("mini-t3")  # a trainee took it down
    json_path, junit_path = tmp_path / "class.json", tmp_path / "class.xml"
    result = mplslab("class", "check", "mini", "--json", str(json_path),
                     "--junit", str(junit_path))
    assert result.exit_code == 1, result.output
    told = " ".join(result.output.split())
    for row in ("│ 1 │ mini-t1 │ passed │ 4 │ 0 │ - │", "│ 2 │ mini-t2 │ FAILED │ 2 │ 2 │ "
                "rt-import │", "│ 3 │ mini-t3 │ not running │ - │ - │ - │ - │",
                "mini-t2: FAIL [ping] check 0", "mini-t3: lab mini-t3 is not up (bring it "
                f"back: mplslab up {ClassRecord.folder('mini') / 'mini-t3.yml'})"):
        assert row in told, result.output
    assert "1 of 3 trainees' copies pass" in result.output
    report = json.loads(json_path.read_text())
    assert report["class"] == "mini" and report["passed"] is False
    assert [(t["trainee"], t["lab"], t["verdict"], t["checks_passed"], t["checks_failed"],
             t["exercise"]) for t in report["trainees"]] == [
        (1, "mini-t1", "passed", 4, 0, None), (2, "mini-t2", "FAILED", 2, 2, "rt-import"),
        (3, "mini-t3", "not running", 0, 0, None)]
    assert report["trainees"][0]["report"]["lab"] == "mini-t1"
    suites = ElementTree.parse(junit_path).getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "2"
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("errors"))
            for s in suites] == [("mplslab.mini-t1", "4", "0", None),
                                 ("mplslab.mini-t2", "4", "2", None),
                                 ("mplslab.mini-t3", "1", "0", "1")]


def test_class_check_passes_when_every_copy_passes(fake, monkeypatch):
    course.up(MINI, 2)
    monkeypatch.setattr("emulator.verify.runner.run_checks",
                        lambda model, runtime, **kw: report_of(model.name))
    report = grading.check("mini")
    assert report.passed and [t.verdict for t in report.trainees] == ["passed", "passed"]
    assert mplslab("class", "check", "mini").exit_code == 0


# -- the command line's errors -------------------------------------------------------------
@pytest.mark.parametrize("args,message", [
    (["class", "up", "nosuchlab", "-n", "2"], "no lab named 'nosuchlab'"),
    (["class", "up", MINI, "-n", "999999999"], "longer than a lab name may be"),
    (["class", "up", OPTION3, "-n", "2", "--runtime", "docker"], "unknown runtime 'docker'"),
    (["class", "check", "mini"], "class mini is not up (start it: mplslab class up mini "
                                 "--trainees N)"),
    (["class", "down", "mini"], "class mini is not up"),
    (["class", "check", "../etc"], "is not a lab name"),
    (["class", "check", "mini", "--kind", "pings"], "unknown check kind 'pings'"),
])
def test_class_commands_fail_with_one_clear_message(args, message):
    result = mplslab(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert not state_dir().exists() or not any(state_dir().iterdir())


def test_zero_trainees_is_a_usage_error():
    result = mplslab("class", "up", MINI, "--trainees", "0")
    assert result.exit_code == 2 and "--trainees" in result.output


def test_the_plan_asks_the_running_vm_or_sizes_a_new_one_or_the_host(monkeypatch):
    from emulator.runtime import vm_shared
    from emulator.runtime.vm import VmRuntime

    size = sizing.Size("option3", 12, 4)
    monkeypatch.setattr(sizing, "host_available_mib", lambda: 20000.0)
    monkeypatch.setattr(vm_shared, "shared_vm", lambda: {"tag": "x", "console": "c.log"})
    monkeypatch.setattr(vm_shared, "vm_users", lambda: ["_pinned", "_class-option3"])
    monkeypatch.setattr(vm_shared, "vm_alive", lambda record: True)
    monkeypatch.setattr(VmRuntime, "answers", staticmethod(lambda record: True))
    monkeypatch.setattr(vm_pin, "guest_readings", lambda record: vm_pin.GuestReadings(
        1985.0, 1400.0, (0.1, 0.1, 0.1)))
    with pytest.raises(LabError, match=r"too little .* take down what uses it "
                                       r"\(`mplslab vm start`;"):
        sizing.plan("vm", size)
    monkeypatch.setattr(VmRuntime, "answers", staticmethod(lambda record: False))
    with pytest.raises(LabError, match="does not answer SSH"):
        sizing.plan("vm", size)
    monkeypatch.setattr(vm_shared, "vm_alive", lambda record: False)
    monkeypatch.delenv("MPLSLAB_VM_MEMORY", raising=False)
    assert sizing.plan("vm", size).memory == "2560M"
    assert sizing.plan("clab-vm", size).memory == "2560M"
    assert sizing.plan("netns", size).memory is None
