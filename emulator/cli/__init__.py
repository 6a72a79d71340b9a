"""mplslab: render, deploy and verify MPLS inter-provider VPN labs on real FRR routers.

The typer app and `--version`; the commands live in modules by concern, registered at the
end of this file: `labs` (lab files), `running` (a running lab), `routers` (capture, save,
diff: what engineers reach for on the routers), `training` (explain, exercises), `machine`
(appliance, micro-VM, router image), `classroom` (a class of trainee copies); `console` has
the consoles and the error handling they share.
`emulator.lifecycle` brings labs up and down, `emulator.classroom` classes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from emulator.cli import classroom, labs, machine, routers, running, training
from emulator.errors import LabError

# add_completion: typer's --install-completion and --show-completion (bash, zsh, fish, pwsh).
app = typer.Typer(add_completion=True, no_args_is_help=True,
                  help="Render, deploy and verify MPLS inter-provider VPN labs on FRR.")
def version_text() -> str:
    """mplslab's version, and the FRR and kernel versions the appliance carries."""
    from importlib.metadata import PackageNotFoundError, version

    from emulator.runtime import appliance

    try:
        own = version("mplslab")
    except PackageNotFoundError:  # run from a checkout that was never installed
        own = "unknown (not installed)"
    lines = [f"mplslab {own}"]
    if not appliance.is_built():
        lines.append(f"appliance: not built ({appliance.rootfs_path().parent}; "
                     "mplslab appliance build)")
        return "\n".join(lines)
    image = appliance.Appliance(appliance.rootfs_path())
    try:
        kernel = image.kernel_version
    except LabError:
        kernel = "none (rebuild it: mplslab appliance build --force)"
    frr = image.package_version("frr") or "not installed"
    lines.append(f"appliance: FRR {frr}, kernel {kernel} (Debian {appliance.SUITE}, "
                 f"{image.rootfs})")
    made = [f"{entry['name']}: {appliance.describe_fix(entry)}"
            for entry in image.fix_records()]
    lines.append("FRR fixes: " + ("; ".join(made) or "none") + " (docs/labs/option2.md)")
    return "\n".join(lines)


def show_version(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option(
        "--version", callback=show_version, is_eager=True,
        help="mplslab's version and the FRR and kernel versions of the appliance")] = False,
         ) -> None:
    """Render, deploy and verify MPLS inter-provider VPN labs on FRR."""


# The order of `mplslab --help`: commands first, then the groups.
app.add_typer(labs.commands)
app.add_typer(training.commands)
app.add_typer(running.commands)
app.add_typer(routers.commands)
app.add_typer(machine.appliance_app, name="appliance")
app.add_typer(machine.vm_app, name="vm")
app.add_typer(machine.image_app, name="image")
app.add_typer(training.exercise_app, name="exercise")
app.add_typer(classroom.class_app, name="class")
