"""The guide's console procedures for users, groups and settings, end to end in a real browser (Debian's
chromium through Playwright), each named as the guide names it. Every page visited is saved as a
screenshot under test-output/console/ (GATEHOUSE_SCREENSHOTS overrides the folder).

Procedures covered here:
- To enable AWS SSO: Gatehouse's first start (`gatehouse serve` creates the instance and the
  Administrator, whose first sign-in opens the console in every test here)
- To add a user (details, Next: Groups, Add user; with a one-time password, and with an email)
- To add a group
- To add a user as a member of a group (and removing a member)
- To edit user properties
- To disable a user (and enable)
- To reset a user password (one-time password, and email)
- To register an MFA device (authenticator app; security key, whose key then signs the user in),
  To rename an MFA device, To delete an MFA device (DELETE typed); a user's sessions (revoke)
- To enable MFA, To configure MFA types for your users, To configure MFA device enforcement for
  your users, To allow users to register their own MFA devices, To disable MFA (Settings →
  Multi-factor authentication)
- To enable automatic provisioning, To generate a new access token, To delete an existing access
  token (DELETE typed), To rotate an access token (a new one, then the old one deleted), To
  disable automatic provisioning (DISABLE typed) (Settings → Automatic provisioning)
- To enable Attributes for access control, To select your attributes, To disable Attributes for
  access control
- To customize your URL (Dashboard; with portal_domain)
- The audit log: search by event name, user and time range; an event's record; the download
"""

import json
import os
import pathlib
import re
import signal
import subprocess

import pyotp
import pytest

from playwright.sync_api import expect

from conftest import Server, backends, fresh_database
from test_console import management_account, open_home_with_role
from test_sso_login import unsigned
from test_portal import browser, first_sign_in, mail, sign_in, virtual_authenticator  # noqa: F401 (browser and mail are fixtures)

SHOTS = pathlib.Path(os.environ.get("GATEHOUSE_SCREENSHOTS", pathlib.Path(__file__).resolve().parents[2] / "test-output" / "console"))


class Console:
    """The administrator in the console, saving a screenshot of each page it reaches."""

    def __init__(self, server, browser, backend):
        self.server = server
        self.ctx = browser.new_context()
        self.page = self.ctx.new_page()
        self.backend = backend
        SHOTS.mkdir(parents=True, exist_ok=True)
        first_sign_in(self.page, server)
        management = management_account(server)
        # The first start's assignment of AdministratorAccess is provisioned in the background; a
        # restart just after it (the mail fixture) leaves its job to be taken over once its lease
        # (60 s) ends.
        link = open_home_with_role(self.page, server, management, "AdministratorAccess", timeout=150)
        self.page.locator(f"#account-{management} summary").click()
        link.click()
        expect(self.page.locator("#role")).to_have_text("AdministratorAccess")

    def shot(self, name):
        self.page.screenshot(path=str(SHOTS / f"{name}-{self.backend}.png"), full_page=True)


def register_app(server, user, name):
    """`gatehouse mfa device add-app`: it prints the secret, then reads the app's current code."""
    proc = subprocess.Popen(server.args("mfa", "device", "add-app", user, "--name", name), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secret = None
    for line in proc.stderr:
        if line.startswith("Secret key:"):
            secret = line.split(":", 1)[1].strip()
        if "current code" in line:
            break
    out, err = proc.communicate(pyotp.TOTP(secret).now() + "\n", timeout=60)
    assert proc.returncode == 0, err


def backend_of(server):
    return "postgres" if server.database_url else "sqlite"


def test_to_add_a_user_and_a_group_and_make_members(server, browser):
    c = Console(server, browser, backend_of(server))
    page = c.page

    # To add a group.
    page.click("#nav-groups")
    page.click("#create-group")
    c.shot("create-group")
    page.fill("#name", "Engineers")
    page.fill("#description", "Builds <b>things</b>")
    page.click("#create-group-submit")
    expect(page.locator("#group-title")).to_have_text("Engineers")
    expect(page.locator("#group-description")).to_have_text("Builds <b>things</b>")
    expect(page.locator("#no-members")).to_be_visible()
    c.shot("group-details")
    page.click("#nav-groups")
    page.click("#create-group")
    page.fill("#name", "engineers")
    page.click("#create-group-submit")
    expect(page.locator("#error")).to_contain_text("ngineers")

    # To add a user: details, Next: Groups, Add user, with a one-time password.
    page.click("#nav-users")
    page.click("#add-user")
    c.shot("add-user-details")
    page.fill("#user_name", "jdoe")
    page.check("#password-otp")
    page.fill("#email", "jdoe@example.com")
    page.fill("#confirm_email", "jd@example.com")
    page.fill("#given_name", "John")
    page.fill("#family_name", "Doe")
    page.fill("#display_name", "John Doe")
    page.fill("#employee_number", "E-1001")
    page.click("#next-groups")
    expect(page.locator("#error")).to_have_text("The email addresses do not match.")
    page.fill("#confirm_email", "jdoe@example.com")
    page.click("#next-groups")
    c.shot("add-user-groups")
    page.locator("input.choose-group[data-name='Engineers']").check()
    page.click("#add-user-submit")
    expect(page.locator("#created-user")).to_have_text("jdoe")
    expect(page.locator("#groups-added")).to_have_text("Added to 1 group(s).")
    c.shot("add-user-done")
    otp = page.locator("#otp").inner_text()
    page.click("#to-details")
    expect(page.locator("#group-list .group-name")).to_have_text(["Engineers"])

    # The new user signs in with the one-time password and must choose their own.
    other = c.ctx.browser.new_context().new_page()
    sign_in(other, server, "jdoe", otp)
    expect(other.locator("h1")).to_have_text("Choose a new password")

    # To add a user as a member of a group: a second user, then Add users on the group's page.
    page.click("#nav-users")
    page.click("#add-user")
    page.fill("#user_name", "asmith")
    page.check("#password-otp")
    for field, value in [("email", "asmith@example.com"), ("confirm_email", "asmith@example.com"), ("given_name", "Ann"),
                         ("family_name", "Smith"), ("display_name", "<script>alert(1)</script>")]:
        page.fill(f"#{field}", value)
    page.click("#next-groups")
    page.click("#add-user-submit")
    expect(page.locator("#created-user")).to_have_text("asmith")
    page.click("#nav-groups")
    page.click("tr.group .group-name a >> text=Engineers")
    page.click("#add-users")
    page.fill("#q", "smith")
    page.click("#search-submit")
    c.shot("add-users-to-group")
    page.locator("input.choose-user[data-name='asmith']").check()
    page.click("#add-members-submit")
    expect(page.locator("#notice")).to_have_text("Added 1 user(s).")
    expect(page.locator("tr.member .member-name")).to_have_text(["asmith", "jdoe"])
    expect(page.locator("tr.member td").nth(1)).to_have_text("<script>alert(1)</script>")
    # Removing a member.
    page.locator("tr.member", has_text="jdoe").locator(".remove-member").click()
    expect(page.locator("#notice")).to_have_text("The member was removed.")
    expect(page.locator("tr.member .member-name")).to_have_text(["asmith"])

    # A form posted without its CSRF token is refused.
    assert page.request.post(page.url, form={"csrf": "forged", "remove": "x"}).status == 403
    c.ctx.close()


def test_to_edit_disable_and_reset_a_user(server, browser, mail):
    c = Console(server, browser, backend_of(server))
    page = c.page
    ids = server.client()
    store = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", server.banner).group(1)
    user = ids.create_user(IdentityStoreId=store, UserName="pat", DisplayName="Pat", Name={"GivenName": "Pat", "FamilyName": "Lee"},
                           Emails=[{"Value": "pat@example.com", "Primary": True}])["UserId"]

    # To edit user properties.
    page.goto(page.url.split("/console")[0] + f"/console/users/{user}")
    page.click("#edit-user")
    c.shot("edit-user")
    page.fill("#family_name", "Leigh")
    page.fill("#display_name", "Pat Leigh")
    # The email must be unique (the guide).
    ids.create_user(IdentityStoreId=store, UserName="sam", DisplayName="Sam", Name={"GivenName": "Sam", "FamilyName": "Ray"},
                    Emails=[{"Value": "sam@example.com", "Primary": True}])
    page.fill("#email", "sam@example.com")
    page.click("#save-user")
    expect(page.locator("#error")).to_contain_text("sam@example.com")
    page.fill("#email", "pat.leigh@example.com")
    page.click("#save-user")
    expect(page.locator("#notice")).to_have_text("Your changes were saved.")
    expect(page.locator("#detail-family-name")).to_have_text("Leigh")
    expect(page.locator("#detail-email")).to_have_text("pat.leigh@example.com")
    assert ids.describe_user(IdentityStoreId=store, UserId=user)["DisplayName"] == "Pat Leigh"

    # To reset a user password: by email, then a one-time password.
    page.click("#reset-password")
    c.shot("reset-password")
    page.check("#mode-email")
    page.click("#action-submit")
    expect(page.locator("#notice")).to_contain_text("email with instructions")
    assert "/start/reset?token=" in mail.wait_for("pat.leigh@example.com")
    page.click("#back-to-user")
    page.click("#reset-password")
    page.check("#mode-otp")
    page.click("#action-submit")
    expect(page.locator("#otp")).to_have_text(re.compile(r"\S{12,}"))

    # The user signs in with the one-time password; the details page lists the session.
    other = browser.new_context().new_page()
    sign_in(other, server, "pat", page.locator("#otp").inner_text())
    other.fill("#new_password", "Pat-Passw0rd-2026!")
    other.fill("#confirm_password", "Pat-Passw0rd-2026!")
    other.click("#change-submit")
    expect(other.locator("#user-name")).to_have_text("pat")
    page.click("#back-to-user")
    expect(page.locator("tr.session")).to_have_count(1)
    page.click("#revoke-sessions")
    expect(page.locator("#notice")).to_have_text("Revoked 1 session(s).")
    other.goto(page.url.split("/console")[0] + "/start/")
    expect(other).to_have_url(re.compile(r"/start/signin"))

    # MFA devices: rename and delete.
    register_app(server, "pat", "phone")
    page.reload()
    expect(page.locator("tr.device .device-name")).to_have_text(["phone"])
    c.shot("user-details")
    page.locator("tr.device .device-new-name").fill("old <phone>")
    page.click("tr.device .rename-device")
    expect(page.locator("#notice")).to_have_text("Renamed to old <phone>.")
    # To register an MFA device (authenticator app) for the user: the secret, then a current code.
    page.click("#register-mfa-device")
    c.shot("register-mfa-device")
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator("#totp-qr").get_attribute("src").startswith("data:image/svg+xml;base64,")
    page.fill("#device_name", "desk token")
    page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("#assign-mfa")
    expect(page.locator("#error")).to_contain_text("incorrect")
    expect(page.locator("#totp-secret")).to_have_text(secret)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#assign-mfa")
    expect(page.locator("#notice")).to_have_text("Registered desk token.")
    expect(page.locator("tr.device .device-name")).to_have_text(["old <phone>", "desk token"])
    page.locator("tr.device", has_text="desk token").locator(".delete-device").click()
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    expect(page.locator("tr.device .device-name")).to_have_text(["old <phone>"])

    # To register an MFA device (security key) for the user, with the key at hand: the key then
    # answers pat's sign-in challenge in another browser.
    cdp, key = virtual_authenticator(c.ctx, page)
    page.click("#register-security-key")
    c.shot("register-security-key")
    page.fill("#device_name", "pat's key")
    page.click("#register-key-submit")
    expect(page.locator("#notice")).to_have_text("Registered pat's key.")
    expect(page.locator("tr.device .device-name")).to_have_text(["old <phone>", "pat's key"])
    (credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": key})["credentials"]
    other_ctx = browser.new_context()
    other = other_ctx.new_page()
    other_cdp, other_key = virtual_authenticator(other_ctx, other)
    other_cdp.send("WebAuthn.addCredential", {"authenticatorId": other_key, "credential": credential})
    sign_in(other, server, "pat", "Pat-Passw0rd-2026!")
    expect(other.locator("h1")).to_have_text("Additional verification required")
    other.click("#mfa-key-submit")
    expect(other.locator("#user-name")).to_have_text("pat")
    other_ctx.close()
    page.reload()
    page.locator("tr.device", has_text="pat's key").locator(".delete-device").click()
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    expect(page.locator("tr.device .device-name")).to_have_text(["old <phone>"])

    # To delete an MFA device: type DELETE.
    page.click("tr.device .delete-device")
    expect(page.locator("#confirm-text")).to_contain_text("old <phone>")
    c.shot("delete-mfa-device")
    page.fill("#confirmation", "delete")
    page.click("#confirm-submit")
    expect(page.locator("#error")).to_contain_text("Type DELETE to confirm")
    expect(page.locator("tr.device")).to_have_count(0)
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    expect(page.locator("#notice")).to_have_text("The MFA device was deleted.")
    expect(page.locator("#no-devices")).to_be_visible()

    # To disable a user: the dialog, then enable again.
    page.click("#disable-user")
    c.shot("disable-user")
    page.click("#action-submit")
    expect(page.locator("#notice")).to_have_text("The user is disabled.")
    page.click("#back-to-user")
    expect(page.locator("#detail-status")).to_have_text("Disabled")
    expect(page.locator("#edit-user")).to_have_count(0)
    page.click("#enable-user")
    page.click("#action-submit")
    expect(page.locator("#notice")).to_have_text("The user is enabled.")
    c.ctx.close()


def test_settings_mfa_and_automatic_provisioning(server, browser):
    c = Console(server, browser, backend_of(server))
    page = c.page
    page.click("#nav-settings")
    c.shot("settings")

    # To configure MFA.
    page.check("#mode-always")
    page.uncheck("#security-keys")
    page.check("#no-device-register")
    page.click("#save-mfa")
    expect(page.locator("#notice")).to_have_text("MFA settings saved.")
    shown = server.cli("mfa", "show")
    assert "always-on" in shown and "require-registration" in shown and "Security keys and built-in authenticators  false" in shown, shown
    expect(page.locator("#mode-always")).to_be_checked()
    expect(page.locator("#security-keys")).not_to_be_checked()
    # To allow users to register their own MFA devices, then To disable MFA.
    page.check("#users-manage")
    page.check("#mode-never")
    page.click("#save-mfa")
    expect(page.locator("#notice")).to_have_text("MFA settings saved.")
    shown = server.cli("mfa", "show")
    assert "never" in shown.lower(), shown
    expect(page.locator("#users-manage")).to_be_checked()
    # To enable MFA again (context-aware, both device types).
    page.check("#mode-context")
    page.check("#security-keys")
    page.click("#save-mfa")
    expect(page.locator("#mode-context")).to_be_checked()

    # To enable automatic provisioning: the endpoint and a first token, shown once.
    expect(page.locator("#provisioning-status")).to_have_text("Disabled")
    page.click("#enable-provisioning")
    expect(page.locator("#provisioning-status")).to_have_text("Enabled")
    first = page.locator("#new-token").inner_text()
    endpoint = page.locator("#scim-endpoint").inner_text()
    import requests
    ok = requests.get(endpoint.replace("127.0.0.1", "localhost") + "/Users", headers={"Authorization": f"Bearer {first}"})
    assert ok.status_code == 200, ok.text
    # To generate a new access token: the guide's limit is two.
    page.click("#generate-token")
    expect(page.locator("tr.scim-token")).to_have_count(2)
    page.click("#generate-token")
    expect(page.locator("#error")).to_contain_text("2")
    # To delete an existing access token: the first one stops working.
    first_id = page.locator("tr.scim-token .token-id").first.inner_text()
    page.locator("tr.scim-token").first.locator(".delete-token").click()
    expect(page.locator("#confirm-title")).to_have_text("Delete access token")
    c.shot("delete-access-token")
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    expect(page.locator("#notice")).to_have_text("The access token was deleted.")
    expect(page.locator("tr.scim-token .token-id")).not_to_contain_text([first_id])
    assert requests.get(endpoint.replace("127.0.0.1", "localhost") + "/Users",
                        headers={"Authorization": f"Bearer {first}"}).status_code == 401
    # To disable automatic provisioning: refused while tokens exist (delete them first).
    page.click("#disable-provisioning")
    expect(page.locator("#confirm-title")).to_have_text("Disable automatic provisioning")
    page.fill("#confirmation", "DISABLE")
    page.click("#confirm-submit")
    expect(page.locator("#error")).to_be_visible()
    page.locator("tr.scim-token .delete-token").click()
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    page.click("#disable-provisioning")
    c.shot("disable-provisioning")
    page.fill("#confirmation", "DISABLE")
    page.click("#confirm-submit")
    expect(page.locator("#provisioning-status")).to_have_text("Disabled")
    c.ctx.close()


def test_the_audit_log_search_event_record_and_download(server, browser):
    """Audit log: events searched by name, user and time; one event's record; the download."""
    c = Console(server, browser, backend_of(server))
    page = c.page
    c.shot("dashboard")
    page.click("#nav-groups")
    page.click("#create-group")
    page.fill("#name", "Auditors <x>")
    page.click("#create-group-submit")
    expect(page.locator("#group-title")).to_have_text("Auditors <x>")

    page.click("#nav-audit")
    expect(page.locator("tr.event").first).to_be_visible()
    c.shot("audit-log")
    page.fill("#event_name", "CreateGroup")
    page.click("#audit-search-submit")
    expect(page.locator("tr.event .event-name")).to_have_text(["CreateGroup"])
    expect(page.locator("tr.event .event-user")).to_have_text(["Administrator"])
    page.fill("#audit-user", "nobody")
    page.click("#audit-search-submit")
    expect(page.locator("#no-events")).to_be_visible()
    page.fill("#audit-user", "Administrator")
    page.fill("#since", "2100-01-01T00:00")
    page.click("#audit-search-submit")
    expect(page.locator("#no-events")).to_be_visible()
    page.fill("#since", "2000-01-01T00:00")
    page.fill("#until", "1999-01-01T00:00")
    page.click("#audit-search-submit")
    expect(page.locator("#error")).to_have_text("The start time is after the end time.")
    page.fill("#until", "")
    page.click("#audit-search-submit")
    expect(page.locator("tr.event .event-name")).to_have_text(["CreateGroup"])

    # The event's record, escaped as text.
    page.locator("tr.event .event-name a").click()
    expect(page.locator("#event-title")).to_have_text("CreateGroup")
    record = json.loads(page.locator("#event-json").inner_text())
    assert record["requestParameters"]["displayName"] == "Auditors <x>"
    assert record["userIdentity"]["type"] == "AssumedRole"
    c.shot("audit-event")

    # Download: a CloudTrail log file of the search's events.
    page.go_back()
    with page.expect_download() as download:
        page.click("#download")
    records = json.loads(open(download.value.path()).read())["Records"]
    assert [r["eventName"] for r in records] == ["CreateGroup"]
    assert records[0]["eventID"] == record["eventID"]
    c.ctx.close()


def test_to_enable_select_and_disable_attributes_for_access_control(server, browser):
    """Settings → Attributes for access control: Enable, select attributes, Save, Disable."""
    c = Console(server, browser, backend_of(server))
    page = c.page
    admin = server.client("sso-admin")
    instance = admin.list_instances()["Instances"][0]["InstanceArn"]
    page.click("#nav-settings")
    page.click("#abac-settings")
    expect(page.locator("#abac-status")).to_have_text("Disabled")
    page.click("#enable-abac")
    expect(page.locator("#abac-status")).to_have_text("Enabled")
    new = page.locator("tr.abac-new")
    new.nth(0).locator(".abac-key").fill("Department")
    new.nth(0).locator(".abac-value").fill("${path:enterprise.department}")
    new.nth(1).locator(".abac-key").fill("CostCenter")
    new.nth(1).locator(".abac-value").fill("${path:enterprise.costCenter}")
    page.click("#save-abac")
    expect(page.locator("#notice")).to_have_text("Your changes were saved.")
    keys = lambda: [k.input_value() for k in page.locator("tr.abac-row .abac-key").all()]  # noqa: E731
    assert keys() == ["Department", "CostCenter"]
    c.shot("attributes-for-access-control")
    described = admin.describe_instance_access_control_attribute_configuration(InstanceArn=instance)
    assert [(a["Key"], a["Value"]["Source"]) for a in described["InstanceAccessControlAttributeConfiguration"]["AccessControlAttributes"]] == [
        ("Department", ["${path:enterprise.department}"]), ("CostCenter", ["${path:enterprise.costCenter}"])]
    # An unsupported value is refused with the supported list; nothing changes.
    page.locator("tr.abac-new").nth(0).locator(".abac-key").fill("Shoe")
    page.locator("tr.abac-new").nth(0).locator(".abac-value").fill("${path:shoeSize}")
    page.click("#save-abac")
    expect(page.locator("#error")).to_contain_text("not a supported attribute")
    assert keys() == ["Department", "CostCenter"]
    # Remove one.
    page.locator("tr.abac-row").nth(1).locator(".abac-remove").check()
    page.click("#save-abac")
    expect(page.locator("tr.abac-row")).to_have_count(1)
    assert keys() == ["Department"]
    # To disable: every attribute is deleted.
    page.click("#disable-abac")
    expect(page.locator("#abac-status")).to_have_text("Disabled")
    import botocore.exceptions
    try:
        admin.describe_instance_access_control_attribute_configuration(InstanceArn=instance)
        raise AssertionError("the configuration is still there")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
    c.ctx.close()


@pytest.mark.parametrize("backend", backends())
def test_to_customize_your_url(tmp_path, browser, backend):
    """Dashboard → User portal → Customize → the subdomain → Save: once, for good. The
    customized address (a subdomain of portal_domain; chromium resolves *.localhost to loopback)
    leads to the portal, and the AWS CLI may use it as its start URL."""
    server = Server(str(tmp_path), fresh_database(backend, str(tmp_path))).start(env={"GATEHOUSE_PORTAL_DOMAIN": "localhost"})
    try:
        port = server.endpoint.rsplit(":", 1)[1]
        c = Console(server, browser, backend)
        page = c.page
        expect(page.locator("#portal-url")).to_have_text(f"http://localhost:{port}/start")
        page.click("#customize summary")
        page.fill("#alias", "d-corp")
        page.click("#customize-submit")
        expect(page.locator("#error")).to_contain_text("not starting with d-")
        page.click("#customize summary")
        page.fill("#alias", "acme")
        c.shot("customize-portal-url")
        page.click("#customize-submit")
        custom = f"http://acme.localhost:{port}/start"
        expect(page.locator("#notice")).to_have_text(f"The portal URL is now {custom}.")
        expect(page.locator("#portal-url")).to_have_text(custom)
        expect(page.locator("#portal-alias")).to_have_text("acme")
        expect(page.locator("#customize")).to_have_count(0)
        # The customized address leads to the portal (same sign-in, same origin).
        page.goto(f"http://acme.localhost:{port}/")
        expect(page).to_have_url(re.compile(rf"^http://localhost:{port}/start/?$"))
        expect(page.locator("#user-name")).to_have_text("Administrator")
        # The AWS CLI's sso_start_url may be the customized address.
        oidc = unsigned("sso-oidc", server.endpoint)
        client = oidc.register_client(clientName="cli", clientType="public")
        started = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=custom)
        assert started["verificationUri"] == f"http://localhost:{port}/start/device"
        events = [json.loads(line) for line in server.cli("audit", "export", "--since", "1h").splitlines()]
        alias = [e for e in events if e["eventName"] == "CreateAlias"]
        assert [e.get("errorCode") for e in alias] == ["ValidationException", None]
        c.ctx.close()
    finally:
        if server.proc.poll() is None:
            server.kill(signal.SIGTERM)
