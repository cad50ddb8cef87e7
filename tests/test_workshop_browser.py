"""The workshop app's game pages in a real headless browser (Debian's Chromium driven by
Selenium) against the Solara server on localhost (the live page's: test_workshop_live_browser.py):
a team's link opens only its own form (another team's page, or the facilitator's, is
refused); two teams play two rounds through the pages (the facilitator's link runs them),
with a server restart between rounds and a refused decision.

Skipped (with the reason) where Chromium, chromedriver, selenium or solara is missing; CI
installs them (.ci/run)."""

from __future__ import annotations

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
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from sim.scenario import load_scenario  # noqa: E402
from sim.workshop.game import Game  # noqa: E402


class GameServer(Server):
    """The app with a game's pages (its folder in SIYU_GAME_DIR)."""

    def __init__(self, game_dir: Path, log: Path):
        super().__init__(log, {"SIYU_APP_CONSUMERS": "200", "SIYU_GAME_DIR": str(game_dir)}, 60)
        self.game_dir = game_dir


@pytest.fixture(scope="module")
def game_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workshop") / "game"
    sc = load_scenario("beauty_guides", {"run.consumers": 300})
    Game.new(folder, sc, ["A", "B"], seed=5)
    return folder


@pytest.fixture(scope="module")
def server(game_dir: Path) -> Iterator[GameServer]:
    srv = GameServer(game_dir, game_dir.parent / "server.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver, profile = chrome("1500,1100")
    yield driver
    quit_chrome(driver, profile)


def text(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def click(driver: webdriver.Chrome, css: str) -> None:
    """Scroll the element into view and click it as a user would; while the page is still
    re-rendering (the element moves or is covered for a moment), find it and try again."""

    def scrolled_click() -> bool:
        el = driver.find_element(By.CSS_SELECTOR, css)
        driver.execute_script(SCROLL_TO_CENTRE, el)
        el.click()
        return True

    wait_for(scrolled_click, f"a click on {css}")


def set_input(driver: webdriver.Chrome, css: str, value: float) -> None:
    el = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f"{css} input"), css)
    driver.execute_script(SCROLL_TO_CENTRE, el)
    el.click()
    el.send_keys(Keys.END, *[Keys.BACKSPACE] * (len(el.get_attribute("value") or "") + 2))
    el.send_keys(str(value), Keys.ENTER)
    wait_for(lambda: el.get_attribute("value") == str(value), f"{css} to read {value}")


def link(server: GameServer, who: str = "facilitator") -> str:
    """The link the facilitator hands out (with its secret), as `siyu game links` prints it."""
    return Game.load(server.game_dir).links(server.url)[who]


def submit_team(
    driver: webdriver.Chrome, server: GameServer, team: str, shares: dict, total: str = "1.00"
) -> str:
    driver.get(link(server, team))
    wait_for(lambda: f"Team {team}" in text(driver), f"team {team}'s page")
    for name, value in shares.items():
        set_input(driver, f".siyu-share-{name}", value)
    wait_for(lambda: f"Shares sum to {total}" in text(driver), f"shares summing to {total}")
    click(driver, ".siyu-submit")
    return wait_for(
        lambda: (driver.find_elements(By.CSS_SELECTOR, ".siyu-refused")
                 or driver.find_elements(By.CSS_SELECTOR, ".siyu-ok"))[0].text,
        f"team {team}'s submission answer",
    )  # fmt: skip


def run_round(driver: webdriver.Chrome, server: GameServer, k: int) -> None:
    driver.get(link(server))
    wait_for(lambda: "waiting for – (ready)" in text(driver), "all teams submitted")
    click(driver, ".siyu-run-round")
    wait_for(lambda: f"Round {k} played" in text(driver), f"round {k} to run")
    assert "| rank |" not in text(driver) and "rank" in text(driver)


def invalid(driver: webdriver.Chrome) -> str:
    return wait_for(
        lambda: driver.find_element(By.CSS_SELECTOR, ".siyu-invalid").text, "the refusal"
    )


def test_a_team_link_opens_only_its_own_form(server: GameServer, browser: webdriver.Chrome) -> None:
    links = Game.load(server.game_dir).links(server.url)
    browser.get(links["A"])
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".siyu-submit"), "team A's form")
    body = text(browser)
    assert "Team A" in body and "Team B" not in body
    assert not browser.find_elements(By.CSS_SELECTOR, ".siyu-run-round")
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert not [h for h in hrefs if "/game" in h], hrefs  # no way to the others' pages
    # team A's secret does not open team B's form, nor the facilitator's page
    key_a = links["A"].split("key=")[1]
    for url in (f"{server.url}/game/team/B?key={key_a}", f"{server.url}/game?key={key_a}"):
        browser.get(url)
        assert "not valid" in invalid(browser)
        body = text(browser)
        assert "Submit decision" not in body and "Run round" not in body and "Team B" not in body
    for url in (  # no secret, or no such team
        f"{server.url}/game/team/A",
        f"{server.url}/game",
        f"{server.url}/game/team/Z?key={key_a}",
    ):
        browser.get(url)
        assert "not valid" in invalid(browser)
    browser.get(links["facilitator"])
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".siyu-run-round"), "RUN ROUND")
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert not [h for h in hrefs if "/game/team" in h], hrefs


def test_two_teams_play_two_rounds_through_the_pages(
    server: GameServer, browser: webdriver.Chrome
) -> None:
    # a decision that breaks the rules is refused with the reason; the round waits
    answer = submit_team(browser, server, "A", {"ads": 0.5}, "0.50")
    assert "Refused" in answer and "shares must sum to 1" in answer
    answer = submit_team(browser, server, "A", {"ads": 0.5, "guides": 0.3, "content": 0.2})
    assert "Submitted for round 1" in answer
    assert "Submitted for round 1" in submit_team(browser, server, "B", {})
    run_round(browser, server, 1)
    browser.save_screenshot(str(server.game_dir.parent / "facilitator.png"))

    server.stop()  # the game survives a restart between rounds
    server.start()
    browser.get(link(server))
    wait_for(lambda: "round 1 of 8" in text(browser), "the restored game")
    assert "Submitted for round 2" in submit_team(browser, server, "A", {})
    assert "Submitted for round 2" in submit_team(
        browser, server, "B", {"ads": 0.6, "discounts": 0.4}
    )
    run_round(browser, server, 2)
    browser.get(link(server, "A"))
    report = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".siyu-report").text, "report")
    assert "round 2 of 8" in report and "gross profit" in report
    browser.save_screenshot(str(server.game_dir.parent / "team.png"))
    game = Game.load(server.game_dir)
    assert game.round == 2 and game.decision(1, "A").split.guides == pytest.approx(0.3)


def test_the_form_shows_what_the_budget_buys_and_the_pnl_matches_the_split(
    server: GameServer, browser: webdriver.Chrome
) -> None:
    game = Game.load(server.game_dir)
    k = game.round + 1
    shares = {"ads": 0.5, "discounts": 0.3, "rewards": 0.2}
    browser.get(link(server, "B"))
    wait_for(lambda: "Team B" in text(browser), "team B's page")
    for name, value in shares.items():
        set_input(browser, f".siyu-share-{name}", value)
    points = 100 * game.rules.budget_per_round * 0.3 / game.rules.discount_cost_per_point / 100
    buys = wait_for(
        lambda: (
            f"{points:.1f}% off" in text(browser)
            and browser.find_element(By.CSS_SELECTOR, ".siyu-buys").text
        ),
        "what the budget buys, before submitting",
    )
    assert "KOC" in buys and "paid on each private order" in buys
    click(browser, ".siyu-submit")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".siyu-ok"), "team B's submission")
    assert f"Submitted for round {k}" in submit_team(browser, server, "A", {})
    run_round(browser, server, k)
    browser.get(link(server, "B"))
    report = wait_for(
        lambda: (
            "allocated and booked" in text(browser)
            and browser.find_element(By.CSS_SELECTOR, ".siyu-report").text
        ),
        "the report's money trail",
    )
    game = Game.load(server.game_dir)
    t, d = game.results(k)["teams"]["B"], game.decision(k, "B")
    for use in ("discounts", "rewards", "ads"):
        assert f"{use} {d.budget * getattr(d.split, use):,.0f}" in report.replace("|", " ").replace(
            "  ", " "
        )
    assert f"discounts on orders {t['discounts']:,.0f}" in report
    rewards = t["cash"]["cost_referral_rewards"] + t["cash"]["cost_welcome_gifts"]
    assert rewards == pytest.approx(t["costs"]["rewards and gifts"])
