"""``drill``: run a whole simulated drill headless, list drills, write a report, purge one."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from dashboard.cli.common import main, settings_from_env

CLI_COORDINATOR = "drill-cli"


@main.group()
def drill() -> None:
    """Emergency drills: the 15-minute muster and the 15-minute household sweep."""


@drill.command("run")
@click.option("--kind", type=click.Choice(["muster", "sweep"]), required=True)
@click.option("--scope", required=True, metavar="CODE",
              help="510117 (district), a street (9 digits) or a grid code (14 or 17).")
@click.option("--scenario", default="epidemic", show_default=True,
              help="epidemic, flood, fire or earthquake (or one of the site's scenario file).")
@click.option("--speed", type=click.FloatRange(1, 60), default=20, show_default=True,
              help="Time acceleration: 20 runs a 15-minute drill in 45 seconds. The output's "
                   "played_late_by_drill_s says how far behind the simulation fell.")
@click.option("--target-minutes", type=click.FloatRange(1, 240), default=15, show_default=True)
@click.option("--simulate", is_flag=True,
              help="Simulated responders or sweepers play the drill to its end. Without it the "
                   "drill is planned and started for real people, and the command returns.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Write the after-action report (HTML and CSV) into DIR.")
@click.option("--seed", type=int, default=None, help="The simulation's seed (default: the demo's).")
def run(kind: str, scope: str, scenario: str, speed: float, target_minutes: float,
        simulate: bool, report_dir: Path | None, seed: int | None) -> None:
    """Plan and start a drill; with --simulate play it to the end and print its figures as JSON."""
    from dispatch.access.roles import Actor, Role
    from dispatch.drills.models import DrillAction, DrillIn

    runtime = _runtime()
    try:
        _ensure_people(runtime)
        actor = Actor(name=CLI_COORDINATOR, role=Role.COORDINATOR)
        spec = DrillIn(kind=kind, scope=scope, scenario=scenario, speed=speed,
                       target_minutes=target_minutes, simulated=simulate)
        planned = runtime.drills.plan(spec, actor=actor)
        drill_id = planned["id"]
        runtime.drills.act(drill_id, DrillAction.START, actor=actor)
        if not simulate:
            click.echo(json.dumps({"id": drill_id, "status": "running",
                                   "participants_or_households": planned["progress"]["total"]},
                                  ensure_ascii=False))
            return
        began = time.monotonic()
        played = runtime.simulated_drill(seed=seed).run(drill_id)
        runtime.drills.act(drill_id, DrillAction.FINISH, actor=actor)
        out = {"id": drill_id, "kind": kind, "scope": scope, "scenario": scenario,
               "speed": speed, "wall_s": round(time.monotonic() - began, 1), "simulation": played}
        found = _report(runtime, drill_id, report_dir)
        out["figures"] = headline(found.get("figures", found))
        if "paths" in found:
            out["report"] = found["paths"]
        click.echo(json.dumps(out, ensure_ascii=False, default=str))
    finally:
        runtime.close()


@drill.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def list_drills(limit: int) -> None:
    """Drills, newest first, as JSON lines: id, kind, scope, status, progress."""
    runtime = _runtime()
    try:
        for view in runtime.drills.recent(limit=limit):
            click.echo(json.dumps({k: view[k] for k in ("id", "kind", "scope", "title", "status",
                                                        "simulated", "progress")},
                                  ensure_ascii=False))
    finally:
        runtime.close()


@drill.command("report")
@click.argument("drill_id")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True)
def report(drill_id: str, out_dir: Path) -> None:
    """Write a drill's after-action report (HTML opening offline, and CSV) from its stream."""
    runtime = _runtime()
    try:
        runtime.drill_store.header(drill_id)
        found = _report(runtime, drill_id, out_dir)
        click.echo(json.dumps({"figures": headline(found.get("figures", found)),
                               "report": found.get("paths")}, ensure_ascii=False, default=str))
    except KeyError as exc:
        click.echo(f"grid-dispatch: {exc.args[0] if exc.args else exc}: no such drill", err=True)
        sys.exit(1)
    finally:
        runtime.close()


@drill.command("purge")
@click.argument("drill_id")
def purge(drill_id: str) -> None:
    """Remove a drill whole: its stream, its state, the events it raised (with their tasks
    and stream entries) and the time slots it published."""
    from dispatch.store.drills import DrillNotFoundError

    runtime = _runtime()
    try:
        removed = runtime.drills.purge(drill_id)
    except DrillNotFoundError as exc:
        click.echo(f"grid-dispatch: {exc}", err=True)
        sys.exit(1)
    finally:
        runtime.close()
    click.echo(json.dumps({"id": drill_id, "removed": removed}))


def headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures a terminal shows: every single value (the curve, the lists and the
    breakdowns are in the report)."""
    return {k: v for k, v in figures.items() if not isinstance(v, list | dict)}


def _runtime():
    from dashboard.runtime import open_runtime

    settings = settings_from_env()
    return open_runtime(settings, warm=False, create_key=settings.grids_file is None)


def _ensure_people(runtime) -> None:
    """The demo's roster and resident base when the store has none (a site imports its own)."""
    if runtime.settings.grids_file is None:
        runtime.load_demo_roster()
        runtime.load_demo_households()


def _report(runtime, drill_id: str, out_dir: Path | None) -> dict[str, Any]:
    from dispatch.drills.figures import figures
    from dispatch.drills.report import write_report

    entries = runtime.drill_store.log(drill_id)
    priority = runtime.sweep.priority_ids(drill_id)
    if out_dir is None:
        return figures(entries, grids=runtime.grids, priority_ids=priority)
    return write_report(entries, out_dir, grids=runtime.grids, priority_ids=priority)
