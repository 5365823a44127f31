"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by
Selenium against the demo served by a real uvicorn in a thread.

Selenium is synchronous, so the server gets its own thread and event loop
instead of sharing the test's. Every wait is bounded (``WAIT`` seconds).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", Path(__file__).parents[2] / "artifacts"))
WAIT = 15.0

T = TypeVar("T")

# Installed before any page script runs (CDP): records every frame the page
# sends and receives, so the test can check them against the AsyncAPI document.
FRAME_HOOK = """
window.__frames = {sent: [], received: []};
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => window.__frames.received.push(e.data));
  }
  send(data) { window.__frames.sent.push(String(data)); return super.send(data); }
};
"""


class ThreadedServer:
    """uvicorn serving ``app`` on ``port`` (0: a free one) in a daemon thread."""

    def __init__(self, app: Any, port: int = 0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def chromium() -> webdriver.Chrome:
    """A headless Chromium; the driver and browser paths are given, so
    Selenium Manager never downloads anything."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1000,720",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FRAME_HOOK})
    return driver


class ChatPage:
    """One browser page of the demo, seen the way a person sees it."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver, self.base_url = driver, base_url
        self.frames: dict[str, list[Any]] = {"sent": [], "received": []}

    def wait(self, condition: Callable[[], T], what: str) -> T:
        try:
            return WebDriverWait(self.driver, WAIT).until(lambda _: condition())  # type: ignore[no-any-return]
        except Exception as exc:
            raise AssertionError(f"timed out waiting for {what}; log: {self.log()}") from exc

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element(By.ID, element_id).text)

    def join(self, name: str, room: str = "lobby") -> None:
        self.driver.get(self.base_url + "/")
        self.driver.find_element(By.ID, "join-name").send_keys(name)
        room_input = self.driver.find_element(By.ID, "join-room")
        room_input.clear()
        room_input.send_keys(room)
        self.driver.find_element(By.CSS_SELECTOR, "#join button").click()
        self.wait(lambda: self.text("me") == name, f"{name} to be told their name")

    def members(self) -> list[str]:
        items = self.driver.find_elements(By.CSS_SELECTOR, "#members li")
        return [str(li.get_attribute("data-name")) for li in items]

    def wait_members(self, names: list[str]) -> None:
        self.wait(lambda: self.members() == names, f"members {names} (have {self.members()})")

    def log(self) -> list[str]:
        return [str(li.text) for li in self.driver.find_elements(By.CSS_SELECTOR, "#log li")]

    def wait_log(self, needle: str) -> None:
        self.wait(lambda: any(needle in line for line in self.log()), f"{needle!r} in the log")

    def type_into(self, element_id: str, text: str) -> None:
        self.driver.find_element(By.ID, element_id).send_keys(text)

    def submit(self, form_id: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f"#{form_id} button").click()

    def say(self, text: str) -> None:
        self.type_into("text", text)
        self.submit("say")

    def rename(self, name: str) -> None:
        self.type_into("rename-name", name)
        self.submit("rename")

    def collect_frames(self) -> None:
        """Keep the page's captured frames (a reload starts a new capture)."""
        got = self.driver.execute_script("return window.__frames")
        for key in ("sent", "received"):
            self.frames[key].extend(json.loads(raw) for raw in got[key])

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
