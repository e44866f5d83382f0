"""`flask rounds generate [--day]`: plan the recurring rules' rounds now, as the night after DAY would."""
from __future__ import annotations

import json
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from app.timeutil import school_today

from . import rules

group = AppGroup("rounds", help="Inspection rounds: recurring rules (app/rounds/rules.py).")


@group.command("generate")
@click.option("--day", default=None, metavar="YYYY-MM-DD",
              help="Plan what the night after this school-local day plans (default: today, so what "
                   "tonight's nightly job would plan exists now).")
def generate(day):
    """Plan the rounds the recurring rules have due (idempotent; the nightly job does the same)."""
    try:
        on = date.fromisoformat(day) if day else school_today(current_app.config["SCHOOL_TIMEZONE"])
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--day") from None
    result = rules.plan_due_rounds_now(on, current_app.config)
    click.echo(json.dumps({"day": on.isoformat(), **result}))


def register(app) -> None:
    app.cli.add_command(group)
