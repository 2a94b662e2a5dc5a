"""Fixtures for the browser tests: the web tests' running daemon and archive (tests/web/conftest.py), its
sink for outgoing mail, and a headless Chromium working the pages through tests.browser.pages.Browser.

Every test here is marked `browser` and `slow` (both run in CI); it is
skipped, with the reason, only where Chromium or its driver is not installed.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.browser.pages import Browser, chromium, unavailable
from tests.web.conftest import archive, site, submit, team, web_settings  # noqa: F401 (fixtures used here)

WHY_NOT = unavailable()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath) and item.fspath.basename.startswith("test_"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            if WHY_NOT:
                item.add_marker(pytest.mark.skip(reason=WHY_NOT))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the browser fixture knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def artifacts(tmp_path):
    """Where a test's screenshots go (kept with pytest's temporary directories for a look after a failure)."""
    return tmp_path / "artifacts"


@pytest.fixture
async def browser(request, site, tmp_path, artifacts):
    """A headless Chromium with a fresh profile in front of the running site; closed after the test. When the
    test failed, the page it ended on is kept as artifacts/failed.png and failed.html."""
    driver = await asyncio.to_thread(chromium, tmp_path / "profile")
    opened = Browser(driver, site, artifacts)
    try:
        yield opened
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            shot = await opened.screenshot("failed")
            shot.with_suffix(".html").write_text(await opened.source())
            print(f"the page the test ended on, {await opened.path()}: {shot} (and .html)")
    finally:
        await asyncio.to_thread(driver.quit)
