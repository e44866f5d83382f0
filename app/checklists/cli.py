"""`flask checklists check|load`: validate the files under checklists/ and store new versions."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from app.extensions import db

from . import services
from .loader import ChecklistFileError, parse_directory

group = AppGroup("checklists", help="Validate and load the checklist files (checklists/README.md).")


def _directory(path: str | None) -> Path:
    return Path(path) if path else Path(current_app.config["CHECKLIST_DIR"])


@group.command("check")
@click.option(
    "--dir", "path", type=click.Path(), default=None, help="Directory of *.toml files (default: CHECKLIST_DIR)."
)
def check(path: str | None) -> None:
    """Validate every checklist file; print each problem; exit 1 if there is any."""
    directory = _directory(path)
    errors = services.check_directory(directory)
    for err in errors:
        click.echo(str(err), err=True)
    if errors:
        click.echo(f"{len(errors)} problem(s) in {directory}; nothing is loaded until they are fixed.", err=True)
        raise SystemExit(1)
    specs = parse_directory(directory).specs
    for spec in specs:
        click.echo(f"{spec.source_file}: {spec.key} ({spec.kind}), {len(spec.items)} items, OK")
    click.echo(f"{len(specs)} file(s), {sum(len(s.items) for s in specs)} items: all valid.")


@group.command("load")
@click.option(
    "--dir", "path", type=click.Path(), default=None, help="Directory of *.toml files (default: CHECKLIST_DIR)."
)
@click.option("--keep-missing", is_flag=True, help="Keep serving lists whose file is gone (default: retire them).")
def load(path: str | None, keep_missing: bool) -> None:
    """Validate ALL files, then store a new version of each changed list, in one transaction."""
    directory = _directory(path)
    try:
        report = services.load_directory(directory, db.session, retire_missing=not keep_missing)
    except ChecklistFileError as exc:
        for err in exc.errors:
            click.echo(str(err), err=True)
        click.echo(f"{len(exc.errors)} problem(s): nothing was loaded.", err=True)
        raise SystemExit(1) from None
    except IntegrityError:
        # Two loads at once: the unique (list, number) / (list, hash) constraints stop the second.
        click.echo("Another load stored a version at the same time; nothing was loaded. Run it again.", err=True)
        raise SystemExit(1) from None
    for key, number in report.created:
        click.echo(f"{key}: new version {number}")
    for key, number in report.restored:
        click.echo(f"{key}: back to version {number}")
    for key in report.unchanged:
        click.echo(f"{key}: unchanged")
    for key in report.retired:
        click.echo(f"{key}: file removed, no longer served")


def register(app) -> None:
    app.cli.add_command(group)
