"""mplslab: render, deploy and verify MPLS inter-provider VPN labs on real FRR routers.

The typer app, its two consoles, the error handling every command shares and `--version`;
the commands live in the modules below, by concern, and are registered at the end of this
file: `labs` (lab files), `running` (a running lab), `training` (explain, exercises),
`machine` (appliance, micro-VM, router image). `emulator.lifecycle` brings labs up and down.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from emulator.errors import LabError

# add_completion: typer's --install-completion and --show-completion (bash, zsh, fish, pwsh).
app = typer.Typer(add_completion=True, no_args_is_help=True,
                  help="Render, deploy and verify MPLS inter-provider VPN labs on FRR.")
# No emoji codes: an RD such as 1:100 before a prefix would print as one (":100:").
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)


def fail(exc: LabError) -> None:
    # User text (names, paths, YAML values) is never read as rich markup or :emoji: codes.
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True,
              emoji=False)
    raise typer.Exit(exc.exit_code)


def handle_errors(func):
    """Every LabError becomes one message and its exit code; never a traceback. Anything
    else is a bug: one line saying so (MPLSLAB_DEBUG=1 shows the traceback), exit 70."""
    import functools
    import os

    import click

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            fail(exc)
        except (click.exceptions.Exit, click.exceptions.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("MPLSLAB_DEBUG"):
                raise
            err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: "
                      f"{escape(str(exc)[:300])} (a bug in mplslab: please report it with "
                      "the lab file; MPLSLAB_DEBUG=1 shows the traceback)",
                      highlight=False, soft_wrap=True, emoji=False)
            raise typer.Exit(70) from None
    return wrapper


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
    lines.append("FRR fixes applied: " + (", ".join(image.fixes()) or "none")
                 + " (docs/labs/option2.md)")
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


# The command modules use app's consoles and handle_errors above, hence imported here; the
# order below is the order of `mplslab --help` (commands first, then the groups).
from emulator.cli import labs, machine, running, training  # noqa: E402

app.add_typer(labs.commands)
app.add_typer(training.commands)
app.add_typer(running.commands)
app.add_typer(machine.appliance_app, name="appliance")
app.add_typer(machine.vm_app, name="vm")
app.add_typer(machine.image_app, name="image")
app.add_typer(training.exercise_app, name="exercise")
