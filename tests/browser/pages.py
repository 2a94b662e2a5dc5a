"""A real headless Chromium driven by Selenium, and a page object that works the list's web pages as a member
would: log in through the mailed link, open a page, fill a labelled field, press a button, follow a link.

Selenium is synchronous and the daemon under test serves from the test's own
event loop, so every browser step runs in a worker thread (asyncio.to_thread)
while the loop goes on answering the browser. Each step ends with an explicit
wait for what it caused (the next page loaded), never a sleep, so the tests
hold on a loaded machine. The driver is the system's /usr/bin/chromedriver,
named explicitly, so Selenium never tries to download one.

A later test reads like this (the held queue of the moderators):

    await browser.login("mod@example.org")
    await browser.open(f"/lists/{TEAM}/held")
    await browser.press("Approve")
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = "/usr/bin/chromium"  # Debian package chromium
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian package chromium-driver, the same version
WAIT = 30.0  # seconds a step may take on a loaded 2-core machine before the test fails
WINDOW = (1024, 768)  # a laptop screen; the screenshots have this size
OLD_PAGE = "listservTestOldPage"  # set on a document before a click that leaves it; a new document lacks it
NEXT_PAGE_LOADED = f"return document.{OLD_PAGE} !== true && document.readyState === 'complete'"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # tests run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a small /dev/shm (containers) makes tabs crash; use /tmp instead
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",  # no update or safe-browsing requests to the internet
    "--hide-scrollbars",
)


def unavailable() -> str:
    """Why a headless Chromium cannot run here, or '' when it can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        return f"{' and '.join(missing)} missing (Debian packages chromium, chromium-driver; .ci/run installs them)"
    return ""


def chromium(profile: Path, width: int = WINDOW[0], height: int = WINDOW[1]) -> WebDriver:
    """A headless Chromium with its profile in the directory profile, driven by the system's chromedriver.

    With the driver's path given, Selenium skips its manager, the part that
    would look for (and download) a driver or a browser.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    return driver


class Browser:
    """A member in front of a real browser: each method is one thing a person does on the pages.

    site is the running daemon (tests.web.conftest.Site: its base URL and the
    sink that receives the login mail); screenshots are written to artifacts.
    """

    def __init__(self, driver: WebDriver, site, artifacts: Path) -> None:
        self.driver = driver
        self.site = site
        self.artifacts = artifacts

    async def open(self, path: str) -> None:
        """Go to path (under the site) or to a whole URL, and wait until the page has loaded."""
        url = path if "://" in path else self.site.base + path
        await asyncio.to_thread(self.driver.get, url)

    async def press(self, text: str, within: str = "body") -> None:
        """Press the button labelled text (the first one inside the CSS selector within) and wait for the page
        the form leads to."""
        await asyncio.to_thread(self._submit, text, within)

    async def follow(self, text: str) -> None:
        """Click the link whose text is text and wait for the page it leads to."""
        await asyncio.to_thread(self._click_link, text)

    async def fill(self, label: str, value: str) -> None:
        """Type value into the field whose <label> says label (found as a person finds it, by its label)."""
        await asyncio.to_thread(self._fill, label, value)

    async def choose(self, label: str) -> None:
        """Tick the radio button or checkbox whose <label> (wrapped around it) says label; nothing is sent yet."""
        await asyncio.to_thread(self._choose, label)

    async def chosen(self, name: str) -> str:
        """The label text of the radio button of group name that is ticked now, as the browser holds it."""
        return await asyncio.to_thread(self._chosen, name)

    async def login(self, address: str) -> None:
        """The whole login: ask /login for a link, take it from the mail the sink received, open it, press
        its button, and arrive at the member's lists."""
        before = len(self.site.login_links(address))
        await self.open("/login")
        await self.fill("Your email address", address)
        await self.press("Mail me a link")
        await self.site.sink.wait_for(lambda: len(self.site.login_links(address)) > before)
        await self.open(self.site.login_links(address)[-1])
        await self.press("Log in")
        assert await self.heading() == "Your lists", await self.text()

    async def logout(self) -> None:
        await self.press("Log out")

    async def heading(self) -> str:
        """The page's <h1>."""
        return await asyncio.to_thread(lambda: self.driver.find_element(By.TAG_NAME, "h1").text)

    async def text(self, css: str = "main") -> str:
        """The visible text of the first element matching css (the page's main part by default)."""
        return await asyncio.to_thread(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    async def texts(self, css: str) -> list[str]:
        """The visible text of every element matching css, in page order."""
        return await asyncio.to_thread(lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)])

    async def source(self) -> str:
        """The page's HTML as the browser holds it."""
        return await asyncio.to_thread(lambda: self.driver.page_source)

    async def path(self) -> str:
        """The path (and query) of the page shown, without the site's base."""
        url = await asyncio.to_thread(lambda: self.driver.current_url)
        return url.removeprefix(self.site.base)

    async def cookies(self) -> dict[str, dict]:
        """The site's cookies by name, with the flags the browser keeps (httpOnly, sameSite, secure)."""
        return {c["name"]: c for c in await asyncio.to_thread(self.driver.get_cookies)}

    async def resize(self, width: int, height: int) -> None:
        """Make the page area width x height CSS pixels (a phone's screen, say)."""
        await asyncio.to_thread(self._resize, width, height)

    async def scrolls_sideways(self) -> bool:
        """Whether the page is wider than the window, so a reader would have to scroll sideways."""
        script = "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
        return await asyncio.to_thread(self.driver.execute_script, script)

    async def screenshot(self, name: str) -> Path:
        """A PNG of the window as it is now, as artifacts/NAME.png."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        if not await asyncio.to_thread(self.driver.save_screenshot, str(path)):
            raise AssertionError(f"the browser wrote no screenshot {path}")
        return path

    def _resize(self, width: int, height: int) -> None:
        """Set the window so that its page area (innerWidth x innerHeight) is width x height: the window's own
        frame, whatever it is in this mode of Chromium, is measured and added."""
        inner = self.driver.execute_script("return [window.innerWidth, window.innerHeight]")
        outer = self.driver.get_window_size()
        self.driver.set_window_size(width + outer["width"] - inner[0], height + outer["height"] - inner[1])
        now = self.driver.execute_script("return [window.innerWidth, window.innerHeight]")
        if now != [width, height]:
            raise AssertionError(f"the window's page area is {now}, not {[width, height]}")

    def _submit(self, text: str, within: str) -> None:
        scope = self.driver.find_element(By.CSS_SELECTOR, within)
        try:
            button = scope.find_element(By.XPATH, f".//button[normalize-space()={_xpath_text(text)}]")
        except NoSuchElementException:
            raise AssertionError(f"no button {text!r} on {self.driver.current_url}") from None
        self._then_wait_for_next_page(button)

    def _click_link(self, text: str) -> None:
        try:
            link = self.driver.find_element(By.LINK_TEXT, text)
        except NoSuchElementException:
            raise AssertionError(f"no link {text!r} on {self.driver.current_url}") from None
        self._then_wait_for_next_page(link)

    def _then_wait_for_next_page(self, element: WebElement) -> None:
        """Click element, then wait until another document than the one it was on has loaded.

        The old document is marked before the click (a script run by the
        driver, which the pages' CSP does not stop). Waiting for the old <html>
        element to go stale is not enough: while a page is being replaced,
        chromedriver may answer with other errors than "stale", so every driver
        error during the wait just means "not yet".
        """
        url, what = self.driver.current_url, element.text
        self.driver.execute_script(f"document.{OLD_PAGE} = true")
        element.click()
        wait = WebDriverWait(self.driver, WAIT, ignored_exceptions=(WebDriverException,))
        try:
            wait.until(lambda driver: driver.execute_script(NEXT_PAGE_LOADED))
        except TimeoutException:
            raise AssertionError(f"{what!r} on {url} led to no new page within {WAIT:.0f} s") from None

    def _choose(self, label: str) -> None:
        try:
            box = self.driver.find_element(By.XPATH, f"//label[normalize-space()={_xpath_text(label)}]//input")
        except NoSuchElementException:
            raise AssertionError(f"no choice labelled {label!r} on {self.driver.current_url}") from None
        box.click()
        if not box.is_selected():
            raise AssertionError(f"{label!r} on {self.driver.current_url} did not take the click")

    def _chosen(self, name: str) -> str:
        try:
            box = self.driver.find_element(By.CSS_SELECTOR, f"input[type=radio][name={name!r}]:checked")
        except NoSuchElementException:
            raise AssertionError(f"no {name!r} choice is ticked on {self.driver.current_url}") from None
        return box.find_element(By.XPATH, "ancestor::label").text

    def _fill(self, label: str, value: str) -> None:
        try:
            target = self.driver.find_element(By.XPATH, f"//label[normalize-space()={_xpath_text(label)}]")
            field = self.driver.find_element(By.ID, target.get_attribute("for"))
        except NoSuchElementException:
            raise AssertionError(f"no field labelled {label!r} on {self.driver.current_url}") from None
        field.clear()
        field.send_keys(value)


def _xpath_text(text: str) -> str:
    """text as an XPath string literal (XPath 1.0 has no escapes: a text with both quotes is joined by concat).

    >>> _xpath_text("Log in")
    '"Log in"'
    >>> print(_xpath_text('say "hi"'))
    'say "hi"'
    >>> print(_xpath_text('it\\'s "x"'))
    concat("it's ", '"', "x", '"', "")
    """
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    parts = [f'"{part}"' for part in text.split('"')]
    return "concat(" + ", '\"', ".join(parts) + ")"
