"""The training commands: explain, and the break/fix exercises on a running lab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from emulator import lifecycle
from emulator.cli import complete
from emulator.cli.console import err, handle_errors, out
from emulator.cli.params import (
    DeadlineOpt,
    JsonOpt,
    JsonReportOpt,
    JunitOpt,
    KindsOpt,
    LabArg,
    RunningLabArg,
    VariantOpt,
    refuse_unknown_kinds,
)
from emulator.errors import LabError
from emulator.paths import check_output_file

if TYPE_CHECKING:  # imported where used: `mplslab --help` stays fast
    from emulator.training.explain import Walkthrough
    from emulator.training.report import LiveWalk

commands = typer.Typer()
# Seconds the exercise's own checks may retry, all their phases together, before a wrong
# answer is told: its kinds fail on the routers' answers at once when the break is still
# there, and a right one has this long to take effect (the lab's timers: docs/lab-format.md).
FIRST_LOOK = 15.0
# Seconds the full verify's checks may retry once the exercise's own checks hold.
FULL_VERIFY = 90.0
exercise_app = typer.Typer(no_args_is_help=True,
                           help="Break/fix exercises on a running lab, graded by verify.")


@commands.command()
@handle_errors
def explain(lab: LabArg,
            prefix: Annotated[str | None, typer.Argument(
                help="a site prefix, an address in one, a CE, or a link by its ends "
                     "(PE-2:P-2); none: the lab's story")] = None,
            source: Annotated[str | None, typer.Option(
                "--from", help="the site a packet starts from (default: one on another PE)")
            ] = None,
            variant: VariantOpt = None,
            as_json: JsonOpt = False,
            deadline: Annotated[float, typer.Option(
                help="seconds to wait for the live labels, when the lab is up")] = 60,
            ) -> None:
    """The slide's walkthrough: who holds a prefix's VPNv4 route with which next hop and
    label, where they are rewritten, and the label stack on every link of the packet's path
    (carrier labs: from one site's external prefix to another's network N, the carrier's
    loopbacks carried as VPNv4 routes); Options 3 and 4 also walk the labelled loopback of
    the next hop. With the lab up, the labels its routers hold and the stacks captured on
    the wire. A link by its ends (PE-2:P-2): both interfaces, what runs on them, the BGP
    sessions over it and the label stack each walk carries across it."""
    from emulator.training.explain import story, walkthrough
    from emulator.verify.prediction import predict

    model, deployed = lifecycle.model_of(lab, variant)
    if prefix is not None and ":" in prefix:
        from emulator.training.links import link_told

        told = link_told(model, model.link_end(prefix))
        if as_json:
            print(json.dumps(told, indent=2))
            return
        print_link(told)
        return
    if prefix is None:
        told = story(model)
        if as_json:
            print(json.dumps(told, indent=2))
            return
        print_story(told)
        return
    walk = walkthrough(model, prefix, source)
    for problem in predict(model):
        if walk.site in (problem.sites[0].node, problem.sites[1].node):
            err.print(f"[bold red]will not work:[/] {escape(str(problem))}")
    live = None
    if deployed:
        # The lab is up: the labels its routers hold along this walk, and a capture of the
        # packet's path, from the checks that observe them.
        from emulator.training.report import check_names, live_walk
        from emulator.verify.runner import run_checks

        _, runtime = lifecycle.live_runtime(lab)
        results = run_checks(model, runtime, deadline=deadline,
                             names=check_names(walk)).as_dict()
        live = live_walk(walk, walk.address, results)
    if as_json:
        told = walk.as_dict()
        if live is not None:
            told["live"] = {"labels": live.labels, "stacks": live.stacks,
                            "loopback_labels": live.loopback_labels}
        print(json.dumps(told, indent=2))
        return
    print_walkthrough(walk, live)


def print_link(told: dict) -> None:
    """A link: its ends with what runs on them, the sessions over it, the stacks across."""
    where = f"{told['lab']}{', ' + told['variant'] if told['variant'] else ''}"
    out.print(f"[bold]{escape(told['name'])}[/]: link {escape(told['link'] or '?')} "
              f"({told['scope']}) [dim]({escape(where)})[/]")
    for end in told["ends"]:
        for side in [end, *end["vlans"]]:
            vlan = f" VLAN {side['vlan']}" if "vlan" in side else ""
            vrf = f" VRF {side['vrf']}" if side["vrf"] else ""
            runs = ", ".join(side["runs"]) or "plain IP"
            address = side["address"] or ("VLAN trunk" if side.get("vlans") else "no address")
            out.print(f"  {escape(end['router'])} {escape(side['interface'])}{vlan}{vrf} "
                      f"{address} MTU {side['mtu']}: {escape(runs)}", highlight=False)
    for session in told["sessions"]:
        out.print(f"  BGP {escape(session['session'])}: {' — '.join(session['between'])} "
                  f"({', '.join(session['families'])}, {'eBGP' if session['ebgp'] else 'iBGP'}"
                  f"{', VRF ' + session['vrf'] if session['vrf'] else ''})", highlight=False)
    if told["stacks"]:
        table = Table("packet", "direction", "interface", "labels", "what",
                      title=f"data plane: the walks across {told['name']}",
                      title_justify="left")
        for stack in told["stacks"]:
            table.add_row(f"{stack['from']} → {stack['to']}", stack["direction"],
                          stack["interface"], str(stack["labels"]), stack["what"])
        out.print(table)
    else:
        out.print("  no walk of the lab crosses it carrying labels")
    out.print(f"[dim]on the wire: mplslab capture {escape(told['lab'])} "
              f"{escape(told['name'])} | wireshark -k -i -[/]")


def print_story(told: dict) -> None:
    out.print(f"[bold]{escape(told['title'])}[/] ({escape(told['lab'])}"
              f"{', ' + escape(told['variant']) if told['variant'] else ''})")
    out.print(escape(told["description"]))
    for note in told["deviations"]:
        out.print(f"[yellow]deviation:[/] {escape(note)}")
    for problem in told["unreachable"]:
        out.print(f"[bold red]will not work:[/] {escape(problem)}")
    for vpn in told["vpns"]:
        out.print(f"\n[bold]{escape(vpn['vpn'])}[/]  RD {vpn['rd']}  import "
                  f"{', '.join(vpn['import'])}  export {', '.join(vpn['export'])}")
        for site in vpn["sites"]:
            out.print(f"  {escape(site['prefix'])} behind {escape(site['ce'])} on "
                      f"{escape(site['pe'])}")
        carrier = vpn.get("carrier")
        if carrier:
            out.print(f"  the VPN of customer carrier AS {carrier['asn']}: its internal "
                      "routes (loopbacks), as VPNv4 routes")
            for site in carrier["sites"]:
                out.print(f"  site {escape(', '.join(site['routers']))} on "
                          f"{escape(site['pe'])} (via {escape(site['csc_ce'])}): internal "
                          f"routes {', '.join(site['internal'])}")
            for external in carrier["externals"]:
                out.print(f"  N {external['prefix']} behind {escape(external['router'])}: "
                          "over the carrier's own iBGP, never in the backbone")
        for path in vpn["paths"]:
            out.print(f"  {escape(path['from'])} → {escape(path['to'])}: "
                      f"{' → '.join(map(escape, path['routers']))}, up to "
                      f"{path['deepest_stack']} labels")
    for loopback in told.get("labelled_loopbacks", []):
        allocators = ", ".join(f"{a['router']} {a['slide']}" for a in loopback["allocators"])
        out.print(f"labelled unicast {loopback['loopback']} ({escape(loopback['router'])}): "
                  f"labels from {escape(allocators)}")
    out.print("\n[dim]mplslab explain LAB PREFIX walks one prefix hop by hop[/]")


def print_walkthrough(walk: Walkthrough, live: LiveWalk | None = None) -> None:
    """The walk as tables; with ``live``, the labels the routers held and the stacks seen."""
    where = (f"[dim]({escape(walk.lab)}{', ' + escape(walk.variant) if walk.variant else ''})"
             "[/]")
    if walk.external is not None:
        external = walk.external
        out.print(f"[bold]N {walk.prefix}[/] of customer carrier AS {external['asn']}, behind "
                  f"{escape(walk.site)}; its BGP next hop {external['next_hop']} crosses the "
                  f"backbone in {escape(walk.vpn)} (RD {walk.rd}, RT "
                  f"{', '.join(walk.route_targets)}), exported by {escape(walk.origin)}  "
                  f"{where}")
        ibgp = " → ".join(h["router"] for h in external["ibgp"])
        out.print(f"  N itself: the carrier's own iBGP ({escape(ibgp)}), next hop "
                  f"{external['next_hop']} unchanged; no route to it on "
                  f"{', '.join(external['absent_on'])}")
    elif walk.kind == "carrier":
        out.print(f"[bold]{walk.prefix}[/]: {escape(walk.site)}'s loopback, an internal route "
                  f"of its customer carrier, crosses the backbone in {escape(walk.vpn)} (RD "
                  f"{walk.rd}, RT {', '.join(walk.route_targets)}), exported by "
                  f"{escape(walk.origin)}  {where}")
    else:
        out.print(f"[bold]{walk.prefix}[/] in {escape(walk.vpn)} (RD {walk.rd}, RT "
                  f"{', '.join(walk.route_targets)}), behind {escape(walk.site)}, exported by "
                  f"{escape(walk.origin)}  {where}")
    for other in walk.also:
        out.print(f"  [yellow]also {other['prefix']}:[/] {escape(other['router'])} (AS "
                  f"{other['asn']}): mplslab explain {escape(walk.lab)} "
                  f"{escape(other['router'])}")
    columns = ["router", "next hop", "label from", "slides", "AS path"] + (
        ["live label"] if live else [])
    table = Table(*columns, title=f"control plane: who holds {walk.route}",
                  title_justify="left")
    for holder in walk.holders:
        row = [holder.router, holder.next_hop, holder.label_from, holder.slide or "",
               holder.as_path or ""]
        if live:
            row.append(str(live.labels.get(holder.router, "?")))
        table.add_row(*row)
    out.print(table)
    for reason in dict.fromkeys(h.rewrites for h in walk.holders if h.rewrites):
        out.print(f"  rewritten: {escape(reason)}")
    if walk.absent_on:
        out.print(f"  must hold no route to it: {', '.join(walk.absent_on)}")
    if walk.loopback:
        print_loopback(walk, live)
    if walk.links:
        seen = bool(live and live.stacks)
        table = Table("link", "interface", "labels", "what", *(["seen"] if seen else []),
                      title=f"data plane: {walk.packet_from} → {walk.prefix}",
                      title_justify="left")
        for link in walk.links:
            row = [link["link"], link["interface"], str(link["labels"]), link["what"]]
            if seen:
                row.append(live.stacks.get(link["link"].replace(" → ", "→"), "?"))
            table.add_row(*row)
        out.print(table)
    for router, reasons in walk.settings.items():
        for reason in reasons:
            out.print(f"  {escape(router)}: [cyan]{escape(reason['setting'])}[/] — "
                      f"{escape(reason['why'])}")
    if live is None:
        out.print("[dim]with the lab up, explain shows the labels its routers hold; mplslab "
                  "verify checks them all[/]")


def print_loopback(walk: Walkthrough, live: LiveWalk | None) -> None:
    """The level below the VPN route: who holds the next hop's loopback, whose label each
    pushes for it, and where the labels are swapped."""
    level = walk.loopback
    title = ("labelled unicast" if level.kind == "labelled-unicast"
             else "the carrier's loopback, through its sites and the backbone")
    table = Table("router", "learned", "next hop", "pushes", *(["live label"] if live else []),
                  title=f"{title}: who holds {level.prefix} ({level.router}), {level.why}",
                  title_justify="left")
    for holder in level.holders:
        row = [holder.router, holder.learned, holder.next_hop, holder.label]
        if live:
            row.append(str(live.loopback_labels.get(holder.router, "")))
        table.add_row(*row)
    out.print(table)
    for swap in level.swaps:
        out.print(f"  swap: {escape(swap)}")


@exercise_app.command("list")
@handle_errors
def exercise_list(lab: LabArg, variant: VariantOpt = None,
                  as_json: JsonOpt = False) -> None:
    """The exercises of a lab (derived from its model, like its checks)."""
    from emulator.training.exercises import exercises

    model, _ = lifecycle.model_of(lab, variant)
    found = exercises(model)
    if as_json:
        print(json.dumps([{"name": e.name, "title": e.title, "symptom": e.symptom,
                           "fails": e.fails} for e in found], indent=2))
        return
    table = Table("exercise", "what breaks", "symptom", title=f"exercises of {model.name}",
                  title_justify="left")
    for exercise in found:
        table.add_row(exercise.name, exercise.title, exercise.symptom)
    out.print(table)
    out.print(f"[dim]mplslab exercise start {model.name} NAME, on the running lab[/]")


@exercise_app.command("start")
@handle_errors
def exercise_start(lab: LabArg,
                   name: Annotated[str, typer.Argument(
                       help="from `mplslab exercise list`",
                       autocompletion=complete.exercises)],
                   ) -> None:
    """Break the running lab as the exercise says, and tell the symptom."""
    from emulator.training.exercises import EXERCISE_FILE, find, save

    state, runtime, model, folder = lifecycle.running_lab(lab)
    exercise = find(model, name)
    if (folder / EXERCISE_FILE).exists():
        raise LabError(f"an exercise is already running on lab {state.lab}",
                       hint=f"finish it first: mplslab exercise solution {state.lab} --apply, "
                            f"or start again: mplslab exercise reset {state.lab}")
    lifecycle.apply_changes(runtime, exercise.breaks)
    save(folder, exercise)
    out.print(f"[bold]{escape(exercise.name)}[/] started on {state.lab}.")
    out.print(f"symptom: {escape(exercise.symptom)}")
    out.print(f"[dim]find and fix it on the routers (mplslab exec {state.lab} ROUTER), then: "
              f"mplslab exercise check {state.lab}[/]")


@exercise_app.command("check")
@handle_errors
def exercise_check(lab: LabArg,
                   deadline: Annotated[float | None, typer.Option(
                       help="seconds each check may retry (the lab reconverges after a fix); "
                            f"default: {FIRST_LOOK:.0f} for the exercise's own checks, "
                            f"{FULL_VERIFY:.0f} for the full verify")] = None,
                   json_path: Annotated[Path | None, typer.Option(
                       "--json", help="the verify report as JSON")] = None,
                   kinds: Annotated[list[str] | None, typer.Option(
                       "--kind", help="grade on checks of this kind only (repeatable; "
                                      "default: every check)")] = None) -> None:
    """Grade the running exercise: its own check kinds first, with a short deadline (a
    wrong answer is told in seconds), then, once they hold, a full verify: solved only when
    every check holds. A router that does not answer is said so, never taken for the
    symptom. Exit 0 solved, 1 not yet (or not gradable yet), 2 bad input."""
    from emulator.training.exercises import current, finish
    from emulator.verify.report import print_report, write_json
    from emulator.verify.runner import run_checks

    refuse_unknown_kinds(kinds)
    if json_path is not None:
        check_output_file(json_path, "--json")
    state, runtime, model, folder = lifecycle.running_lab(lab)
    exercise = current(folder, state.lab)
    own = set(exercise.fails) & set(kinds or exercise.fails)
    # Given a deadline (checking right after a fix: the lab reconverges), the own checks
    # may take all of it; by default a wrong answer is told after a short look.
    report = run_checks(model, runtime, deadline=FIRST_LOOK if deadline is None else deadline,
                        budget=FIRST_LOOK if deadline is None else None, console=out,
                        kinds=own) if own else None
    if report is None or report.passed:
        report = run_checks(model, runtime, console=out,
                            deadline=FULL_VERIFY if deadline is None else deadline,
                            kinds=set(kinds) if kinds else None)
    if json_path is not None:
        write_json(report, json_path)
    if report.passed:
        finish(folder)
        scope = f" of kind {', '.join(kinds)}" if kinds else ""
        out.print(f"[bold green]solved[/]: {exercise.name} — all {len(report.results)} checks"
                  f"{scope} hold again.")
        out.print(f"why: {escape(exercise.why)}")
        return
    print_report(report, out, failures_only=True)
    failed = [r for r in report.results if not r.passed]
    unanswered = [r for r in failed
                  if isinstance(r.observed, dict) and set(r.observed) == {"error"}]
    if len(unanswered) == len(failed):
        out.print("[bold]cannot grade yet[/]: the routers did not answer these checks (above); "
                  "the lab may still be converging: check again in a moment.")
        raise typer.Exit(1)
    out.print(f"[bold]not yet[/]: {escape(exercise.symptom)}")
    out.print(f"hint: {escape(exercise.hint)}")
    raise typer.Exit(1)


@exercise_app.command("solution")
@handle_errors
def exercise_solution(lab: LabArg,
                      apply: Annotated[bool, typer.Option(
                          "--apply", help="configure the fix on the routers")] = False,
                      ) -> None:
    """The running exercise's fix, explained; --apply configures it."""
    from emulator.training.exercises import current

    state, runtime, _, folder = lifecycle.running_lab(lab)
    exercise = current(folder, state.lab)
    out.print(f"[bold]{escape(exercise.name)}[/]: {escape(exercise.why)}")
    for change in exercise.fixes:
        if change.command:  # no FRR configuration: a command run in the router
            out.print(f"on {escape(change.router)}: mplslab exec {state.lab} {change.router} "
                      f"-- {escape(' '.join(change.command))}", highlight=False)
            continue
        out.print(f"on {escape(change.router)} (vtysh, configure terminal):")
        for line in change.lines:
            out.print(f"  {escape(line)}", highlight=False)
    if apply:
        lifecycle.apply_changes(runtime, exercise.fixes)
        out.print(f"applied; grade it: mplslab exercise check {state.lab}")


@exercise_app.command("reset")
@handle_errors
def exercise_reset(lab: RunningLabArg, json_path: JsonReportOpt = None,
                   junit_path: JunitOpt = None, deadline: DeadlineOpt = 120,
                   kinds: KindsOpt = None) -> None:
    """Start again: `mplslab reset` under the exercises. Every router back to the
    configuration it was deployed with, whatever the trainees typed; the running exercise
    ends ungraded; then verify (exit 0 when every check holds)."""
    from emulator.cli.running import reset_and_verify

    reset_and_verify(lab, json_path=json_path, junit_path=junit_path, deadline=deadline,
                     kinds=kinds)
