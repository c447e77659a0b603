"""What a vote costs per change, found with bench/votes_bench.py: a live region is rendered again for
every change while ballots arrive, so its statements must not grow with the cell."""

from support import sql_statements
from test_questions import _user
from test_votes import _cast, _do, _open, _present, sid, vcell  # noqa: F401  (fixtures)

from intranet_votes import services

VOTERS = 12


def test_the_panel_names_an_open_votes_voters_in_one_statement(app, client, login, data, sid):  # noqa: F811
    """A closed open vote lists who voted how on the panel, which every member's stream renders again
    while the next vote's ballots arrive: one statement for its voters, not one per voter."""
    names = [data.user(f"load{i:02d}", "DIST") and f"load{i:02d}" for i in range(VOTERS)]
    _present(app, sid, "bithu", "member1", *names)
    vid = _open(app, sid)
    for name in names:
        _cast(app, vid, name)
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    login("member1")
    with sql_statements(app) as statements:
        panel = client.get(f"/votes/sessions/{sid}/poll/panel")
    assert panel.status_code == 200 and "Load11" in panel.text
    assert len(statements) < VOTERS, statements
