"""Across worker processes through Redis: a question posted to one gunicorn process reaches the SSE
stream a member holds on another. Runs when REDIS_URL is set (CI's second pass)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from support import Browser, serve
from test_questions import _meeting

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")


def test_a_question_posted_to_one_worker_reaches_a_stream_on_another(app, database_url, tmp_path, qcell):
    sid = _meeting(app)
    (worker_a, base_a), (worker_b, base_b) = (serve(app, database_url, tmp_path / name) for name in "ab")
    try:
        listener, asker = Browser(), Browser()
        listener.sign_in(base_a, "member2")
        asker.sign_in(base_b, "member1")
        stream = listener.opener.open(f"{base_a}/questions/sessions/{sid}/stream", timeout=15)
        frames: list[str] = []

        def read():
            try:
                for raw in stream:
                    frames.append(raw.decode())
            except (OSError, ValueError):  # the server stops when the test ends
                pass

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 10
        while "event: mine\n" not in "".join(frames) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "event: queue\n" in "".join(frames), "the stream did not open"
        token = asker.token(f"{base_b}/questions/sessions/{sid}")
        answer = asker.post(
            f"{base_b}/questions/sessions/{sid}/ask",
            {"text": "Qua Redis từ tiến trình khác", "csrf_token": token},
            {"X-Outbox": "1"},
        )
        assert answer.status == 204
        deadline = time.monotonic() + 10
        while "Qua Redis từ tiến trình khác" not in "".join(frames) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Qua Redis từ tiến trình khác" in "".join(frames)
    finally:
        for worker in (worker_a, worker_b):
            worker.terminate()
            worker.wait(timeout=20)
