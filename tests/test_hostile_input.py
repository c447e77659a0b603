"""Hostile input at the meeting room's ingest, the room and upload forms, the TURN settings and the
classification scale: each answered with a clear message (or ignored, for the page's own reports),
never a 500, and nothing stored that cannot work. Found by an adversarial review; each failed first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_meetings import _batch, _configure, _enter, _now_ms, _online


@pytest.mark.parametrize(
    "sample",
    [
        {"media": ["failed"]},
        {"media": {"x": 1}},
    ],
)
def test_ingest_unhashable_media_is_ignored_not_a_500(app, client, qcell, login, sample):
    _configure(app)
    sid = _online(app)
    login("member1")
    _enter(app, sid, "member1", ago=timedelta(minutes=1))
    answer = client.post(
        f"/meetings/sessions/{sid}/ingest",
        json=_batch(app, sid, "member1", "b-media-01", samples=[{"t": _now_ms(), **sample}]),
    )
    assert answer.status_code == 200, answer.status_code
    assert answer.get_json()["ignored"] == 1


@pytest.mark.parametrize("kind", [["hand"], {"k": "hand"}])
def test_ingest_unhashable_event_kind_is_ignored_not_a_500(app, client, qcell, login, kind):
    _configure(app)
    sid = _online(app)
    login("member1")
    _enter(app, sid, "member1", ago=timedelta(minutes=1))
    answer = client.post(
        f"/meetings/sessions/{sid}/ingest",
        json=_batch(app, sid, "member1", "b-kind-001", events=[{"t": _now_ms(), "kind": kind}]),
    )
    assert answer.status_code == 200, answer.status_code


def test_ingest_unhashable_mode_is_ignored_not_a_500(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    _enter(app, sid, "member1", ago=timedelta(minutes=1))
    body = _batch(app, sid, "member1", "b-mode-001")
    body["mode"] = ["jitsi"]
    answer = client.post(f"/meetings/sessions/{sid}/ingest", json=body)
    assert answer.status_code == 200, answer.status_code


@pytest.mark.parametrize("provider", ["zzz", None])
def test_room_pin_with_a_forged_provider_is_refused_in_vietnamese(app, client, qcell, login, provider):
    _configure(app)
    sid = _online(app)
    login("bithu")
    form = {} if provider is None else {"provider": provider}
    answer = client.post(f"/meetings/sessions/{sid}/room", data=form, headers={"HX-Request": "true"})
    assert answer.status_code == 422
    assert answer.text == "Hãy chọn một trong các lựa chọn có sẵn."  # not WTForms' English default


@pytest.mark.parametrize("kind", ["zzz", None])
def test_document_upload_with_a_forged_kind_is_refused_in_vietnamese(app, client, qcell, login, kind):
    import io

    sid = _online(app)
    login("bithu")
    form = {"file": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")}
    if kind is not None:
        form["kind"] = kind
    answer = client.post(
        f"/scheduling/sessions/{sid}/documents",
        data=form,
        headers={"HX-Request": "true", "HX-Boosted": "true"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert answer.text == "Hãy chọn một trong các lựa chọn có sẵn."


def test_turn_url_with_a_port_past_65535_is_refused(app, client, qcell, login):
    from test_meetings import _office
    from test_meetings_turn import FORM

    from intranet_meetings import services

    login("distadmin")
    client.post("/meetings/config", data={**FORM, "turn_urls": "turn:turn.vks.gov.vn:99999", "turn_secret": "s"})
    with app.app_context():
        assert "99999" not in services.config_for(_office().id).turn_urls


CLASSIFICATION = {
    "weight_attendance": "3",
    "weight_documents": "2",
    "weight_discussion": "2",
    "weight_duration": "1",
    "weight_conclusion": "2",
    "weight_ratings": "1",
    "line_attendance": "85",
    "line_documents": "1",
    "line_discussion": "50",
    "line_duration": "90",
    "line_ratings": "4",
}


@pytest.mark.parametrize(
    "scale",
    [
        "Tốt 80; Tốt 60; Kém 0",  # the same grade twice
        "Tốt 80; Khá 80; Kém 0",  # "Khá" can never be given
        "; ".join(f"G{i} {100 - i / 100:.2f}" for i in range(5000)) + "; Z 0",  # 5001 grades, no bound
    ],
)
def test_a_scale_that_cannot_work_is_refused(app, client, qcell, login, scale):
    login("bithu")
    page = client.post(
        "/evaluations/settings/classification", data={**CLASSIFICATION, "scale": scale}, follow_redirects=True
    ).text
    assert "Đã lưu cách xếp loại" not in page


def test_ingest_deeply_nested_json_is_a_400_not_a_500(app, client, qcell, login):
    """json.loads raises RecursionError (not ValueError) past ~1000 levels: 20 kB is under the cap."""
    _configure(app)
    sid = _online(app)
    login("member1")
    answer = client.post(
        f"/meetings/sessions/{sid}/ingest", data="[" * 10_000 + "]" * 10_000, content_type="application/json"
    )
    assert answer.status_code == 400, answer.status_code
