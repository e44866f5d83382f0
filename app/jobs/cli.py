"""`flask nightly [--date YYYY-MM-DD]` and `flask send-mail` (cron runs them; README "Nightly job")."""
from __future__ import annotations

import json
from datetime import date

import click
from flask import current_app

from app.notifications.services import send_outbox

from .services import DayNotOver, run_nightly


def register(app):
    @app.cli.command("nightly")
    @click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
                  help="Last school-local day to process (default: the day that just ended). "
                       "Unprocessed days before it are caught up.")
    @click.option("--no-mail", is_flag=True, help="Do not send the outbox at the end.")
    def nightly(day, no_mail):
        """Flag missed daily checks, escalate overdue tickets, send waiting mail (art. 29)."""
        try:
            up_to = date.fromisoformat(day) if day else None
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
        try:
            summary = run_nightly(up_to, current_app.config, send_mail=not no_mail)
        except DayNotOver as err:
            raise click.BadParameter(err.message, param_hint="--date") from None
        click.echo(json.dumps(summary, ensure_ascii=False, default=str))

    @app.cli.command("send-mail")
    @click.option("--limit", default=500, show_default=True)
    def send_mail(limit):
        """Send the e-mail outbox through SMTP_HOST (nothing is sent when it is not configured)."""
        result = send_outbox(current_app.config, limit=limit)
        click.echo(json.dumps(result))
        if not result["configured"]:
            click.echo("SMTP_HOST is not configured: mail stays in the outbox and shows in-app.", err=True)
