"""Votes in the evaluations plugin, reached only through the ``intranet_session_vote_closed`` hook (as
the votes plugin calls it): the minutes and the resolution carry the results, a failed vote on the
resolution keeps it a draft, a secret ballot gets its counting committee's report (biên bản kiểm
phiếu) through the same draft → sign → correct flow and the same .docx."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime, timedelta

import docx
from sqlalchemy import func, select
from test_evaluations import _held, _meeting, _office, _user

from intranet.extensions import db
from intranet.plugins import manager
from intranet_evaluations import documents, shelf
from intranet_evaluations.models import CellDocument as Document
from intranet_evaluations.models import VoteRecord
from intranet_scheduling import services as scheduling
from intranet_scheduling.hookspecs import VoteResult
from intranet_scheduling.models import SessionKind, SessionMode

PASSED = "Nghị quyết được thông qua với 9/11 đảng viên chính thức tán thành, đạt 81,8 %"
FAILED = "Nghị quyết không được thông qua: 5/11 đảng viên chính thức tán thành, đạt 45,5 %"


def _result(vote_id: int = 1, **changes) -> VoteResult:
    """A secret ballot on the resolution that passed, as the votes plugin reports one."""
    result = VoteResult(
        vote_id=vote_id,
        subject="resolution",
        title="Nghị quyết chuyên đề học tập",
        secret=True,
        base=11,
        base_label="đảng viên chính thức",
        eligible_present=10,
        voted=10,
        voted_on_paper=3,
        in_favour=9,
        against=1,
        other=0,
        passed=True,
        sentence=PASSED,
        counting_committee=("Chi Ủy", "Member1", "Phó Bí Thư"),
        closed_at=datetime.now(UTC) - timedelta(days=3),
    )
    return dataclasses.replace(result, **changes)


def _motion(vote_id: int = 9, **changes) -> VoteResult:
    """An open vote on a motion."""
    motion = {
        "subject": "motion",
        "title": "Cử đồng chí Member1 dự lớp bồi dưỡng",
        "secret": False,
        "voted_on_paper": 0,
        "counting_committee": (),
        "sentence": "Được thông qua với 10/11 đảng viên chính thức tán thành, đạt 90,9 %",
    }
    return _result(vote_id, **{**motion, **changes})


def _close(app, sid: int, result: VoteResult) -> None:
    """What the votes plugin does: the office-scoped hook, before its commit."""
    with app.test_request_context():
        meeting = _meeting(sid)
        manager().for_office(meeting.office_id).intranet_session_vote_closed(session=meeting, result=result)
        db.session.commit()


def _draft(app, sid: int, kind: str, vote_id: int = 0) -> Document:
    with app.test_request_context():
        documents.draft(_meeting(sid), kind, _user("bithu"), vote_id)
        db.session.commit()
    return _current(app, sid, kind, vote_id)


def _current(app, sid: int, kind: str, vote_id: int = 0) -> Document | None:
    with app.app_context():
        document = shelf.current(_meeting(sid), kind, vote_id)
        if document is not None:
            db.session.expunge(document)
        return document


def _texts(document: Document) -> str:
    return "\n".join(s["text"] for s in document.content["sections"])


def _sign(client, document: Document, follow: bool = True):
    sections = [s["text"] for s in document.content["sections"]]
    return client.post(
        f"/evaluations/documents/{document.id}",
        data={"action": "sign", "section": sections},
        follow_redirects=follow,
    )


def _docx(client, document_id: int) -> docx.Document:
    response = client.get(f"/evaluations/documents/{document_id}.docx")
    assert response.status_code == 200
    return docx.Document(io.BytesIO(response.data))


# --- the minutes and the resolution -----------------------------------------------------------------


def test_drafts_carry_every_vote_with_its_counts_and_the_resolution_its_sentence(app, client, qcell, login):
    sid = _held(app)
    _close(app, sid, _motion())
    _close(app, sid, _result())
    with app.app_context():
        minutes = documents.draft(_meeting(sid), "minutes", _user("bithu"))
        resolution = documents.draft(_meeting(sid), "resolution", _user("bithu"))
        db.session.commit()
        minutes_id, resolution_sections = minutes.id, resolution.content["sections"]
        votes = [s for s in minutes.content["sections"] if s.get("votes")]
    # One section for the votes, numbered after the meeting's parts, before the closing paragraph.
    assert [s["heading"] for s in votes] == ["5. Biểu quyết"]
    assert minutes.content["sections"][-2] == votes[0]
    text = votes[0]["text"]
    assert "Biểu quyết: Cử đồng chí Member1 dự lớp bồi dưỡng (biểu quyết công khai)." in text
    assert "Thông qua Nghị quyết: Nghị quyết chuyên đề học tập (bỏ phiếu kín)." in text
    assert (
        "Số đảng viên chính thức: 11; có mặt có quyền biểu quyết: 10; đã biểu quyết: 10 (trong đó 3 phiếu giấy)."
        in (text)
    )
    assert "Tán thành: 9; không tán thành: 1; phiếu trắng, phiếu không hợp lệ: 0." in text
    assert "Tán thành: 9; không tán thành: 1; ý kiến khác: 0." in text
    assert "Ban kiểm phiếu: đồng chí Chi Ủy (trưởng ban), đồng chí Member1, đồng chí Phó Bí Thư." in text
    assert f"Kết quả: {PASSED}." in text
    assert text.index("Cử đồng chí") < text.index("Nghị quyết chuyên đề học tập")  # in the order they closed
    assert resolution_sections[-1]["text"].startswith("Nghị quyết này được chi bộ thông qua tại buổi sinh hoạt ")
    assert resolution_sections[-1]["text"].endswith(f": {PASSED}.")
    login("bithu")
    paragraphs = [p.text for p in _docx(client, minutes_id).paragraphs]
    assert "5. Biểu quyết" in paragraphs and f"Kết quả: {PASSED}." in paragraphs


def test_a_late_result_refreshes_the_unsigned_drafts_and_keeps_the_secretarys_edits(app, client, qcell, login):
    sid = _held(app)
    minutes, resolution = _draft(app, sid, "minutes"), _draft(app, sid, "resolution")
    login("bithu")
    edited = {}
    for document in (minutes, resolution):
        document = _current(app, sid, document.kind.value)
        edited[document.kind.value] = [f"Sửa {i}" for i, _ in enumerate(document.content["sections"])]
        client.post(
            f"/evaluations/documents/{document.id}", data={"action": "save", "section": edited[document.kind.value]}
        )
    _close(app, sid, _result())
    _close(app, sid, _motion())
    _close(app, sid, _result(in_favour=10, against=0))  # the same vote reported again: replaced
    minutes, resolution = _current(app, sid, "minutes"), _current(app, sid, "resolution")
    others = [s["text"] for s in minutes.content["sections"] if not s.get("votes")]
    assert others == edited["minutes"]
    votes = [s for s in minutes.content["sections"] if s.get("votes")]
    assert len(votes) == 1 and votes[0]["heading"] == "5. Biểu quyết"
    assert votes[0]["text"].count(PASSED) == 1 and "Tán thành: 10; không tán thành: 0" in votes[0]["text"]
    assert "Cử đồng chí Member1" in votes[0]["text"]
    assert [s["text"] for s in resolution.content["sections"][:-1]] == edited["resolution"]
    assert resolution.content["sections"][-1]["text"].endswith(f": {PASSED}.")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VoteRecord)) == 2
        tallies = db.session.scalars(select(Document).where(Document.kind == "tally")).all()
        assert [(t.vote_id, t.version) for t in tallies] == [(1, 1)]
        assert "Số phiếu tán thành: 10." in _texts(tallies[0])
    # The refreshed draft is still edited and signed as before.
    assert "Đã ký" in _sign(client, minutes).text


def test_signed_documents_stay_as_signed_when_a_result_arrives_after(app, client, qcell, login):
    sid = _held(app)
    login("bithu")
    for kind in ("minutes", "resolution"):
        _sign(client, _draft(app, sid, kind))
    signed = {kind: _current(app, sid, kind).content for kind in ("minutes", "resolution")}
    _close(app, sid, _result(passed=False, sentence=FAILED))
    for kind in ("minutes", "resolution"):
        with app.app_context():
            versions = shelf.versions(_meeting(sid), kind)
            assert [(v.version, v.content) for v in versions] == [(1, signed[kind])]
    # A correction is how the result gets into a signed document: a new version, the earlier kept.
    corrected = _current(app, sid, "minutes")
    texts = [s["text"] for s in corrected.content["sections"]]
    client.post(
        f"/evaluations/documents/{corrected.id}",
        data={"action": "correct", "section": [*texts[:-1], FAILED], "reason": "Bổ sung kết quả biểu quyết"},
    )
    with app.app_context():
        assert [v.version for v in shelf.versions(_meeting(sid), "minutes")] == [2, 1]


def test_a_failed_resolution_vote_keeps_the_resolution_a_draft_until_a_retaken_vote_passes(app, client, qcell, login):
    sid = _held(app)
    _close(app, sid, _result(passed=False, sentence=FAILED, in_favour=5, against=5))
    _close(app, sid, _motion(passed=False))  # a failed vote on something else decides nothing here
    resolution = _draft(app, sid, "resolution")
    assert resolution.content["sections"][-1]["text"] == f"Dự thảo Nghị quyết chưa được thông qua: {FAILED}."
    assert "Dự thảo Nghị quyết chuyên đề chưa được thông qua" in _texts(_draft(app, sid, "minutes"))
    login("bithu")
    page = client.get(f"/evaluations/documents/{resolution.id}").text
    message = "Nghị quyết chưa được thông qua: lần biểu quyết gần nhất về nghị quyết không đạt, nên vẫn là dự thảo."
    assert message in page and 'value="sign"' not in page
    refused = _sign(client, resolution)
    assert message in refused.text
    assert _current(app, sid, "resolution").signed_at is None
    _close(app, sid, _result(2))  # the vote retaken, and passed
    resolution = _current(app, sid, "resolution")
    assert resolution.content["sections"][-1]["text"].endswith(f": {PASSED}.")
    assert "Đã ký" in _sign(client, resolution).text
    signed = _current(app, sid, "resolution")
    assert signed.signed_at is not None and signed.number == 1


# --- the counting committee's report ----------------------------------------------------------------


def test_a_secret_ballot_gets_its_tally_report_drafted_exported_signed_and_corrected(app, client, qcell, login):
    sid = _held(app, close=False)  # counted while the meeting is still going on
    _close(app, sid, _motion())
    _close(app, sid, _result())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 1  # none for the open vote
    tally = _current(app, sid, "tally", 1)
    assert (tally.title, tally.signed_at, tally.content["subtitle"]) == (
        "BIÊN BẢN KIỂM PHIẾU",
        None,
        "Thông qua Nghị quyết: Nghị quyết chuyên đề học tập",
    )
    login("bithu")
    response = client.get(f"/evaluations/documents/{tally.id}.docx")
    assert f"bien-ban-kiem-phieu-{sid}-1-v1.docx" in response.headers["Content-Disposition"]
    opened = _docx(client, tally.id)
    header = opened.tables[0].rows[0].cells
    assert "CHI BỘ" in header[0].text and "ĐẢNG CỘNG SẢN VIỆT NAM" in header[1].text
    paragraphs = [p.text for p in opened.paragraphs]
    for line in (
        "BIÊN BẢN KIỂM PHIẾU",
        "1. Đồng chí Chi Ủy — Trưởng ban",
        "Số đảng viên chính thức: 11 đồng chí.",
        "Số đảng viên có mặt có quyền biểu quyết: 10 đồng chí.",
        "Số phiếu phát ra: 10.",
        "Số phiếu thu vào: 10 (bỏ phiếu trực tuyến: 7; phiếu giấy: 3).",
        "Số phiếu tán thành: 9.",
        "Số phiếu không tán thành: 1.",
        "Số phiếu trắng, phiếu không hợp lệ: 0.",
        f"{PASSED}.",
    ):
        assert line in paragraphs, line
    left, right = opened.tables[-1].rows[0].cells
    assert right.paragraphs[0].text == "TRƯỞNG BAN KIỂM PHIẾU" and right.paragraphs[-1].text == "Chi Ủy"
    assert left.paragraphs[0].text == "THÀNH VIÊN BAN KIỂM PHIẾU" and "Phó Bí Thư" in left.text
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert 'id="doc-tally-1"' in page and "Biên bản kiểm phiếu" in page
    assert "Đã ký" in _sign(client, tally).text
    _close(app, sid, _result(in_favour=8, against=2))  # reported again after signing: the signed report stays
    signed = _current(app, sid, "tally", 1)
    assert signed.signed_at is not None and "Số phiếu tán thành: 9." in _texts(signed)
    texts = [s["text"] for s in signed.content["sections"]]
    corrected = client.post(
        f"/evaluations/documents/{signed.id}",
        data={"action": "correct", "section": [*texts[:-1], "Đã công bố."], "reason": "Sửa câu cuối"},
        follow_redirects=True,
    )
    assert "Đã ký bản đính chính" in corrected.text, corrected.text
    newest = _current(app, sid, "tally", 1)
    assert (newest.version, newest.vote_id, newest.content["sections"][-1]["text"]) == (2, 1, "Đã công bố.")


def test_the_tally_report_for_each_role(app, client, qcell, login):
    sid = _held(app)
    _close(app, sid, _result())
    tally = _current(app, sid, "tally", 1)
    sections = [s["text"] for s in tally.content["sections"]]
    login("member1")  # reads it, changes nothing
    assert "BIÊN BẢN KIỂM PHIẾU" in client.get(f"/evaluations/documents/{tally.id}").text
    assert client.get(f"/evaluations/documents/{tally.id}.docx").status_code == 200
    assert client.post(
        f"/evaluations/documents/{tally.id}", data={"action": "save", "section": sections}
    ).status_code == (403)
    refused = client.post(f"/evaluations/sessions/{sid}/votes/1/tally", follow_redirects=True)
    assert "Chỉ bí thư hoặc phó bí thư mới soạn được" in refused.text
    login("phobithu")  # edits and redrafts, does not sign
    client.post(f"/evaluations/documents/{tally.id}", data={"action": "save", "section": ["Sửa", *sections[1:]]})
    assert _current(app, sid, "tally", 1).content["sections"][0]["text"] == "Sửa"
    client.post(f"/evaluations/sessions/{sid}/votes/1/tally")
    assert _current(app, sid, "tally", 1).content["sections"][0]["text"] == sections[0]
    assert "Chỉ bí thư mới làm được việc này" in _sign(client, tally).text
    unknown = client.post(f"/evaluations/sessions/{sid}/votes/77/tally", follow_redirects=True)
    assert "Không có cuộc bỏ phiếu kín nào để lập biên bản" in unknown.text
    login("bithu")
    assert "Đã ký" in _sign(client, tally).text
    for outsider in ("othermember", "otheradmin"):
        login(outsider)
        assert client.get(f"/evaluations/documents/{tally.id}").status_code in (403, 404)
        assert client.get(f"/evaluations/documents/{tally.id}.docx").status_code in (403, 404)
        assert client.post(f"/evaluations/sessions/{sid}/votes/1/tally").status_code in (403, 404)


# --- the hook's reach -------------------------------------------------------------------------------


def test_the_hook_does_nothing_in_an_office_where_evaluations_is_off(app, data, qcell):
    sid = _held(app)
    data.enable("evaluations", "DIST", False)
    _close(app, sid, _result())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VoteRecord)) == 0
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_a_result_stays_in_its_meetings_office(app, client, qcell, login):
    sid = _held(app)
    with app.test_request_context():
        other = scheduling.create_session(
            _office("OTHER"),
            kind=SessionKind.THEMATIC,
            title="Chuyên đề tỉnh khác",
            starts_at=datetime.now(UTC) - timedelta(days=2),
            duration_minutes=60,
            place="",
            mode=SessionMode.ONLINE,
            record_past=True,
        )
        db.session.commit()
        other_id = other.id
    _close(app, sid, _result())
    _close(app, other_id, _result(title="Bỏ phiếu ở tỉnh khác", passed=False, sentence=FAILED))  # the same vote id
    with app.app_context():
        rows = {r.session_id: (r.office_id, r.title) for r in db.session.scalars(select(VoteRecord))}
        assert rows == {
            sid: (_office("DIST").id, "Nghị quyết chuyên đề học tập"),
            other_id: (_office("OTHER").id, "Bỏ phiếu ở tỉnh khác"),
        }
    dist_tally, other_tally = _current(app, sid, "tally", 1), _current(app, other_id, "tally", 1)
    assert PASSED in _texts(dist_tally) and other_tally.office_id == _office_id(app, "OTHER")
    resolution = _draft(app, sid, "resolution")  # DIST's resolution is decided by DIST's vote only
    assert resolution.content["sections"][-1]["text"].endswith(f": {PASSED}.")
    login("othermember")
    assert client.get(f"/evaluations/documents/{dist_tally.id}").status_code == 404
    assert "Bỏ phiếu ở tỉnh khác" in client.get(f"/evaluations/documents/{other_tally.id}").text


def _office_id(app, code: str) -> int:
    with app.app_context():
        return _office(code).id


# --- what a result may carry ------------------------------------------------------------------------


def test_a_huge_or_empty_title_leaves_the_documents_editable_and_signable(app, client, qcell, login):
    sid = _held(app)
    _close(app, sid, _result(title="Dài " * 30000, counting_committee=("Chi Ủy", "  ", "\x00")))
    _close(app, sid, _motion(title="   "))
    minutes = _draft(app, sid, "minutes")
    with app.app_context():
        titles = [r.title for r in db.session.scalars(select(VoteRecord).order_by(VoteRecord.vote_id))]
        assert len(titles[0]) == 1000 and titles[0].endswith("…") and titles[1] == "…"
        assert db.session.scalars(select(VoteRecord.counting_committee)).first() == ["Chi Ủy"]
    login("bithu")
    for document in (minutes, _current(app, sid, "tally", 1)):
        saved = client.post(
            f"/evaluations/documents/{document.id}",
            data={"action": "save", "section": [s["text"] for s in document.content["sections"]]},
            follow_redirects=True,
        )
        assert "Đã lưu bản nháp" in saved.text
        assert "Đã ký" in _sign(client, document).text
    assert "TRƯỞNG BAN KIỂM PHIẾU" in _docx(client, document.id).tables[-1].rows[0].cells[1].text


def test_a_result_misrouted_through_another_offices_hooks_records_nothing(app, data, qcell):
    """The meeting's office has evaluations off; a caller using another office's manager by mistake
    must not write into it."""
    sid = _held(app)
    data.enable("evaluations", "DIST", False)
    with app.test_request_context():
        meeting = _meeting(sid)
        manager().for_office(_office("OTHER").id).intranet_session_vote_closed(session=meeting, result=_result())
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(VoteRecord)) == 0


def test_many_long_votes_leave_the_minutes_editable_and_signable(app, client, qcell, login):
    """The vote section is written by the count, not typed: however long it grows, the draft saves."""
    sid = _held(app)
    for vote_id in range(1, 26):
        _close(app, sid, _motion(vote_id, title=f"Biểu quyết {vote_id} " + "nội dung dài " * 100))
    minutes = _draft(app, sid, "minutes")
    assert len(next(s for s in minutes.content["sections"] if s.get("votes"))["text"]) > 20000
    login("bithu")
    assert "Đã ký" in _sign(client, minutes).text


def test_a_late_failed_vote_changes_the_minutes_resolution_line_unless_the_secretary_rewrote_it(app, client, qcell):
    sid = _held(app)
    untouched = _draft(app, sid, "minutes")
    assert "Chi bộ thống nhất thông qua Nghị quyết chuyên đề" in _texts(untouched)
    _close(app, sid, _result(passed=False, sentence=FAILED))
    line = next(s for s in _current(app, sid, "minutes").content["sections"] if s["table"] == "tasks")["text"]
    assert line == "Dự thảo Nghị quyết chuyên đề chưa được thông qua; các nhiệm vụ dự kiến:"
    _close(app, sid, _result(2))  # retaken and passed
    line = next(s for s in _current(app, sid, "minutes").content["sections"] if s["table"] == "tasks")["text"]
    assert line == "Chi bộ thống nhất thông qua Nghị quyết chuyên đề với các nhiệm vụ sau:"
    with app.test_request_context():
        minutes = shelf.current(_meeting(sid), "minutes")
        documents.edit(minutes, _user("bithu"), ["Lời của thư ký" for _ in minutes.content["sections"]])
        db.session.commit()
    _close(app, sid, _result(3, passed=False, sentence=FAILED))
    line = next(s for s in _current(app, sid, "minutes").content["sections"] if s["table"] == "tasks")["text"]
    assert line == "Lời của thư ký"
