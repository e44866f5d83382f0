"""The inbox page and one's own notice channels."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.auth.models import User
from app.extensions import db
from app.policy import Action, authorize
from app.validation_messages import localize

from . import channel_admin, channels, services
from .api import email_state
from .labels import refusal_text
from .models import DINGTALK_WORK, WECOM_APP
from .schemas import ChannelsForm

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def inbox():
    notes = services.inbox(current_user)
    outbox = services.outbox_state(current_user)
    return render_template("notifications/inbox.html", notes=notes, label=services.kind_label,
                           email_state=lambda n: email_state(outbox.get(n.id)))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    n = services.mark_read(current_user, notification_id)
    return redirect(n.link or url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    services.mark_all_read(current_user)
    return redirect(url_for("notifications.inbox"))


# ---- a user's channels (issue 25) -------------------------------------------------------------

@bp.route("/account/channels", methods=["GET", "POST"])
@login_required
def my_channels():
    """One's own channels for notices (in-app always; e-mail, WeCom, DingTalk) and messenger ids."""
    authorize(current_user, Action.CHOOSE_CHANNELS, current_user)
    error, status = None, 200
    if request.method == "POST":
        try:
            form = ChannelsForm().load({**request.form, "channels": request.form.getlist("channels")})
            channel_admin.save_channels(current_user.id, follow_site=form["follow_site"], chosen=form["channels"],
                                        wecom_userid=form["wecom_userid"], dingtalk_userid=form["dingtalk_userid"])
        except ValidationError as err:
            error, status = refusal_text(localize(err.messages)), 400
        else:
            flash(_("Your notice channels are saved."))
            return redirect(url_for("notifications.my_channels"), 303)
    user = db.session.get(User, current_user.id)
    config = current_app.config
    return render_template("notifications/channels.html", user=user, error=error,
                           chosen=channels.chosen(user.notify_channels, config),
                           site=channels.chosen(None, config),
                           available={"email": channels.configured(config, "email"),
                                      "wecom": channels.configured(config, WECOM_APP),
                                      "dingtalk": channels.configured(config, DINGTALK_WORK)}), status
