"""The room page uses only names Jitsi's real IFrame API has: every method it calls on the API object,
every command it executes and every event it listens to is checked against the list read from
jitsi-meet's source (tests/e2e/jitsi_stand_in/real_api.json, which says where and at which commit);
the browser test checks the constructor options and the stand-in's own surface the same way."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
ROOM_JS = (ROOT / "plugins/meetings/static/meetings/room.js").read_text()
REAL = json.loads((ROOT / "tests/e2e/jitsi_stand_in/real_api.json").read_text())


def used_by_the_page() -> dict[str, set[str]]:
    logged = re.search(r"const LOGGED_EVENTS = \[([^\]]*)\]", ROOM_JS).group(1)
    return {
        "methods": set(re.findall(r"\b(?:api|target)\.(\w+)", ROOM_JS)),
        "commands": set(re.findall(r"executeCommand\(\"(\w+)\"", ROOM_JS)),
        "events": set(re.findall(r"\bon\(\"(\w+)\"", ROOM_JS)) | set(re.findall(r"\"(\w+)\"", logged)),
    }


def test_the_list_of_names_the_page_uses_is_read_as_expected():
    used = used_by_the_page()
    assert {"addListener", "executeCommand", "getConnectionStats", "dispose"} <= used["methods"]
    assert {"setAudioOnly", "setVideoQuality", "setAssumedBandwidthBps"} <= used["commands"]
    assert {"videoConferenceJoined", "errorOccurred", "dataChannelClosed"} <= used["events"]


def test_every_name_the_page_uses_is_in_the_real_api():
    for kind, names in used_by_the_page().items():
        assert names <= set(REAL[kind]), f"{kind} the real IFrame API lacks: {sorted(names - set(REAL[kind]))}"


def test_the_real_list_says_where_it_was_read():
    assert re.search(r"commit [0-9a-f]{40}", REAL["read_from"]["commands, events"])
    assert "domain" not in REAL["methods"]  # JitsiMeetExternalAPI.domain never existed


def test_the_stand_ins_public_names_are_real_too():
    shim = (ROOT / "tests/e2e/jitsi_stand_in/external_api.js").read_text()
    commands = re.search(r"const COMMANDS = \{([^}]*)\}", shim).group(1)
    events = re.search(r"const EVENTS = \{([^}]*)\}", shim).group(1)
    assert set(re.findall(r"(\w+): \"", commands)) <= set(REAL["commands"])
    assert set(re.findall(r": \"(\w+)\"", events)) <= set(REAL["events"])
    # and it covers what the page uses, so no command or listener of the page goes unanswered
    used = used_by_the_page()
    assert used["commands"] <= set(re.findall(r"(\w+): \"", commands))
    assert used["events"] <= set(re.findall(r": \"(\w+)\"", events))
