"""`/admin/privacy/`: what is stored about one customer, its export (GDPR Art. 15) and deletion (Art. 17)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_privacy", __name__, url_prefix="/admin/privacy", cli_group=None)
