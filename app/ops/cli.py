"""`flask backup` and `flask restore`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from app.errors import DomainError
from app.extensions import db
from app.photos.storage import storage_for

from . import services


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
                  help="Directory to write the backup under (default: <instance>/backups).")
    def backup_command(out_dir):
        """Back up the database and the photo store (a directory or an S3 bucket) into a new directory."""
        out = Path(out_dir) if out_dir else Path(current_app.instance_path) / "backups"
        path = services.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], storage_for(current_app.config), out)
        db.engine.dispose()
        manifest = services.read_manifest(path)
        rows = sum(manifest["counts"].values())
        click.echo(f"Backup written to {path}")
        click.echo(f"  database: {manifest['database']['kind']}, {rows} rows in {len(manifest['counts'])} tables")
        click.echo(f"  photos: {len(manifest['photos'])} files")

    @app.cli.command("restore")
    @click.argument("backup_dir", type=click.Path(exists=True, file_okay=False))
    @click.option("--force", is_flag=True, help="Overwrite a database or photo store that is not empty.")
    def restore_command(backup_dir, force):
        """Restore a backup into an empty database and photo store."""
        db.session.remove()
        db.engine.dispose()  # no pooled connection holds the database we are about to replace
        try:
            manifest = services.restore(backup_dir, current_app.config["SQLALCHEMY_DATABASE_URI"],
                                        storage_for(current_app.config), force=force)
        except DomainError as err:
            raise click.ClickException(err.message) from err
        click.echo(f"Restored the backup of {manifest['created_at']}: "
                   f"{sum(manifest['counts'].values())} rows, {len(manifest['photos'])} photos.")
