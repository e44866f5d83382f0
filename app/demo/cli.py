"""`flask demo-data` (a university), `flask demo-logins` (its users) and `flask demo-activity` (two months of
inspections, tickets and nightly runs for the demo labs)."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from app.auth.services import find_user
from app.errors import DomainError
from app.timeutil import school_tz, to_utc_naive, utcnow

from . import data, services


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

    @app.cli.command("demo-data")
    @with_appcontext
    def demo_data():
        """Load a demo university (colleges, departments, 60+ labs, a user for every role). Idempotent."""
        result = data.load()
        for kind, (created, updated, unchanged) in result.counts.items():
            click.echo(f"{kind:12} {created:3d} created, {updated:3d} updated, {unchanged:3d} unchanged")
        click.echo("demo data: " + ("loaded" if result.changed else "already up to date, nothing changed"))

    @app.cli.command("demo-logins")
    @with_appcontext
    def demo_logins():
        """Print the demo users, their roles and scope, and the demo password."""
        plan = data.plan()
        labs_of: dict[str, list[str]] = {}
        for lab in plan.labs:
            for officer in lab["officers"].split(";"):
                labs_of.setdefault(officer, []).append(lab["code"])
        rows = []
        for u in plan.users:
            user = find_user(u.username)
            if user is None:
                continue
            scope = u.label + (f": {', '.join(labs_of[u.username])}" if u.username in labs_of else "")
            rows.append((u.username, scope, data.DEMO_PASSWORD if user.active else "(deactivated)"))
        if not rows:
            click.echo("No demo users yet: run `flask demo-data` first.")
            return
        width = max(len(r[0]) for r in rows)
        click.echo(f"{'username'.ljust(width)}  {'password'.ljust(13)}  role and scope")
        click.echo("-" * (width + 50))
        for username, scope, password in rows:
            click.echo(f"{username.ljust(width)}  {password.ljust(13)}  {scope}")
        # `make run` passes the address it serves on (PORT, HOST); by hand, the default.
        base = os.environ.get("LABSAFE_RUN_URL", "http://127.0.0.1:5000").rstrip("/")
        click.echo(f"\n{len(rows)} demo users; every one has the password {data.DEMO_PASSWORD!r} "
                   f"unless changed since. Log in at {base}/login")
