"""A shell on a router reaches that router's daemons.

A router's daemons use its pathspace (``/run/frr/<lab>_<node>/``), not the default one a bare
`vtysh` or `birdc` looks for ("Exiting: failed to connect to any daemons"). The runtimes
rewrite a client at the head of an argument list (``netns.addressed``); a client typed in a
shell, a script or `sh -c` is reached through the router's tools folder instead: a stand-in
of each of its suites' clients (``RoutingSuite.CLIENTS``) that adds the router's address
(``RoutingSuite.address``), put first on the PATH of whatever `mplslab exec` starts in the
router (``with_tools``). The deploy writes the folder, and a reset writes it again.

Standard library only: the namespace runtime imports it inside the micro-VM.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from emulator.suites import driver

# The tools folder first on PATH, then the program (sh -c TOOLS_PATH FOLDER PROGRAM...).
TOOLS_PATH = 'PATH="$0:$PATH"; export PATH; exec "$@"'


def with_tools(folder: Path, argv: list[str]) -> list[str]:
    """``argv`` run with ``folder`` first on PATH: it and every shell or program it starts
    find the stand-ins before the real clients."""
    return ["sh", "-c", TOOLS_PATH, str(folder), *argv]


def tool_script(folder: Path, argv: list[str]) -> str:
    """The stand-in for the client ``argv[0]`` in the tools folder ``folder``: the real
    program (the first on PATH outside this folder) with ``argv``'s options (the router's
    address) before the user's own. vtysh and birdc take the last of a repeated option, so
    a user's own -N or -s still wins."""
    client, options = argv[0], shlex.join(argv[1:])
    return "\n".join([
        "#!/bin/sh",
        f"# {client} of this router, pointed at its daemons (written by mplslab: `mplslab",
        "# exec` puts this folder first on PATH). The real one is found on PATH without it.",
        f"own={shlex.quote(str(folder))}",
        "rest=",
        "set -f",
        "IFS=:",
        'for dir in $PATH; do [ "$dir" = "$own" ] || rest=${rest:+$rest:}$dir; done',
        "unset IFS",
        "set +f",
        "PATH=$rest",
        "export PATH",
        f'exec {shlex.quote(client)} {options} "$@"',
        "",
    ])


def write_tools(folder: Path, pathspace: str, suites: list[str]) -> None:
    """A router's tools folder: a stand-in for each client of its ``suites``, addressed to
    its daemons (``pathspace``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in suites:
        suite = driver(name)
        for client in suite.CLIENTS:
            script = folder / client
            script.write_text(tool_script(folder, suite.address(pathspace, [client])))
            script.chmod(0o755)
