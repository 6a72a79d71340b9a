"""Commands on what the routers run on: the appliance, the shared micro-VM, the router image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from emulator import lifecycle
from emulator.cli.console import err, handle_errors, out
from emulator.cli.params import JsonOpt
from emulator.cli.watch import Shown
from emulator.errors import LabError
from emulator.paths import check_output_file

appliance_app = typer.Typer(no_args_is_help=True,
                            help="The Debian 13 + FRR 10.3 root filesystem (and VM image).")
vm_app = typer.Typer(no_args_is_help=True,
                     help="The shared micro-VM: keep it running between labs, or stop it.")
image_app = typer.Typer(no_args_is_help=True,
                        help="The router image for the containerlab runtime on a Docker host.")


@appliance_app.command("build")
@handle_errors
def appliance_build(force: Annotated[bool, typer.Option("--force")] = False) -> None:
    """Build the root filesystem (mmdebstrap, ~40 s) unless its recipe is unchanged."""
    from emulator.runtime import appliance

    if appliance.is_built() and not force:
        out.print(f"up to date: {appliance.rootfs_path()}")
        return
    from emulator.runtime import vm_shared

    if vm_shared.vm_alive(vm_shared.shared_vm()):
        raise LabError("the micro-VM runs on the appliance being rebuilt",
                       hint="take its labs down (mplslab status) and `mplslab vm stop` first")
    with out.status("building the appliance with mmdebstrap") as status:
        image = appliance.build(force=force,
                                progress=lambda line: status.update(f"appliance: {line}"))
    out.print(f"built {image.rootfs} (FRR {image.package_version('frr')})")
    for entry in image.fix_records():
        out.print(f"  {entry['name']}: {escape(appliance.describe_fix(entry))}")


@appliance_app.command("path")
@handle_errors
def appliance_path() -> None:
    """Where the root filesystem is (built or not)."""
    from emulator.runtime import appliance

    print(appliance.rootfs_path())
    if not appliance.is_built():
        err.print("(not built yet: mplslab appliance build)")
        raise typer.Exit(1)


@vm_app.command("start")
@handle_errors
def vm_start() -> None:
    """Boot the micro-VM (or keep the running one) and keep it up after the last lab goes
    down, so that the next `mplslab up` needs no boot. `mplslab vm stop` ends that."""
    try:
        record = lifecycle.keep_vm_running(watch=Shown())
    except lifecycle.Interrupted:
        err.print("interrupted: the micro-VM is stopped unless a lab uses it")
        raise typer.Exit(130) from None
    out.print(f"the micro-VM runs (SSH on 127.0.0.1:{record.get('ssh_port')}); it stays up "
              "until `mplslab vm stop`")


@vm_app.command("stop")
@handle_errors
def vm_stop() -> None:
    """Stop keeping the micro-VM up; it powers off now unless labs still use it."""
    from emulator.runtime import vm_pin
    from emulator.runtime.vm_shared import described

    labs, stopped = vm_pin.unpin()
    if labs:
        out.print(f"the micro-VM stays up for: {', '.join(described(labs))} (it powers off "
                  "with the last `mplslab down` or `mplslab class down`)")
    else:
        out.print("the micro-VM is stopped" + (f" ({len(stopped)} processes)" if stopped
                                                else " (none was running)"))


@vm_app.command("status")
@handle_errors
def vm_status(as_json: JsonOpt = False) -> None:
    """Whether the shared micro-VM runs, and which labs use it."""
    from emulator.runtime import vm_shared

    record = vm_shared.shared_vm()
    report = {"running": vm_shared.vm_alive(record), "ssh_port": record.get("ssh_port"),
              "console": record.get("console"), "users": vm_shared.vm_users()}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    if not report["running"]:
        out.print("no micro-VM is running")
        return
    users = vm_shared.described(report["users"])
    out.print(f"the micro-VM runs (SSH on 127.0.0.1:{report['ssh_port']}), used by: "
              f"{', '.join(users) or 'nobody'}; console: {report['console']}")


@image_app.command("build")
@handle_errors
def image_build(tar: Annotated[Path | None, typer.Option(
        "--tar", help="write the image as a tarball for `docker import` instead")] = None,
                ) -> None:
    """The appliance (FRR and BIRD as the micro-VM runs them) as the Docker image
    mplslab-router:<recipe>, imported into this host's engine (or written with --tar)."""
    from emulator.runtime import appliance, clab, containers

    appliance.require_root("mplslab image build")
    with out.status("building the router image") as status:
        def progress(line: str) -> None:
            status.update(escape(line))
        if tar is not None:
            check_output_file(tar, "--tar")
            clab.write_image_tarball(tar.absolute(), progress)
            changes = " ".join(f"-c '{change}'" for change in containers.IMAGE_CHANGES)
            out.print(f"wrote {escape(str(tar))}; on a Docker host: docker import {changes} "
                      f"{escape(str(tar))} {clab.image_tag()}", emoji=False)
            return
        if not clab.engine_answers():
            raise LabError("no Docker engine answers here",
                           hint="start Docker, or write the image with --tar PATH (inside "
                                "the micro-VM, --runtime clab-vm makes its routers' image "
                                "there)")
        tag = clab.build_image(progress)
    out.print(f"router image: {tag}")
