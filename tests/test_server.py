"""The browser visualization: rendered without a browser, and served to headless Chromium."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipyvuetify as v
import pytest
import solara

import server

SCREENSHOTS = Path(__file__).parent / "output"


def render_page():
    box, rc = solara.render(solara.AppLayout(children=[server.Page()]), handle_error=False)
    return rc


def shown_time(rc) -> str:
    texts = [w.widget.children for w in rc.find(v.Html).widgets if hasattr(w, "widget")]
    return " ".join(str(t) for t in texts)


def test_page_renders_and_steps_without_a_browser():
    server.chosen.set("NG")
    rc = render_page()
    rc.find(v.Btn, children=["Step"]).assert_single()
    rc.find(v.Btn, children=["Reset"]).assert_single()
    for _ in range(2):
        rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(children=["Time: 2.0"]).assert_single()
    server.chosen.set("MASDA")
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(children=["Time: 1.0"]).assert_single()
    server.chosen.set("NG")


def test_every_slider_builds_a_model():
    for name in server.MODELS:
        assert server.first_model(name).running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "glianet.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    first_line = process.stdout.readline()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        os.killpg(process.pid, signal.SIGTERM)
        pytest.fail("the server did not come up within 90 s")
    yield url, first_line
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_in_a_real_browser(served):
    from playwright.sync_api import sync_playwright

    url, first_line = served
    assert "127.0.0.1" in first_line and "this machine only" in first_line
    SCREENSHOTS.mkdir(exist_ok=True)
    console_errors, failed = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else 0)
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else 0
        )
        page.on("request", lambda r: failed.append(f"left the machine: {r.url}")
                if not r.url.startswith((url, "data:", "blob:")) else 0)  # fmt: skip
        page.goto(url)
        step = page.get_by_role("button", name="Step")
        step.wait_for(timeout=90_000)
        page.wait_for_function("document.querySelectorAll('main img').length >= 2")

        def time_shown() -> float:
            return float(re.search(r"Time: ([\d.]+)", page.inner_text("body")).group(1))

        def drawings() -> list[str]:
            return [img.get_attribute("src") for img in page.locator("main img").all()]

        before = drawings()
        assert len(before) >= 2, "network drawing and synapse plot"
        sliders = {name: control["value"] for name, control in server.MODELS["NG"][1].items()
                   if control["type"].startswith("Slider")}  # fmt: skip
        # SolaraViz's own Play and Render interval sliders come first
        shown = page.locator(".v-slider__thumb-label:visible").all_inner_texts()[-len(sliders):]
        assert shown == [f"{value:g}" for value in sliders.values()], "each slider's value shows"
        for expected in (1.0, 2.0, 3.0):
            step.click()
            page.wait_for_function(
                f"document.body.innerText.includes('Time: {expected}')", timeout=10_000
            )
        assert time_shown() == 3.0
        page.wait_for_timeout(500)
        after = drawings()
        assert after[0] != before[0], "the network drawing changed"
        assert after[1] != before[1], "the synapse plot changed"
        page.screenshot(path=SCREENSHOTS / "ng.png")

        page.get_by_role("button", name="MASDA", exact=True).click()
        page.get_by_text("glianet: MASDA").wait_for()
        page.wait_for_function("document.querySelectorAll('main img').length >= 2")
        masda_before = drawings()
        page.get_by_role("button", name="Step").click()
        page.wait_for_function("document.body.innerText.includes('Time: 1.0')")
        page.wait_for_timeout(500)
        assert drawings()[0] != masda_before[0], "the unit drawing changed"
        page.screenshot(path=SCREENSHOTS / "masda.png")

        page.get_by_role("button", name="NG", exact=True).click()
        page.get_by_text("glianet: NG").wait_for()
        page.get_by_role("button", name="Step").wait_for()
        browser.close()
    assert console_errors == []
    assert failed == []
