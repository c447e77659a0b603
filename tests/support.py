"""Helpers shared by the test modules and both conftests."""
from __future__ import annotations

import os
from pathlib import Path

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def app_config(database_url: str, instance: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "LIVE_PREFIX": f"intranet-test-{os.getpid()}",
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (looked at by hand, used in the README)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str) -> None:
    """Sign in through the login form, in Vietnamese, and wait for the start page."""
    import re

    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name=re.compile("Xin chào"))).to_be_visible()
