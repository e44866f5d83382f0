"""Organisation commands: CSV import, demo data, demo logins."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.auth import services as auth_services
from app.errors import DomainError
from app.spreadsheet import csv_text


def _run_import(kind: str, path: str) -> None:
    from . import csv_import

    data = Path(path).read_bytes()
    try:
        report = csv_import.import_labs(data) if kind == "labs" else csv_import.import_users(data)
    except DomainError as err:
        click.echo(err.message, err=True)
        for line in err.details.get("errors", []):
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    click.echo(f"{kind}: {report.summary()}")
    for label, codes in (("created", report.created), ("updated", report.updated)):
        if codes:
            click.echo(f"  {label}: {', '.join(codes)}")
    if getattr(report, "without_password", None):
        click.echo(f"  {len(report.without_password)} new user(s) without a password: they set one through "
                   "their link; `flask set-password-links` writes the list.")


def register(app) -> None:
    @app.cli.command("import-labs")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @with_appcontext
    def import_labs(file):
        """Import labs from a CSV file (upsert by code; a bad file changes nothing)."""
        _run_import("labs", file)

    @app.cli.command("import-users")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @with_appcontext
    def import_users(file):
        """Import users from a CSV file (upsert by username; a bad file changes nothing)."""
        _run_import("users", file)

    @app.cli.command("set-password-links")
    @click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="The CSV file to write.")
    @with_appcontext
    def set_password_links(out):
        """Write the set-password links of the users imported without a password (a CSV to hand out)."""
        base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
        rows = auth_services.set_password_links(current_app.config, base)
        Path(out).write_text(csv_text([["username", "name", "email", "link"], *rows]), encoding="utf-8")
        click.echo(f"{out}: {len(rows)} user(s) without a password; links valid for "
                   f"{current_app.config['SET_PASSWORD_LINK_DAYS']} days.")

    @app.cli.command("demo-data")
    @with_appcontext
    def demo_data():
        """Load a demo university (colleges, departments, 60+ labs, a user for every role). Idempotent."""
        from . import demo

        result = demo.load()
        for kind, (created, updated, unchanged) in result.counts.items():
            click.echo(f"{kind:12} {created:3d} created, {updated:3d} updated, {unchanged:3d} unchanged")
        click.echo("demo data: " + ("loaded" if result.changed else "already up to date, nothing changed"))

    @app.cli.command("demo-logins")
    @with_appcontext
    def demo_logins():
        """Print the demo users, their roles and scope, and the demo password."""
        from app.auth.services import find_user

        from . import demo

        plan = demo.plan()
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
            rows.append((u.username, scope, demo.DEMO_PASSWORD if user.active else "(deactivated)"))
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
        click.echo(f"\n{len(rows)} demo users; every one has the password {demo.DEMO_PASSWORD!r} "
                   f"unless changed since. Log in at {base}/login")
