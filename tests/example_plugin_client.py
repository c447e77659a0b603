"""Run by tests/test_example_plugin.py with the python of a venv holding the intranet's and the example
plugin's wheels (not the work tree): ``setup`` adds two offices with a secretary each, ``visit`` signs
each in and prints what they get from the notice board, as JSON."""
import json
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
            create_user(username=f"sec_{code.lower()}", full_name=f"Secretary {code}", office=office,
                        roles=(Role.SECRETARY,), party_status=PartyStatus.OFFICIAL, password=PASSWORD)
        db.session.commit()


def visit(app):
    seen = {}
    for username in ("sec_one", "sec_two"):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        posted = client.post("/noticeboard/", data={"text": f"Notice from {username}"})
        board = client.get("/noticeboard/")
        seen[username] = {"board": board.status_code, "posted": posted.status_code, "page": board.text,
                          "home": client.get("/").text}
    print(json.dumps(seen))


if __name__ == "__main__":
    # Requests run outside any app context: one shared context would share ``g`` (the signed-in user).
    {"setup": setup, "visit": visit}[sys.argv[1]](create_app({"WTF_CSRF_ENABLED": False}))
