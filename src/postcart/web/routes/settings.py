"""A reviewer's own settings: the keys used for keyboard screening.

The rules (one printable character each, no clashes, digits reserved for exclusion reasons)
live in ``literature/screen_keys.py``; this route reads the form and stores or explains.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from postcart.errors import InputError
from postcart.literature import models as lm
from postcart.literature import screen_keys
from postcart.literature.workflow import DEFAULT_KEYS
from postcart.web.app import DB, Who, render, signed_in

router = APIRouter()

Me = Annotated[lm.Reviewer, Depends(signed_in)]
LABELS = {"yes": "Include", "maybe": "Maybe", "no": "Exclude"}


@router.get("/settings/keys")
def keys_form(
    request: Request, session: DB, who: Who, me: Me, saved: int | None = None
) -> Response:
    """The reviewer's screening keys, with the defaults beside them."""
    return render(request, who, "settings_keys.html", keys=screen_keys.keys_of(session, me),
                  defaults=DEFAULT_KEYS, labels=LABELS,
                  notice="Keys saved." if saved else "")  # fmt: skip


@router.post("/settings/keys")
def save_keys(
    request: Request, session: DB, who: Who, me: Me,
    yes: Annotated[str, Form()] = "", maybe: Annotated[str, Form()] = "",
    no: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Store the keys, or show the form again with what clashes."""
    given = {"yes": yes, "maybe": maybe, "no": no}
    try:
        screen_keys.save(session, me, given)
    except InputError as error:
        session.rollback()
        return render(request, who, "settings_keys.html", 400, keys=given, defaults=DEFAULT_KEYS,
                      labels=LABELS, error=str(error))  # fmt: skip
    return RedirectResponse("/settings/keys?saved=1", status_code=303)
