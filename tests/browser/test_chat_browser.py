"""The demo in a real browser (headless Chromium): what a person sees, and
every frame the pages exchanged checked against the served AsyncAPI document.

Two pages join one room under two names and talk; the member lists follow
joins, a rename and a leave; a third page reloads and rejoins as itself; a
server restart is survived by reconnecting with backoff. Screenshots go to
``artifacts/`` (``ARTIFACTS_DIR``), kept whether the test passes or fails.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from examples.chat.app import create_app
from selenium import webdriver

from ..support.asyncapi import assert_valid_document, matching
from .support import ChatPage, ThreadedServer, chromium

CHANNEL = "room"


@pytest.fixture
def drivers() -> Iterator[list[webdriver.Chrome]]:
    started: list[webdriver.Chrome] = []
    try:
        yield started
    finally:
        for driver in started:
            driver.quit()


def fetch_document(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(base_url + "/asyncapi.json", timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("application/json")
        return json.loads(resp.read())  # type: ignore[no-any-return]


def assert_frames_follow(doc: dict[str, Any], pages: list[ChatPage]) -> set[str]:
    """Each frame a page sent is exactly one receive message of the channel,
    each frame it received exactly its declared send message; the tags seen."""
    seen = set()
    for page in pages:
        for frame in page.frames["sent"]:
            assert matching(doc, CHANNEL, "receive", frame) == [frame["type"]], frame
            seen.add(f"receive.{frame['type']}")
        for frame in page.frames["received"]:
            assert matching(doc, CHANNEL, "send", frame) == [f"sent.{frame['type']}"], frame
            seen.add(f"send.{frame['type']}")
    return seen


def talk_and_rename(alice: ChatPage, bob: ChatPage) -> None:
    alice.join("alice")
    alice.wait_members(["alice"])
    bob.join("bob")
    for p in (alice, bob):
        p.wait_members(["alice", "bob"])
    alice.wait_log("bob joined.")

    alice.type_into("text", "hello")
    bob.wait(lambda: bob.text("typing") == "alice is typing…", "the typing indicator")
    alice.submit("say")
    bob.wait_log("alice hello")
    alice.wait_log("alice hello")
    bob.wait(lambda: bob.text("typing") == "", "the typing indicator to clear")

    bob.rename("alice")  # taken: a clear error, the name stays
    bob.wait(lambda: "already taken" in bob.text("error"), "the taken-name error")
    bob.rename("robert")
    for p in (alice, bob):
        p.wait_members(["alice", "robert"])
    alice.wait_log("bob is now robert.")
    assert bob.text("me") == "robert"


def third_joins_and_reloads(alice: ChatPage, bob: ChatPage, carol: ChatPage) -> None:
    carol.join("carol")
    alice.wait_members(["alice", "carol", "robert"])
    carol.wait_log("alice hello")  # the history, on join
    bob.say("welcome, carol")
    carol.wait_log("robert welcome, carol")
    alice.wait(lambda: "online" in alice.text("presence"), "the presence worker")
    carol.type_into("text", "hi all")
    alice.wait(lambda: alice.text("typing") == "carol is typing…", "carol typing")
    alice.screenshot("demo-alice")  # docs/images/demo.png
    bob.screenshot("demo-robert")

    carol.collect_frames()
    carol.driver.refresh()  # the page rejoins the same room as the same person
    carol.wait(lambda: carol.text("me") == "carol", "carol to rejoin after reload")
    carol.wait_members(["alice", "carol", "robert"])
    carol.wait_log("robert welcome, carol")
    alice.wait_log("carol left.")
    alice.wait_members(["alice", "carol", "robert"])
    carol.screenshot("demo-carol-reloaded")


def second_leaves(alice: ChatPage, bob: ChatPage, carol: ChatPage) -> None:
    bob.collect_frames()
    bob.driver.get("about:blank")  # robert closes the tab
    alice.wait_log("robert left.")
    for p in (alice, carol):
        p.wait_members(["alice", "carol"])
    alice.screenshot("demo-after-leave")
    for p in (alice, carol):
        p.collect_frames()


def test_two_people_talk_rename_leave_and_a_reload_rejoins(
    drivers: list[webdriver.Chrome],
) -> None:
    with ThreadedServer(create_app(presence_interval=0.5)) as server:
        doc = fetch_document(server.url)
        assert_valid_document(doc)

        def page() -> ChatPage:
            drivers.append(chromium())
            return ChatPage(drivers[-1], server.url)

        alice, bob, carol = page(), page(), page()
        try:
            talk_and_rename(alice, bob)
            third_joins_and_reloads(alice, bob, carol)
            second_leaves(alice, bob, carol)
        except BaseException:
            for name, p in (("alice", alice), ("bob", bob), ("carol", carol)):
                p.screenshot(f"failure-{name}")
            raise

    seen = assert_frames_follow(doc, [alice, bob, carol])
    assert {"receive.say", "receive.rename", "receive.typing"} <= seen
    assert {
        "send.welcome", "send.said", "send.joined", "send.left", "send.renamed",
        "send.typing", "send.presence", "send.error",
    } <= seen  # fmt: skip


def test_pages_reconnect_with_backoff_after_a_server_restart(
    drivers: list[webdriver.Chrome],
) -> None:
    with ThreadedServer(create_app()) as server:
        port = server.port
        drivers.append(chromium())
        dora = ChatPage(drivers[-1], server.url)
        dora.join("dora", room="night")
    # uvicorn closed the socket (1012): the page says it is reconnecting...
    dora.wait(lambda: "reconnecting" in dora.text("status"), "the reconnecting status")
    with ThreadedServer(create_app(), port=port):
        # ...and comes back by itself, with its name and room, to a fresh server.
        dora.wait(lambda: dora.text("status") == "connected", "the page to reconnect")
        dora.wait_members(["dora"])
        assert dora.text("me") == "dora" and dora.text("room-title") == "#night"
        dora.screenshot("demo-reconnected")
