"""Organisation commands: CSV import and the set-password links."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.auth import services as auth_services
from app.errors import DomainError
from app.spreadsheet import csv_text

from . import csv_import


def _run_import(kind: str, path: str) -> None:
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
