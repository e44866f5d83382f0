"""`flask monthly-summary --month YYYY-MM [--college CODE] --out FILE` (CSV or XLSX by extension)."""
from __future__ import annotations

from pathlib import Path

import click
from babel import Locale
from flask import Flask, current_app
from flask_babel import force_locale

from app.errors import DomainError

from . import exports, services


def _catalogue_locale(code: str) -> Locale:
    """The Locale whose str() names the catalogue directory ("zh_CN").

    Locale.parse("zh_CN") is zh_Hans_CN, for which no catalogue directory exists: the export would
    silently come out in English. Same fix as the app's locale selector (app/__init__.py).
    """
    parsed = Locale.parse(code)
    if parsed.script is None:
        return parsed
    locale = Locale(parsed.language, territory=parsed.territory, script=parsed.script)
    locale._data  # noqa: B018  (load the CLDR data while the identifier still names its file)
    locale.script = None
    return locale


def register(app: Flask) -> None:
    @app.cli.command("monthly-summary")
    @click.option("--month", help="YYYY-MM; default: the last complete month (school time).")
    @click.option("--college", "college_code", help="A college's code; default: the whole school.")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="Where to write: *.csv or *.xlsx.")
    @click.option("--lang", default="zh_CN", show_default=True, type=click.Choice(["zh_CN", "en"]))
    def monthly_summary_command(month, college_code, out, lang):
        """Write the monthly safety summary (art. 27, 28) as CSV or XLSX."""
        path = Path(out)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise click.BadParameter("the file must end in .csv or .xlsx", param_hint="--out")
        config = current_app.config
        try:
            month_date = services.parse_month(month) if month else services.default_month(config)
            college_id = services.college_by_code(college_code).id if college_code else None
            with force_locale(_catalogue_locale(lang)):
                summary = services.monthly_summary(month_date, college_id, config, count_statements=True,
                                                   late_sync_days=config["LATE_SYNC_DAYS"])
                tz = config["SCHOOL_TIMEZONE"]
                if suffix == ".csv":
                    path.write_text(exports.to_csv(summary, tz), encoding="utf-8")
                else:
                    path.write_bytes(exports.to_xlsx(summary, tz))
        except DomainError as err:
            raise click.ClickException(err.message) from err
        click.echo(f"{path}: {summary.month:%Y-%m}, {len(summary.colleges)} college(s), "
                   f"{summary.statements} SQL statements")
