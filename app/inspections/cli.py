"""`flask inspections rescore`: score stored inspections again, each with its own checklist version."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import scoring

group = AppGroup("inspections", help="Inspections: scores and grades (checklists/README.md).")


@group.command("rescore")
@click.option("--all", "everything", is_flag=True,
              help="Also inspections already graded: re-grades past months (their summaries change).")
@click.option("--id", "ids", type=int, multiple=True, help="Only this inspection (repeatable).")
def rescore(everything: bool, ids: tuple[int, ...]) -> None:
    """Score and grade inspections from their answers, with the weights and red lines of the checklist
    version each answered (never the current one) and the current GRADE_BANDS.

    By default only those with no grade yet (stored before scoring existed): a grade given at submit
    stays, so a final month's summary does not change. --all (after changing GRADE_BANDS on purpose)
    re-grades every inspection, or those given with --id."""
    report = scoring.rescore(current_app.config, only_unscored=not (everything or ids),
                             inspection_ids=list(ids) or None)
    click.echo(f"{report.seen} inspection(s) scored, {report.changed} changed.")


def register(app) -> None:
    app.cli.add_command(group)
