"""`flask demo-activity`: two months of inspections, tickets and nightly runs for the demo labs."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from app.errors import DomainError
from app.timeutil import school_tz, to_utc_naive, utcnow


def register(app) -> None:
    @app.cli.command("demo-activity")
    @click.option("--days", default=60, show_default=True, type=click.IntRange(1, 400),
                  help="How many days back from today to simulate.")
    @click.option("--colleges", default="", metavar="CODES",
                  help="Only these colleges' labs, comma-separated (e.g. CHEM,LIFE); default all.")
    @click.option("--until", type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]), default=None,
                  help="Simulate up to this moment, school time (default: now). Today's activity is what "
                       "was done by then, so two runs with the same --until give the same database.")
    @with_appcontext
    def demo_activity(days, colleges, until):
        """Simulate the demo users' last two months through the real services (after demo-data). Idempotent."""
        from . import services

        now = None
        if until is not None:
            now = to_utc_naive(until.replace(tzinfo=school_tz(current_app.config["SCHOOL_TIMEZONE"])))
            if now > utcnow():
                raise click.BadParameter("the demo cannot simulate a moment that has not come yet",
                                         param_hint="--until")
        try:
            result = services.generate(current_app.config, days=days, colleges=colleges.split(","), now=now)
        except DomainError as err:
            click.echo(err.message, err=True)
            sys.exit(1)
        for key in sorted(result.counts):
            click.echo(f"{key:28} {result.counts[key]:6d}")
        click.echo(f"demo activity {result.first_day} .. {result.last_day}: "
                   + ("generated" if result.changed else "already up to date, nothing changed")
                   + f" in {result.seconds:.1f} s")
