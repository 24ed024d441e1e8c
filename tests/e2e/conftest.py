"""Browser tests: the store desks driven in Debian's chromium through Playwright, in Russian, at
1366×768, against pytest-django's live server and the demo data.

They are marked ``e2e``. Locally they are skipped when chromium is not installed; CI installs it
(``.ci/run``) and never skips them. Screenshots go to ``artifacts/e2e/`` (git-ignored; CI keeps
the folder as its artefact).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("OMNI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
VIEWPORT = {"width": 1366, "height": 768}


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def pytest_collection_modifyitems(config, items):
    if chromium_path():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the browser tests: install Debian's chromium (.ci/run does)")
    skip = pytest.mark.skip(reason="needs Debian's chromium (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM, used by the test
    # around the browser calls, would refuse to run beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser tab in Russian at 1366×768; ``page.base_url`` is the live server's address."""
    context = chromium.new_context(
        viewport=VIEWPORT, locale="ru-RU", extra_http_headers={"Accept-Language": "ru"}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def login():
    def log_in(page, username: str, password: str) -> None:
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")

    return log_in


@pytest.fixture
def shot():
    """``shot(page, "till-sold")``: a full-page screenshot kept as a CI artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def desk_world(transactional_db, live_server):
    """The demo data (``seed_demo``): stores with stock, staff logins, customers with points, and
    orders in every state. The cashier and the manager work at MSK-TVER; Ivan Petrov's phone ends
    in 100-00-02."""
    from django.db import transaction

    from omni.reports.demo import customers, inventory, sales, staff

    with transaction.atomic():
        inventory.seed()
        logins = staff.seed()
        customers.seed()
        sales.seed()
    return {username: password for username, password, _role, _stores in logins}
