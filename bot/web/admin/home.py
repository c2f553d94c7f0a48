"""`/admin/`: the editors' start page, linking the rooms; every page here needs the `editor` role."""

from __future__ import annotations

from flask import Blueprint, render_template

from bot.models import Role
from bot.web.access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required(Role.EDITOR)
def index():  # type: ignore[no-untyped-def]
    return render_template("admin/index.html")
