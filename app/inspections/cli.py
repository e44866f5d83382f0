"""`flask inspections rescore`: score stored inspections again, each with its own checklist version."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import scoring

group = AppGroup("inspections", help="Inspections: scores and grades (checklists/README.md).")


@group.command("rescore")
@click.option("--unscored", is_flag=True, help="Only inspections with no grade yet (stored before scoring existed).")
@click.option("--id", "ids", type=int, multiple=True, help="Only this inspection (repeatable).")
def rescore(unscored: bool, ids: tuple[int, ...]) -> None:
    """Work out every inspection's score and grade again from its answers, with the weights and red
    lines of the checklist version it answered (never the current one) and the current GRADE_BANDS."""
    report = scoring.rescore(current_app.config, only_unscored=unscored, inspection_ids=list(ids) or None)
    click.echo(f"{report.seen} inspection(s) scored, {report.changed} changed.")


def register(app) -> None:
    app.cli.add_command(group)
