"""Live checks for the wizard's fields (JSON, as the operator types): a national ID shown back as birth date,
gender, governorate and age; a mobile number; a name. Errors come back in both languages."""

from __future__ import annotations

from datetime import date

from flask import abort, jsonify, request

from edge.core import national_id as nid_mod
from edge.core import phone
from edge.core.citizens import clean_name
from edge.core.errors import EdgeError
from edge.web import i18n
from edge.web.operator.blueprint import bp, login_required


@bp.post("/check/<kind>")
@login_required
def check(kind: str):
    body = request.get_json(silent=True)
    text = body.get("text", "") if isinstance(body, dict) else ""  # a list or a string is no question: 500 before
    try:
        if kind == "national-id":
            parsed = nid_mod.parse(str(text))
            lang = i18n.current()
            return jsonify(ok=True, birth_date=i18n.local_date(parsed.birth_date),
                           gender={"male": ("ذكر", "Male"), "female": ("أنثى", "Female")}[parsed.gender.value][
                               0 if lang == "ar" else 1],
                           governorate=parsed.governorate.name_ar if lang == "ar" else parsed.governorate.name_en,
                           age=i18n.num(parsed.age(date.today())))
        if kind == "mobile":
            return jsonify(ok=True, mobile=i18n.num(phone.parse(str(text))))
        if kind == "name":
            return jsonify(ok=True, name=clean_name(str(text)))
    except EdgeError as exc:
        first, second = i18n.message(exc)
        return jsonify(ok=False, message=first, message_other=second)
    abort(404)
