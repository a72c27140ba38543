"""The user portal in a real browser: Debian's chromium driven by Playwright (whose driver is
playwright-core; no browser is downloaded). TOTP codes come from pyotp.

Pages are opened as http://localhost:PORT, as WebAuthn requires.
"""

import base64
import email
import http.server
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import pyotp
import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("GATEHOUSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def base(server):
    return server.endpoint.replace("127.0.0.1", "localhost")


def admin_otp(server):
    return re.search(r"One-time password:\s+(\S+)", server.banner).group(1)


def sign_in(page, server, user, password):
    page.goto(base(server) + "/start")
    expect(page).to_have_url(re.compile(r"/start/signin"))
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#signin-submit")


def expect_signed_out(page, server):
    """The portal sends the browser to sign in. A change made by the command line (another
    process) reaches the server's session cache within a second (READ_CACHE_TTL)."""
    deadline = time.time() + 5
    while True:
        page.goto(base(server) + "/start/")
        if "/start/signin" in page.url or time.time() > deadline:
            break
        time.sleep(0.2)
    expect(page).to_have_url(re.compile(r"/start/signin"))


def first_sign_in(page, server, new_password="Portal-Passw0rd!"):
    """The administrator's first sign-in: the one-time password, then their own."""
    sign_in(page, server, "Administrator", admin_otp(server))
    expect(page.locator("h1")).to_have_text("Choose a new password")
    page.fill("#new_password", new_password)
    page.fill("#confirm_password", new_password)
    page.click("#change-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    return new_password


def test_password_sign_in_forced_change_sign_out_and_disable(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    # A wrong password: the same message an unknown user gets.
    sign_in(page, server, "Administrator", "Wrong-passw0rd!")
    expect(page.locator("#error")).to_have_text("Your user name or password is incorrect.")
    wrong_user = page.locator("#error").inner_text()
    sign_in(page, server, "nobody-at-all", "Wrong-passw0rd!")
    assert page.locator("#error").inner_text() == wrong_user

    # Forced change: a new password that breaks the policy is refused with the rules.
    sign_in(page, server, "Administrator", admin_otp(server))
    expect(page.locator("h1")).to_have_text("Choose a new password")
    page.fill("#new_password", "short")
    page.fill("#confirm_password", "short")
    page.click("#change-submit")
    expect(page.locator("#error")).to_contain_text("between 8 and 64 characters")
    page.fill("#new_password", "Portal-Passw0rd!")
    page.fill("#confirm_password", "Portal-Passw0rd!")
    page.click("#change-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    cookies = {c["name"]: c for c in ctx.cookies()}
    assert cookies["gh_session"]["httpOnly"] and cookies["gh_session"]["sameSite"] == "Lax"
    csp = page.request.get(base(server) + "/start/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp

    # Sign-out ends the session on the server: the old cookie no longer works.
    old = cookies["gh_session"]["value"]
    page.click("#signout-submit")
    expect(page.locator("#notice")).to_have_text("You are signed out.")
    replay = browser.new_context()
    replay.add_cookies([{"name": "gh_session", "value": old, "url": base(server)}])
    p2 = replay.new_page()
    p2.goto(base(server) + "/start/")
    expect(p2).to_have_url(re.compile(r"/start/signin"))
    replay.close()

    # A disabled user's open session is refused on the next request.
    sign_in(page, server, "Administrator", "Portal-Passw0rd!")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    server.cli("user", "disable", "Administrator")
    expect_signed_out(page, server)
    ctx.close()


def test_authenticator_app_registration_and_sign_in(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    password = first_sign_in(page, server)
    page.click("text=MFA devices")
    expect(page.locator("#no-devices")).to_be_visible()
    page.click("#add-totp-submit")
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator("#totp-qr").get_attribute("src").startswith("data:image/svg+xml;base64,")
    totp = pyotp.TOTP(secret)
    page.fill("#code", "000000" if totp.now() != "000000" else "111111")
    page.click("#register-submit")
    expect(page.locator("#error")).to_contain_text("incorrect")
    page.fill("#device_name", "my phone")
    page.fill("#code", totp.now())
    page.click("#register-submit")
    expect(page.locator("#notice")).to_have_text("Registered my phone.")
    expect(page.locator("#devices .name")).to_have_text(["my phone"])

    # Next sign-in, in a fresh browser: the code is asked for.
    page.click("text=Applications")
    page.click("#signout-submit")
    fresh = browser.new_context().new_page()
    sign_in(fresh, server, "Administrator", password)
    expect(fresh.locator("h1")).to_have_text("Additional verification required")
    fresh.fill("#code", "123456" if totp.now() != "123456" else "654321")
    fresh.click("#mfa-submit")
    expect(fresh.locator("#error")).to_contain_text("incorrect")
    # The registration used this step's code; the next step's is valid (one step of drift).
    fresh.fill("#code", totp.at(time.time() + 30))
    fresh.click("#mfa-submit")
    expect(fresh.locator("#user-name")).to_have_text("Administrator")

    # A phone five minutes fast: its code is recognised as out of sync, and its next code
    # resyncs it (CredentialType RESYNC_TOTP).
    fresh.click("#signout-submit")
    sign_in(fresh, server, "Administrator", password)
    fresh.fill("#code", totp.at(time.time() + 300))
    fresh.click("#mfa-submit")
    expect(fresh.locator("#error")).to_contain_text("out of sync")
    expect(fresh.locator("#resync")).to_be_visible()
    fresh.fill("#code", totp.at(time.time() + 330))
    fresh.click("#mfa-submit")
    expect(fresh.locator("#user-name")).to_have_text("Administrator")
    auth = server.cli("-o", "json", "audit", "tail", "--event-name", "UserAuthentication")
    assert "PASSWORD,RESYNC_TOTP" in auth, auth
    ctx.close()


def test_forced_registration_and_device_management_by_the_administrator(server, browser):
    """"Require them to register an MFA device at sign in", set from the CLI."""
    server.cli("mfa", "set", "--no-device", "require-registration")
    assert "require-registration" in server.cli("mfa", "show")
    page = browser.new_context().new_page()
    sign_in(page, server, "Administrator", admin_otp(server))
    page.fill("#new_password", "Portal-Passw0rd!")
    page.fill("#confirm_password", "Portal-Passw0rd!")
    page.click("#change-submit")
    expect(page.locator("h1")).to_have_text("Register an authenticator app")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#device_name", "work phone")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#register-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")

    # The administrator sees, renames and deletes the device from the CLI.
    listed = server.cli("-o", "json", "mfa", "device", "list", "Administrator")
    device_id = re.search(r'"device_id":\s*"([^"]+)"', listed).group(1)
    assert "work phone" in listed
    server.cli("mfa", "device", "rename", "Administrator", device_id, "old phone")
    page.goto(base(server) + "/start/mfa-devices")
    expect(page.locator("#devices .name")).to_have_text(["old phone"])
    server.cli("mfa", "device", "delete", "Administrator", device_id)
    page.reload()
    expect(page.locator("#no-devices")).to_be_visible()

    # Sessions: listed, then revoked by the administrator; the browser is signed out.
    assert "signed_in" in server.cli("user", "sessions", "Administrator")
    server.cli("user", "revoke-sessions", "Administrator")
    expect_signed_out(page, server)


def virtual_authenticator(ctx, page, transport="usb"):
    """Chromium's virtual WebAuthn authenticator (DevTools protocol), for this page's browser."""
    cdp = ctx.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {"protocol": "ctap2", "transport": transport, "hasResidentKey": transport == "internal",
               "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    return cdp, authenticator


def register_key(page, name, kind="security-key"):
    page.click(f"#add-{kind}-submit")
    page.fill("#device_name", name)
    page.click("#register-key-submit")
    expect(page.locator("#notice")).to_have_text(f"Registered {name}.")


def test_security_key_registration_sign_in_and_limit(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    password = first_sign_in(page, server)
    cdp, key = virtual_authenticator(ctx, page)
    page.click("text=MFA devices")
    register_key(page, "YubiKey")
    expect(page.locator("#devices .type")).to_have_text(["Security key or built-in authenticator"])
    # The same key twice: the browser refuses (excludeCredentials), nothing is stored.
    page.click("#add-security-key-submit")
    page.click("#register-key-submit")
    expect(page.locator("#webauthn-error")).to_have_text("This device is already registered.")
    page.goto(base(server) + "/start/mfa-devices")
    expect(page.locator("#devices .name")).to_have_text(["YubiKey"])

    # Sign out and in again: the key answers the challenge.
    page.click("text=Applications")
    page.click("#signout-submit")
    sign_in(page, server, "Administrator", password)
    expect(page.locator("h1")).to_have_text("Additional verification required")
    # A forged answer is refused and counted as a failed WEBAUTHN verification.
    page.evaluate("""() => { const f = document.getElementById('mfa-key');
        f.querySelector('input[name=credential]').value = '{"id":"x","rawId":"eA","type":"public-key","response":{}}';
        f.submit(); }""")
    expect(page.locator("#error")).to_contain_text("security key's answer could not be verified")
    page.click("#mfa-key-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    creds = cdp.send("WebAuthn.getCredentials", {"authenticatorId": key})["credentials"]
    assert len(creds) == 1 and creds[0]["signCount"] >= 2, creds

    events = server.cli("-o", "json", "audit", "tail", "--event-name", "CredentialVerification")
    assert '"WEBAUTHN"' in events and "Failure" in events, events
    auth = server.cli("-o", "json", "audit", "tail", "--event-name", "UserAuthentication")
    assert "PASSWORD,WEBAUTHN" in auth, auth
    registered = server.cli("-o", "json", "audit", "tail", "--event-name", "CompleteWebAuthnDeviceRegistration")
    assert "YubiKey" in registered, registered

    # Six keys at most: five more, each on a new authenticator; the seventh is refused.
    page.goto(base(server) + "/start/mfa-devices")
    for i in range(2, 7):
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": key})
        key = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "usb", "hasUserVerification": True, "isUserVerified": True,
            "automaticPresenceSimulation": True}})["authenticatorId"]
        register_key(page, f"key {i}")
    page.click("#add-security-key-submit")
    expect(page.locator("#error")).to_contain_text("at most 6")
    listed = server.cli("-o", "json", "mfa", "device", "list", "Administrator")
    assert listed.count('"WEBAUTHN"') == 6, listed
    ctx.close()


def test_forced_registration_of_a_built_in_authenticator(server, browser):
    server.cli("mfa", "set", "--no-device", "require-registration")
    ctx = browser.new_context()
    page = ctx.new_page()
    virtual_authenticator(ctx, page, transport="internal")
    sign_in(page, server, "Administrator", admin_otp(server))
    page.fill("#new_password", "Portal-Passw0rd!")
    page.fill("#confirm_password", "Portal-Passw0rd!")
    page.click("#change-submit")
    expect(page.locator("h1")).to_have_text("Register an authenticator app")
    page.click("#enroll-built_in")
    expect(page.locator("h1")).to_have_text("Register a built-in authenticator")
    page.fill("#device_name", "Laptop")
    page.click("#register-key-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    auth = server.cli("-o", "json", "audit", "tail", "--event-name", "UserAuthentication")
    assert '"DeviceEnrollmentRequired": "true"' in auth or '"DeviceEnrollmentRequired":"true"' in auth, auth
    listed = server.cli("-o", "json", "mfa", "device", "list", "Administrator")
    assert "Laptop" in listed and '"WEBAUTHN"' in listed, listed

    # Only security keys allowed: the next sign-in offers no code box, just the key.
    server.cli("mfa", "set", "--authenticator-apps", "false", "--mode", "always-on")
    page.click("#signout-submit")
    sign_in(page, server, "Administrator", "Portal-Passw0rd!")
    expect(page.locator("#mfa-key-submit")).to_be_visible()
    assert page.locator("#code").count() == 0
    page.check("#trusted-key")
    page.click("#mfa-key-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    ctx.close()


def test_sessions_and_devices_through_the_api_and_sign_out_everywhere(server, browser):
    """The API extension (boto3 and the AWS CLI with clients/botocore) and the user's own
    "Sign out everywhere"."""
    first = browser.new_context().new_page()
    password = first_sign_in(first, server)
    second = browser.new_context().new_page()
    sign_in(second, server, "Administrator", password)
    expect(second.locator("#user-name")).to_have_text("Administrator")

    ids = server.client("identitystore")
    store = ids.list_identity_stores()["IdentityStores"][0]["IdentityStoreId"]
    user_id = ids.get_user_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "Administrator"}})["UserId"]
    gh = server.client("gatehouse")
    sessions = gh.list_user_sessions(UserId=user_id)["Sessions"]
    assert len(sessions) == 2 and all(s["Stage"] == "signed_in" for s in sessions), sessions
    assert sessions[0]["ExpiresAt"] > sessions[0]["CreatedAt"]

    # MFA settings and an authenticator app registered for the user by the administrator.
    gh.put_mfa_device_management_for_directory(Settings={"Mode": "ALWAYS_ON"})
    settings = gh.describe_mfa_device_management_for_directory()["Settings"]
    assert settings["Mode"] == "ALWAYS_ON" and settings["NoDevice"] == "ALLOW" and settings["SecurityKeys"], settings
    secret = gh.start_virtual_mfa_device_registration(UserId=user_id)["Secret"]
    device = gh.complete_virtual_mfa_device_registration(UserId=user_id, Secret=secret, Code=pyotp.TOTP(secret).now(),
                                                         DeviceName="given phone")
    gh.update_mfa_device_for_user(UserId=user_id, DeviceId=device["DeviceId"], DeviceName="spare phone")
    devices = gh.list_mfa_devices_for_user(UserId=user_id)["Devices"]
    assert [(d["DeviceName"], d["DeviceType"]) for d in devices] == [("spare phone", "TOTP")]
    with pytest.raises(gh.exceptions.ResourceNotFoundException):
        gh.delete_mfa_device_for_user(UserId=user_id, DeviceId="no-such-device")
    with pytest.raises(gh.exceptions.ValidationException):
        gh.put_mfa_device_management_for_directory(Settings={"Mode": "SOMETIMES"})

    # The AWS CLI, with the same model.
    key, secret_key = server.secrets()
    env = dict(os.environ, AWS_DATA_PATH=os.path.join(os.path.dirname(__file__), "../../clients/botocore"),
               AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret_key, AWS_DEFAULT_REGION="us-east-1")
    aws = os.path.join(os.path.dirname(shutil.which("pytest") or ""), "aws")
    out = subprocess.run([aws, "gatehouse", "list-mfa-devices-for-user", "--user-id", user_id,
                          "--endpoint-url", server.endpoint], env=env, capture_output=True, text=True, check=True).stdout
    assert "spare phone" in out

    # The user signs out everywhere from one browser: the other is signed out too.
    second.click("#signout-everywhere-submit")
    expect(second.locator("#notice")).to_have_text("You are signed out everywhere (2 sessions).")
    first.goto(base(server) + "/start/")
    expect(first).to_have_url(re.compile(r"/start/signin"))
    assert gh.list_user_sessions(UserId=user_id)["Sessions"] == []
    assert gh.revoke_user_sessions(UserId=user_id)["SessionsRevoked"] == 0


def test_lockout_then_release_and_the_same_answers_for_unknown_users(server, browser, monkeypatch):
    page = browser.new_context().new_page()
    password = first_sign_in(page, server)
    page.click("#signout-submit")
    # A short lockout for the test: restart the server with it. Long enough to outlast the five
    # failures' growing delays on a loaded machine, so the sixth attempt still meets the lock.
    server.kill(signal.SIGTERM)
    monkeypatch.setenv("GATEHOUSE_SIGNIN_LOCKOUT_SECONDS", "10")
    server.start()
    answers = {}
    for name in ["Administrator", "no-such-user"]:
        texts = []
        for _ in range(5):
            sign_in(page, server, name, "Wrong-passw0rd!")
            texts.append(page.locator("#error").inner_text())
        sign_in(page, server, name, password)
        texts.append(page.locator("#error").inner_text())
        answers[name] = texts
    assert answers["Administrator"] == answers["no-such-user"], answers
    assert answers["Administrator"][-1].startswith("Too many failed sign-in attempts"), answers
    time.sleep(10.5)
    sign_in(page, server, "Administrator", password)
    expect(page.locator("#user-name")).to_have_text("Administrator")


def test_trusted_device_skips_mfa_in_the_same_browser_only(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    password = first_sign_in(page, server)
    page.click("text=MFA devices")
    page.click("#add-totp-submit")
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.fill("#code", totp.now())
    page.click("#register-submit")
    expect(page.locator("#notice")).to_have_text("Registered Authenticator app.")
    page.click("text=Applications")
    page.click("#signout-submit")

    # MFA with "This is a trusted device" ticked.
    sign_in(page, server, "Administrator", password)
    expect(page.locator("h1")).to_have_text("Additional verification required")
    page.fill("#code", totp.at(time.time() + 30))
    page.check("#trusted")
    page.click("#mfa-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    assert any(c["name"] == "gh_device" and c["httpOnly"] for c in ctx.cookies())
    page.click("#signout-submit")

    # The same browser: no MFA. A fresh browser profile: MFA again.
    sign_in(page, server, "Administrator", password)
    expect(page.locator("#user-name")).to_have_text("Administrator")
    fresh = browser.new_context().new_page()
    sign_in(fresh, server, "Administrator", password)
    expect(fresh.locator("h1")).to_have_text("Additional verification required")
    ctx.close()


class Sink:
    """A local SMTP server that keeps what it receives (aiosmtpd)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.content)
                body = message.get_payload(decode=True).decode("utf-8", "replace")
                sink.messages.append((envelope.rcpt_tos, body))
                return "250 OK"

        import socket

        with socket.socket() as s:  # a free port (aiosmtpd's readiness check cannot use port 0)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def wait_for(self, rcpt, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for to, body in self.messages:
                if rcpt in to:
                    return body
            time.sleep(0.1)
        raise AssertionError(f"no email to {rcpt}; got {self.messages}")

    def stop(self):
        self.controller.stop()


@pytest.fixture
def mail(server, monkeypatch):
    """The server restarted with SMTP pointing at a local sink."""
    sink = Sink()
    first_banner = server.banner  # the first start's secrets (the one-time password)
    server.kill(signal.SIGTERM)
    monkeypatch.setenv("GATEHOUSE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GATEHOUSE_SMTP_PORT", str(sink.port))
    monkeypatch.setenv("GATEHOUSE_SMTP_SECURITY", "none")
    monkeypatch.setenv("GATEHOUSE_SMTP_FROM", "Gatehouse <sso@example.com>")
    server.start()
    server.banner = first_banner + server.banner
    yield sink
    sink.stop()


def token_in(body, path):
    m = re.search(path + r"\?token=([A-Za-z0-9_-]+)", body)
    assert m, body
    return m.group(1)


def test_invitation_link_works_once(server, browser, mail):
    server.cli("user", "create", "newbie", "--email", "newbie@example.com", "--given-name", "New", "--family-name", "Bie",
               "--send-invitation")
    token = token_in(mail.wait_for("newbie@example.com"), "/start/invitation")
    page = browser.new_context().new_page()
    page.goto(base(server) + "/start/invitation?token=" + token)
    expect(page.locator("h1")).to_have_text("Accept your invitation")
    page.fill("#new_password", "Newbie-Passw0rd!")
    page.fill("#confirm_password", "Newbie-Passw0rd!")
    page.click("#set-password-submit")
    expect(page.locator("#user-name")).to_have_text("newbie")
    other = browser.new_context().new_page()
    other.goto(base(server) + "/start/invitation?token=" + token)
    expect(other.locator("#link-invalid")).to_be_visible()


def test_password_reset_link_works_once_and_says_nothing_about_unknown_users(server, browser, mail):
    server.cli("user", "create", "forgetful", "--email", "forgetful@example.com", "--given-name", "For", "--family-name", "Getful")
    page = browser.new_context().new_page()
    answers = []
    for name in ["no-such-user", "forgetful"]:
        page.goto(base(server) + "/start/signin")
        page.click("#forgot-link")
        page.fill("#username", name)
        page.click("#forgot-submit")
        answers.append(page.locator("#notice").inner_text())
    assert answers[0] == answers[1]
    token = token_in(mail.wait_for("forgetful@example.com"), "/start/reset")
    assert len(mail.messages) == 1, "nothing was sent for the unknown user"
    page.goto(base(server) + "/start/reset?token=" + token)
    page.fill("#new_password", "Remembered-Passw0rd!")
    page.fill("#confirm_password", "Remembered-Passw0rd!")
    page.click("#set-password-submit")
    expect(page.locator("#notice")).to_have_text("Your password is changed. Sign in with it.")
    sign_in(page, server, "forgetful", "Remembered-Passw0rd!")
    expect(page.locator("#user-name")).to_have_text("forgetful")
    page.goto(base(server) + "/start/reset?token=" + token)
    expect(page.locator("#link-invalid")).to_be_visible()


def test_without_smtp_invitations_are_refused_and_one_time_passwords_remain(server):
    out = subprocess.run(server.args("user", "create", "nomail", "--email", "nomail@example.com", "--given-name", "No",
                                     "--family-name", "Mail", "--send-invitation"), capture_output=True, text=True)
    assert out.returncode != 0 and "Email is not configured" in out.stderr, out.stderr
    created = server.cli("user", "create", "nomail", "--email", "nomail@example.com", "--given-name", "No",
                         "--family-name", "Mail", "--one-time-password")
    assert "nomail" in created


def test_one_time_code_by_email_for_users_without_a_device(server, browser, mail):
    server.cli("mfa", "set", "--no-device", "email-code")
    page = browser.new_context().new_page()
    sign_in(page, server, "Administrator", admin_otp(server))
    page.fill("#new_password", "Portal-Passw0rd!")
    page.fill("#confirm_password", "Portal-Passw0rd!")
    page.click("#change-submit")
    expect(page.locator("#emailed")).to_be_visible()
    body = mail.wait_for("admin@example.com")
    code = re.search(r"sign-in code is (\d{6})", body).group(1)
    page.fill("#code", "000000" if code != "000000" else "111111")
    page.click("#mfa-submit")
    expect(page.locator("#error")).to_contain_text("incorrect")
    page.fill("#code", code)
    page.click("#mfa-submit")
    expect(page.locator("#user-name")).to_have_text("Administrator")
    events = server.cli("-o", "json", "audit", "tail", "--event-name", "UserAuthentication")
    assert "PASSWORD,EMAIL_OTP" in events, events


class _Acs(http.server.BaseHTTPRequestHandler):
    """A service provider's assertion consumer service: records what the browser posts."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(urllib.parse.parse_qs(body))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<h1>Signed in to the SP</h1>")

    def log_message(self, *args):
        pass


def test_application_tiles_search_administrator_mode_and_auto_post(server, browser, ids):
    """Issue 6: assigned applications are tiles with a search box; a click posts the signed
    response to the application's ACS on its own (portal.js, with a form-action allowing that
    origin only); shift-click opens administrator mode with the XML, Copy XML and Send."""
    acs_server = http.server.HTTPServer(("127.0.0.1", 0), _Acs)
    threading.Thread(target=acs_server.serve_forever, daemon=True).start()
    acs = f"http://127.0.0.1:{acs_server.server_port}/acs"
    _Acs.received = []
    client, store = ids
    admin_id = client.get_user_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "Administrator"}})["UserId"]
    sso, gh = server.client("sso-admin"), server.client("gatehouse")
    instance = sso.list_instances()["Instances"][0]["InstanceArn"]

    def application(name):
        arn = sso.create_application(InstanceArn=instance, Name=name,
                                     ApplicationProviderArn="arn:aws:sso::aws:applicationProvider/custom-saml")["ApplicationArn"]
        gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=acs, Audience="urn:test:sp", RelayState="/dashboard")
        sso.create_application_assignment(ApplicationArn=arn, PrincipalId=admin_id, PrincipalType="USER")
        return arn.rsplit("/", 1)[1]

    wiki, crm = application("Team wiki"), application("Sales CRM")
    unassigned = sso.create_application(InstanceArn=instance, Name="Not yours",
                                        ApplicationProviderArn="arn:aws:sso::aws:applicationProvider/custom-saml")
    ctx = browser.new_context()
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    first_sign_in(page, server)
    expect(page.locator("a.app-tile")).to_have_count(2)
    assert "Not yours" not in page.content(), unassigned["ApplicationArn"]
    page.fill("#search", "wiki")
    expect(page.locator(f"#app-{crm}")).to_be_hidden()
    expect(page.locator(f"#app-{wiki}")).to_be_visible()

    page.click(f"#app-{wiki}", modifiers=["Shift"])
    expect(page.locator("h1")).to_have_text("Administrator mode: Team wiki")
    xml = page.locator("#assertion-xml").input_value()
    assert "<saml:Assertion" in xml and f">{admin_id}</saml:NameID>" in xml, xml
    page.click("#copy-xml")
    expect(page.locator("#copy-xml")).to_have_text("Copied")
    page.click("#send-submit")
    expect(page.locator("h1")).to_have_text("Signed in to the SP")
    sent = _Acs.received[-1]
    assert sent["RelayState"] == ["/dashboard"]
    assert base64.b64decode(sent["SAMLResponse"][0]).decode() == xml

    page.goto(base(server) + "/start/?q=crm")
    expect(page.locator("a.app-tile")).to_have_count(1)
    page.click(f"#app-{crm}")
    expect(page.locator("h1")).to_have_text("Signed in to the SP")
    assert len(_Acs.received) == 2
    assert admin_id in base64.b64decode(_Acs.received[-1]["SAMLResponse"][0]).decode()
    acs_server.shutdown()
    ctx.close()
