"""What a routing suite provides: the one typed definition FRR's and BIRD's drivers implement.

A suite is two modules, both standard library only (the namespace runtime imports them inside
the micro-VM, where the project's dependencies are absent):

- its driver, ``<suite>.py`` (``RoutingSuite``): its daemons' files and processes, how its
  configuration is applied and changed, and how a ``Question`` reaches it, one at a time
  (a client program run inside the router) or many at once (its ``READER`` speaking to the
  daemons' sockets);
- its probes, ``<suite>_probes.py`` (``SuiteProbes``): the verifier's questions, asked as
  ``Question`` values and answered with the neutral records of ``records.py``.

What it renders is the third part, on the host side (Jinja2):
``emulator/render/<suite>.py`` gives a node's files and its entry in the deploy plan.

Questions are values, never argument lists that someone parses back: a ``Question`` says
who answers it (a suite, or the kernel's own tools) and what is asked in that answerer's
words. Everything a probe asks is a reading (nothing on the router changes), so the
verifier may put it once per round and share the answer; acting on a router (a ping, a
capture, a change) goes through the runtime's ``exec`` and ``capture``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from emulator.suites.records import ConfigChange, Neighbor

# Who answers a question that no routing suite owns: the kernel's tools (`ip -j ...`,
# `nft -j list ...`), run as they are inside the router.
KERNEL = "kernel"


@dataclass(frozen=True)
class Question:
    """A reading put to one router. ``of`` is the answerer (a suite's name, or ``KERNEL``);
    ``words`` the question in its own terms: FRR's one `show` command, BIRD's `show ...`
    words, the kernel's argument vector. A ``volatile`` reading (a packet counter) is never
    shared: read before and after an act, its two answers must differ."""

    of: str
    words: tuple[str, ...]
    volatile: bool = False

    @classmethod
    def kernel(cls, *argv: str, volatile: bool = False) -> Question:
        return cls(KERNEL, argv, volatile)

    def __str__(self) -> str:
        return " ".join(self.words)


class Answer(Protocol):
    """What a router answers: a program's exit status and output (``ExecResult``)."""

    returncode: int
    stdout: str
    stderr: str


class Router(Protocol):
    """Anything that answers a router's questions: a runtime, or the verifier's readings."""

    def ask(self, node: str, question: Question) -> Answer: ...


def ask_together(router: Router, node: str, questions: list[Question]) -> list[Answer]:
    """Questions none of which depends on another's answer: a router that collects
    questions before fetching them (the verifier's runner) gets them all in one pass."""
    together = getattr(router, "ask_together", None)
    if together is not None:
        return together(node, questions)
    return [router.ask(node, question) for question in questions]


@runtime_checkable
class RoutingSuite(Protocol):
    """A suite's driver module. Where a suite cannot do something (BIRD takes no staged
    changes), its function says so by raising ``NotImplementedError`` with the reason."""

    NAME: str  # as a node's ``suites`` names it (protocol → suite)
    USER: str  # the user its daemons run as; their log folders are given to it
    TEMPLATES: str  # its folder under templates/
    # A program (run as ``python3 -S <READER>``) that answers many routers' questions from
    # the daemons' sockets at once: a JSON list of [socket, [command, ...]] in, each
    # socket's [[exit status, output], ...] out.
    READER: Path
    # The client programs a user types in a router's shell (vtysh; birdc): the runtime puts
    # a stand-in of each first on the PATH of whatever `mplslab exec` starts there, which
    # ``address`` points at the router's daemons.
    CLIENTS: tuple[str, ...]

    # -- the router's daemons ------------------------------------------------------------
    def prepare(self, pathspace: str) -> None:
        """Before the router's first daemon starts (its folders)."""

    def state_dirs(self, pathspace: str) -> list[Path]:
        """What the router's daemons leave on the host: `down` removes them."""

    def pid_files(self, pathspace: str) -> dict[str, Path]:
        """Each running daemon's pid file."""

    def start_argv(self, daemon: str, pathspace: str, log_file: Path,
                   config: Path) -> list[str]:
        """One daemon started (it detaches)."""

    def start_waves(self, daemons: list[str]) -> list[list[str]]:
        """``daemons`` (in start order) grouped into waves: a wave's daemons start side by
        side once every daemon of the waves before it is ready."""

    def vty_socket(self, pathspace: str, daemon: str) -> Path:
        """Exists once the daemon is ready: the readiness signal."""

    # -- configuration -------------------------------------------------------------------
    def apply_argv(self, pathspace: str, config: Path) -> list[str]:
        """The router's whole rendered configuration, after its daemons started."""

    def daemon_apply_argv(self, pathspace: str, config: Path, daemon: str) -> list[str]:
        """A rendered file for one daemon alone, after the whole configuration."""

    def change_argv(self, pathspace: str, config: Path) -> list[str]:
        """A staged change (a rendered file) to a running router."""

    def configure_argv(self, lines: list[str]) -> list[str]:
        """Configuration lines typed into the running router, in order (an exercise's break
        and fix); the runtime's ``exec`` points the client at the router's daemons."""

    def parse_check_argv(self, config: Path) -> list[str]:
        """The suite's own parser on a rendered configuration, no daemon running."""

    def reset_argvs(self, pathspace: str, config: Path) -> list[list[str]]:
        """The commands, run in order inside the router, that put its running daemons back
        to ``config`` (the whole configuration the deploy left there: the plan's
        ``deployed``), whatever was changed since, without restarting a daemon."""

    # -- what the router runs --------------------------------------------------------------
    def running_config_argv(self, pathspace: str, config: Path) -> list[str]:
        """The configuration the router's daemons run now, in the suite's own form (a file
        it could be started with); ``config``: the file the deploy gave them."""

    def drift_argv(self, pathspace: str, deployed: Path) -> list[str]:
        """Compares what the router's daemons run now with ``deployed`` (the whole
        configuration the deploy left there: the plan's ``deployed``); ``drift`` reads its
        answer."""

    def drift(self, answer: str) -> list[ConfigChange]:
        """From ``drift_argv``'s answer: each line that differs, in the suite's words,
        without those the suite re-types whatever changed."""

    # -- questions -----------------------------------------------------------------------
    def question_argv(self, question: Question) -> list[str]:
        """The client command that asks ``question`` inside the router (``address`` then
        points it at the router's daemons)."""

    def socket_request(self, pathspace: str, question: Question) -> tuple[str, str]:
        """``question`` for ``READER``: (the daemon's socket, the command sent on it)."""

    def address(self, pathspace: str, argv: list[str]) -> list[str]:
        """A user's command line with the suite's client (vtysh, birdc) pointed at this
        router's daemons; any other command unchanged."""

    # -- staged steps ----------------------------------------------------------------------
    def labelled_route_argv(self, pathspace: str, prefix: str) -> list[str]:
        """Asks the router for its route to ``prefix`` (a staged step waits for its label)."""

    def route_is_labelled(self, answer: str, prefix: str, implicit_null_ok: bool) -> bool:
        """From ``labelled_route_argv``'s answer: the route carries an MPLS label (a real
        one unless implicit-null is acceptable, as towards an adjacent router)."""


class SuiteProbes(Protocol):
    """A suite's answers to the verifier's questions, as neutral records, for the protocols
    it names in ``PROTOCOLS`` (a check asks the suite that speaks the protocol on that node,
    ``Node.suites``, so a question is never put to a suite that does not run it)."""

    NAME: str
    PROTOCOLS: tuple[str, ...]  # of "bgp", "igp", "ldp": each adds its class's questions

    def lfib(self, router: Router, node: str) -> dict: ...

    def label_uses(self, router: Router, node: str, protocols: list[str]) -> dict[int, str]:
        """Every label the suite allocated on this router (for the protocols it runs
        there), with what currently needs it; "" when nothing does (a leaked label)."""


@runtime_checkable
class BgpProbes(SuiteProbes, Protocol):
    def bgp_sessions(self, router: Router, node: str) -> list: ...

    def vpn_routes(self, router: Router, node: str, prefix: str) -> dict: ...

    def labeled_unicast_route(self, router: Router, node: str, prefix: str) -> Any: ...

    def labeled_unicast_prefixes(self, router: Router, node: str) -> list[str]: ...

    def ip_routes(self, router: Router, node: str, *, vrf: str | None = None,
                  prefix: str | None = None) -> dict[str, bool]: ...

    def routes_within(self, router: Router, node: str, supernet: str,
                      vrf: str | None = None) -> int: ...

    def vrf_route(self, router: Router, node: str, vrf: str, prefix: str) -> Any: ...

    def lfib(self, router: Router, node: str) -> dict: ...


@runtime_checkable
class IgpProbes(SuiteProbes, Protocol):
    def ospf_neighbors(self, router: Router, node: str,
                       vrf: str | None) -> dict[str, Neighbor]: ...

    def rip_sources(self, router: Router, node: str, vrf: str | None) -> set[str]: ...

    def ip_routes(self, router: Router, node: str, *, vrf: str | None = None,
                  prefix: str | None = None) -> dict[str, bool]: ...


@runtime_checkable
class LdpProbes(SuiteProbes, Protocol):
    def ldp_neighbors(self, router: Router, node: str) -> dict[str, Neighbor]: ...

    def lfib(self, router: Router, node: str) -> dict: ...


# The questions each protocol's suite answers.
PROBES_OF = {"bgp": BgpProbes, "igp": IgpProbes, "ldp": LdpProbes}
