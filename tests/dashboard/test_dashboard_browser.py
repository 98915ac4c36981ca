"""The dashboard in a real browser: `zoo2tf dashboard` on a loopback port, Debian's
chromium driven headless by playwright, screenshots kept under test-output/<test>/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser import CHROMIUM_ARGS, RENDER_TIMEOUT_MS, VIEWPORT, serve_dashboard, settle
from dashboard_data import EXPECTED_STATUS, TOP5

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium() -> str:
    path = os.environ.get("ZOO2TF_TEST_CHROMIUM")
    if path and Path(path).is_file():
        return path
    reason = "ZOO2TF_TEST_CHROMIUM is not set (scripts/test-services.sh installs chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def test_overview_and_model_page_in_chromium(chromium, seeded_url, output_dir):
    from playwright.sync_api import sync_playwright

    with serve_dashboard(seeded_url) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(base)
            page.get_by_text("Caffe Model Zoo → TensorFlow").wait_for(timeout=RENDER_TIMEOUT_MS)
            page.get_by_text("fcn8s_pascal").first.wait_for(timeout=RENDER_TIMEOUT_MS)
            settle(page)
            values = dict(zip(page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
                              page.locator('[data-testid="stMetricValue"]').all_inner_texts()))
            assert values == {"Models": "10", "Converted": str(EXPECTED_STATUS["converted"]),
                              "Validated": "3", "Failed": str(EXPECTED_STATUS["failed"]),
                              "Pending": str(EXPECTED_STATUS["pending"])}
            assert "vgg16" in page.locator('[data-testid="stTable"]').first.inner_text()
            page.screenshot(path=output_dir / "overview.png")

            page.goto(f"{base}/?model=bvlc_alexnet")
            page.get_by_role("heading", name="BVLC AlexNet").wait_for(timeout=RENDER_TIMEOUT_MS)
            for text in (f"{TOP5[0][2]} ({TOP5[0][1]:.3f})", "60,965,224", "conversion.json"):
                page.get_by_text(text).first.wait_for(timeout=RENDER_TIMEOUT_MS)
            settle(page)
            assert page.url.startswith(f"{base}/model?model=bvlc_alexnet")
            page.screenshot(path=output_dir / "model.png")

            page.goto(f"{base}/models")
            page.get_by_text("10 models match").wait_for(timeout=RENDER_TIMEOUT_MS)
            settle(page)
            page.screenshot(path=output_dir / "models.png")
        finally:
            browser.close()
    assert all((output_dir / name).stat().st_size > 10_000
               for name in ("overview.png", "model.png", "models.png"))
