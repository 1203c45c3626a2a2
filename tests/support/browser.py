"""Headless Chromium (Debian's chromium, driven by Playwright) for the page tests:
its launch flags, waiting for the bot, taps, a staff member signed in on the
console, and axe-core's serious accessibility problems."""
import secrets

from tests.conftest import ROOT
from tests.support.handoff_clients import PASSWORD, add_staff

ARTIFACTS = ROOT / "test-artifacts"  # screenshots, for a person to look at
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 30_000  # a turn on a busy CI machine
# Without these, Chromium reaches out to Google's servers, which this machine can't.
QUIET = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def bot_messages(page):
    return page.locator("#messages .message.from-bot")


def send(page, text):
    before = bot_messages(page).count()
    page.fill("#message-input", text)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .message.from-bot').length > n", arg=before,
        timeout=30_000)


def serious_accessibility_problems(page):
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in violations if v["impact"] in ("serious", "critical")]


def tap(page, title):
    """Taps the quick reply with this title and waits for the bot's answer."""
    before = bot_messages(page).count()
    page.locator(".quick-replies .quick-reply", has_text=title).first.click()
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .message.from-bot').length > n", arg=before,
        timeout=30_000)


def open_console(browser, system, prefix, *flags):
    """A new staff account (`flags`: e.g. "--admin"), logged in on the console page in its
    own browser context."""
    name = f"{prefix}{secrets.token_hex(3)}"
    add_staff(system["env"], name, PASSWORD, *flags)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    console = context.new_page()
    console.goto(system["base"] + "/staff")
    console.fill("#username", name)
    console.fill("#password", PASSWORD)
    console.click("#login-submit")
    if "--admin" in flags or "supervisor" in flags:
        set_up_two_factor(console)
    return context, console


def set_up_two_factor(console) -> str:
    """On a console showing the two-factor step (supervisors and admins, at their
    first sign-in): set up as a person would, with the code pyotp makes from the key
    on the page. Returns the key."""
    import pyotp

    console.click("#two-factor-start")
    console.wait_for_selector("#two-factor-setup", state="visible")
    secret = console.inner_text("#two-factor-secret").replace(" ", "")
    console.fill("#two-factor-code", pyotp.TOTP(secret).now())
    console.click("#two-factor-confirm")
    console.click("#recovery-saved")
    console.wait_for_selector("#console", state="visible")
    return secret
