"""Faults and abuse the intranet must survive (issue 11): a body too large for its view, a plugin
switched off, SQLite under a meeting's load, Redis going away and coming back."""
from __future__ import annotations

import io

import pytest


class _Body(io.RawIOBase):
    """A request body of ``size`` bytes made as it is read, counting what the server read."""

    def __init__(self, size: int) -> None:
        self.size, self.consumed = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.consumed)
        buffer[:n] = b"a" * n
        self.consumed += n
        return n


# --- item 14: the body-size cap holds before anything reads the form ---------------------------------


@pytest.mark.parametrize("csrf", [True, False])
def test_an_oversize_login_form_is_refused_unread(app, client, csrf):
    size = 59 * 1024 * 1024
    body = _Body(size)
    app.config["WTF_CSRF_ENABLED"] = csrf
    try:
        response = client.post("/login", content_type="application/x-www-form-urlencoded",
                               environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(size)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    assert body.consumed == 0  # refused on its Content-Length, before a byte was read


def test_a_chunked_body_is_cut_off_at_the_cap(app, client):
    body = _Body(59 * 1024 * 1024)
    app.config["WTF_CSRF_ENABLED"] = True
    try:  # no Content-Length: the server marks the stream as terminated (chunked transfer)
        response = client.post("/login", content_type="application/x-www-form-urlencoded",
                               environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    assert body.consumed <= 2 * app.config["MAX_FORM_SIZE"]
