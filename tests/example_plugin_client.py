"""Run by tests/test_example_plugin.py with the python of a venv holding the intranet's and the example
plugin's wheels (not the work tree): ``setup`` adds two offices with a secretary each, ``visit`` signs
each in and prints what they get from the notice board, as JSON."""

import html
import json
import re
import sys

from intranet import create_app
from intranet.admin.services import create_office, create_user
from intranet.extensions import db
from intranet.models import PartyStatus, Role

PASSWORD = "correct horse battery"


def setup(app):
    with app.app_context():
        for code in ("ONE", "TWO"):
            office = create_office(code=code, name=f"Office {code}", parent=None)
            create_user(
                username=f"sec_{code.lower()}",
                full_name=f"Secretary {code}",
                office=office,
                roles=(Role.SECRETARY,),
                party_status=PartyStatus.OFFICIAL,
                password=PASSWORD,
            )
        db.session.commit()


def visit(app):
    """Each secretary posts and reads the board, then polls the live region of ONE's board (the URL its
    page names)."""
    seen, poll = {}, None
    for username in ("sec_one", "sec_two"):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        posted = client.post("/noticeboard/", data={"text": f"Notice from {username}"})
        board = client.get("/noticeboard/")
        named = re.search(r'data-live-poll="([^"]+)"', board.text)
        poll = poll or (named and html.unescape(named.group(1)))
        live = client.get(poll)
        seen[username] = {
            "board": board.status_code,
            "posted": posted.status_code,
            "page": board.text,
            "home": client.get("/").text,
            "poll": live.status_code,
            "live": live.text,
        }
    print(json.dumps(seen))


if __name__ == "__main__":
    # Requests run outside any app context: one shared context would share ``g`` (the signed-in user).
    {"setup": setup, "visit": visit}[sys.argv[1]](create_app({"WTF_CSRF_ENABLED": False}))
