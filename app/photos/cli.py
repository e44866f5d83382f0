"""`flask prune-photos`: remove the photo files no row references (an upload that crashed), and
resumable uploads abandoned half-way (nothing appended for the grace period)."""
from __future__ import annotations

import click
from flask import Flask, current_app

from . import services


def register(app: Flask) -> None:
    @app.cli.command("prune-photos")
    @click.option("--grace-hours", type=click.FloatRange(min=1), default=24, show_default=True,
                  help="Only files older than this are considered.")
    @click.option("--dry-run", is_flag=True, help="List the orphaned files, remove nothing.")
    def prune_photos_command(grace_hours, dry_run):
        """Remove photo files that no photo row references, older than the grace period."""
        report = services.prune_orphans(current_app.config, grace_hours * 3600, dry_run=dry_run)
        for key in report.orphans:
            click.echo(key)
        verb = "would be removed" if dry_run else "removed"
        click.echo(f"{len(report.orphans)} orphaned photo file(s) {verb}; "
                   f"{report.leftovers} temp file(s) of crashed writes removed; "
                   f"{report.staged} unfinished upload(s) untouched for the grace period {verb}.")
