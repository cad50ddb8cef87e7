"""The live page in a real headless browser (Debian's Chromium driven by Selenium) against the
Solara server on 127.0.0.1 (started and stopped by the tests): the KPI panel is shown from
day 0 and updates with every step; a lever moves only its own value; a reload keeps the
market (its session id is in the address); a consumer's state shows on a click; in
facilitator mode every screen shows the one market the facilitator's link steers; the
server prints no cookie warning per page load.

Skipped (with the reason) where Chromium, chromedriver, selenium or solara is missing; CI
installs them (.ci/run)."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import (
    SCROLL_TO_CENTRE,
    Server,
    chrome,
    quit_chrome,
    require_browser,
    wait_for,
)

require_browser()

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

N = 200


class RoomApp(Server):
    """`siyu app --room` on a free 127.0.0.1 port; `facilitator` is the link it prints."""

    facilitator = ""

    def start(self) -> None:
        cmd = ["app", "beauty_guides", "--room", "--consumers", str(N), "--port", str(self.port)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.launch([sys.executable, "-m", "sim.cli", *cmd], env)

    def ready(self) -> bool:
        for line in self.log.read_text().splitlines():
            if "facilitator (steers): " in line:
                self.facilitator = line.split("facilitator (steers): ")[1].strip()
        return bool(self.facilitator)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("live") / "server.log", {"SIYU_APP_CONSUMERS": str(N)})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver, profile = chrome("1280,900", {"performance": "ALL"})  # websocket frames
    # a projector's 1280x720 as the page's viewport (the window's frame is not the page's)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    quit_chrome(driver, profile)


def text(driver: webdriver.Chrome, css: str = "body") -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def day(driver: webdriver.Chrome) -> str:
    return text(driver, ".siyu-day")


def click(driver: webdriver.Chrome, css: str) -> None:
    el = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, css), css)
    driver.execute_script(SCROLL_TO_CENTRE, el)
    el.click()


def levers(driver: webdriver.Chrome) -> dict[str, str]:
    """Each lever's label with its value, by lever."""
    out = {}
    for el in driver.find_elements(By.CSS_SELECTOR, ".siyu-lever"):
        key = next(c for c in el.get_attribute("class").split() if c.startswith("siyu-lever-"))
        out[key.removeprefix("siyu-lever-")] = el.text
    return out


def open_live(driver: webdriver.Chrome, url: str) -> None:
    driver.get(url)
    wait_for(lambda: "Day " in day(driver), "the live page")


def test_kpi_panel_shows_and_updates_and_the_page_fits(
    server: Server, browser: webdriver.Chrome
) -> None:
    open_live(browser, server.url + "/")
    wait_for(lambda: "?s=" in browser.current_url, "the session id in the address")
    kpis = wait_for(lambda: text(browser, ".siyu-kpis"), "the KPI panel at day 0")
    assert "contribution" in kpis and "private share" in kpis and "members" in kpis
    assert len(browser.find_elements(By.CSS_SELECTOR, "circle.siyu-node")) == N
    seen = []
    for k in (1, 2):
        click(browser, ".siyu-step")
        wait_for(lambda k=k: f"Day {7 * k}" in day(browser), f"day {7 * k}")
        seen.append(
            wait_for(
                lambda: (t := text(browser, ".siyu-kpi-contribution")) not in seen and t,
                "the KPI panel to update",
            )
        )
    assert all(any(ch.isdigit() for ch in s) for s in seen), seen
    # network, KPI panel and plots fit a 1280x720 projector screen: nothing to scroll to
    for _ in range(3):  # the plots start with the first complete window
        click(browser, ".siyu-step")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".siyu-panel"), "the plots")
    inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    assert inner == [1280, 720], inner
    for css in (".siyu-network", ".siyu-kpis", ".siyu-plots", ".siyu-step"):
        box = browser.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right,"
            " r.bottom]",
            browser.find_element(By.CSS_SELECTOR, css),
        )
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= inner[0] and box[3] <= inner[1], (css, box)


def websocket_bytes(driver: webdriver.Chrome) -> int:
    """Bytes the page received over its websocket since the last call."""
    total = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.webSocketFrameReceived":
            total += len(message["params"]["response"]["payloadData"])
    return total


def test_a_step_sends_only_what_changed(server: Server, browser: webdriver.Chrome) -> None:
    open_live(browser, server.url + "/")
    time.sleep(1.0)
    assert websocket_bytes(browser) > 10_000  # the page itself: positions, edges, widgets
    sent = []
    for k in (1, 2, 3):
        click(browser, ".siyu-step")
        wait_for(lambda k=k: f"Day {7 * k}" in day(browser), f"day {7 * k}")
        time.sleep(0.5)
        sent.append(websocket_bytes(browser))
    # states and rings (a character per consumer), the KPI panel, the day: no positions,
    # no edges, no new widgets (the page sent 167 kB a tick when it redrew everything)
    assert max(sent) < 12_000, sent


def test_a_lever_moves_only_its_own_value(server: Server, browser: webdriver.Chrome) -> None:
    open_live(browser, server.url + "/")
    before = wait_for(lambda: levers(browser), "the levers")
    assert len(before) == 7
    for key in ("selling_share", "broadcasts_per_week", "private_discount"):
        track = browser.find_element(By.CSS_SELECTOR, f".siyu-lever-{key} .v-slider")
        browser.execute_script(SCROLL_TO_CENTRE, track)
        ActionChains(browser).move_to_element_with_offset(
            track, track.size["width"] // 2 - 3, 0
        ).click().perform()
        after = wait_for(
            lambda key=key, was=before: (now := levers(browser))[key] != was[key] and now,
            f"{key} to move",
        )
        moved = [k for k in after if after[k] != before[k]]
        assert moved == [key], (moved, before, after)
        before = after


def test_a_reload_keeps_the_market(server: Server, browser: webdriver.Chrome) -> None:
    open_live(browser, server.url + "/")
    url = wait_for(lambda: "?s=" in browser.current_url and browser.current_url, "session id")
    for k in (1, 2):
        click(browser, ".siyu-step")
        wait_for(lambda k=k: f"Day {7 * k}" in day(browser), f"day {7 * k}")
    kpis = text(browser, ".siyu-kpis")
    browser.refresh()
    wait_for(lambda: "Day 14" in day(browser), "day 14 after the reload")
    assert browser.current_url == url and text(browser, ".siyu-kpis") == kpis
    # clicking a consumer shows its state
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
        browser.find_element(By.CSS_SELECTOR, "circle.siyu-node-0"),
    )
    picked = wait_for(lambda: text(browser, ".siyu-picked"), "the picked consumer")
    assert "consumer 0" in picked and "brand:" in picked
    # another address is another market
    open_live(browser, server.url + "/")
    wait_for(lambda: "?s=" in browser.current_url, "a new session id")
    assert browser.current_url != url and "Day 0" in day(browser)


def test_no_cookie_warning_per_page_load(server: Server) -> None:
    for _ in range(3):
        with urllib.request.urlopen(server.url + "/", timeout=10) as r:
            assert r.status == 200
    time.sleep(0.5)
    assert "samesite" not in server.log.read_text().lower()


def test_facilitator_mode_shows_one_market_on_every_screen(
    tmp_path: Path, browser: webdriver.Chrome
) -> None:
    srv = RoomApp(tmp_path / "room.log", {})
    srv.start()
    assert srv.facilitator.startswith(srv.url + "/?key=")
    try:
        open_live(browser, srv.url + "/")  # a screen in the room: it watches, it cannot steer
        assert not browser.find_elements(By.CSS_SELECTOR, ".siyu-step")
        assert "facilitator steers" in day(browser)
        viewer = browser.current_window_handle
        browser.switch_to.new_window("tab")
        open_live(browser, srv.facilitator)
        click(browser, ".siyu-step")
        wait_for(lambda: "Day 7" in day(browser), "day 7 on the facilitator's screen")
        browser.switch_to.window(viewer)
        wait_for(lambda: "Day 7" in day(browser), "day 7 on the room's screen, unprompted")
        browser.switch_to.new_window("tab")
        open_live(browser, srv.url + "/?s=another")  # any address shows the room's market
        assert "Day 7" in day(browser)
        open_live(browser, srv.url + "/?key=wrong")  # a wrong key does not steer
        assert not browser.find_elements(By.CSS_SELECTOR, ".siyu-step")
    finally:
        srv.stop()
