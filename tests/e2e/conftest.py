"""Browser tests: Debian's Chromium driven by Playwright against the app served on a free loopback
port by a real (threaded) WSGI server, with CSRF on as in production."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from support import app_config
from werkzeug.serving import make_server

from intranet import create_app

CHROMIUM = os.environ.get("INTRANET_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_server(app, database_url, tmp_path_factory):
    """A second app on the same database, served by a real HTTP server in a thread."""
    served = create_app(app_config(database_url, tmp_path_factory.mktemp("live-instance"), WTF_CSRF_ENABLED=True))
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-gpu",
                "--no-first-run",
                # a fake camera and microphone, for the meeting room's pre-call check
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        yield CspWatchedBrowser(browser)
        browser.close()


class CspWatchedBrowser:
    """The browser, whose every context records the Content-Security-Policy violations Chromium reports
    on the console; ``_no_csp_violations`` fails the test that caused any."""

    def __init__(self, browser):
        self._browser = browser
        self.violations: list[str] = []

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.on("console", self._note)
        return context

    def _note(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    if "browser" not in request.fixturenames and "page" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    browser.violations.clear()
    yield
    assert not browser.violations, "Content-Security-Policy violations:\n" + "\n".join(browser.violations)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def jitsi_server():
    from jitsi_stand_in.server import TRANSPORT, StandInServer

    if not TRANSPORT.exists():
        pytest.skip(f"{TRANSPORT.name} is not built: `make test` bundles it with npm (@jitsi/js-utils)")
    server = StandInServer()
    yield server
    server.close()


@pytest.fixture
def jitsi(jitsi_server):
    """The Jitsi stand-in on its own origin (``.host``), reset for each test."""
    jitsi_server.reset()
    return jitsi_server
