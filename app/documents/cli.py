"""`flask issue-documents`: issue and send the rectification notices, written reports and replies that are due."""
from __future__ import annotations

import json

import click
from flask import current_app

from .issuing import issue_due


def register(app):
    @app.cli.command("issue-documents")
    @click.option("--days", default=None, type=click.IntRange(min=1),
                  help="Look this many days back (default: DOCUMENTS_AUTO_ISSUE_DAYS).")
    def issue_documents(days):
        """Issue each due rectification notice, written report and reply (art. 28, 29) and send it, once."""
        # Templates render as for a request (their context processors read one); nothing is served.
        with current_app.test_request_context("/"):
            click.echo(json.dumps(issue_due(current_app.config, days=days)))
