"""The Gatehouse console in a real browser (Debian's chromium driven by Playwright): administrators
reach /console from the portal through a role of the management account ("Management console"),
and every console page acts as that role session, under its permission set's policies."""

import json
import re
import time

from playwright.sync_api import expect

from test_permission_sets import Sso
from test_portal import base, browser, first_sign_in, sign_in  # noqa: F401 (browser is a fixture)
from test_saml_apps import PASSWORD, make_user


def management_account(server):
    return server.client("organizations").describe_organization()["Organization"]["MasterAccountId"]


def open_home_with_role(page, server, account, role, timeout=30):
    """The portal home once the role's assignment has completed (the provisioning workers run
    it moments after the request)."""
    link = page.locator(f"#role-{account}-{role} a.console-link")
    deadline = time.time() + timeout
    while True:
        page.goto(base(server) + "/start/")
        if link.count() or time.time() > deadline:
            break
        time.sleep(0.3)
    return link


def test_the_administrator_opens_the_console_from_the_portal(server, browser):
    """A fresh instance: the Administrator's first sign-in, then the management account's
    AdministratorAccess role (made at bootstrap) → Management console → the dashboard."""
    ctx = browser.new_context()
    page = ctx.new_page()
    first_sign_in(page, server)
    management = management_account(server)
    sso = Sso(server)
    link = open_home_with_role(page, server, management, "AdministratorAccess")
    page.locator(f"#account-{management} summary").click()
    link.click()
    expect(page).to_have_url(re.compile(r"/console$"))
    expect(page.locator("#role")).to_have_text("AdministratorAccess")
    expect(page.locator("#user")).to_have_text("Administrator")
    expect(page.locator("#instance-arn")).to_have_text(sso.instance)
    expect(page.locator("#identity-store-id")).to_have_text(sso.store_id)
    expect(page.locator("#portal-url")).to_have_text(base(server) + "/start")
    expect(page.locator("#customize-unavailable")).to_contain_text("portal_domain")
    # The setup checklist, read as the role session.
    expect(page.locator("#step-users .step-status")).to_have_text("To do")
    expect(page.locator("#step-permission-set .step-status")).to_have_text("To do")
    expect(page.locator("#step-assign .step-status")).to_have_text("To do")
    expect(page.locator("#step-provisioning .step-status")).to_have_text("To do")
    # Activity: today's sign-in, and the bootstrap's assignment; a wrong password shows as a failure.
    today = page.locator("tr.activity-day").last
    assert int(today.locator(".sign-ins").text_content()) >= 1
    assert int(today.locator(".provisioning").text_content()) >= 1
    assert today.locator(".failed").text_content() == "0"
    other = browser.new_context().new_page()
    sign_in(other, server, "Administrator", "not-the-password")
    expect(other.locator("#error")).to_be_visible()
    other.context.close()
    page.reload()
    assert page.locator("tr.activity-day").last.locator(".failed").text_content() == "1"
    expect(page.locator("#activity-chart rect.bar")).to_have_count(14 * 3)
    assert re.fullmatch(rf"arn:aws:sts::{management}:assumed-role/AWSReservedSSO_AdministratorAccess_[0-9a-f]{{16}}/Administrator",
                        page.locator("#session-arn").inner_text())
    cookies = {c["name"]: c for c in ctx.cookies()}
    console = cookies["gh_console"]
    assert console["httpOnly"] and console["sameSite"] == "Strict" and console["path"] == "/console"
    assert "frame-ancestors 'none'" in page.request.get(base(server) + "/console").headers["content-security-policy"]

    # Groups: listed and searched; names are escaped.
    for name in ("Engineers", "<i>Ops</i>"):
        sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName=name, Description=f"The {name} team")
    page.click("#nav-groups")
    expect(page.locator("tr.group .group-name")).to_have_count(2)
    page.fill("#q", "OPS")
    page.click("#search-submit")
    expect(page.locator("tr.group .group-name")).to_have_text(["<i>Ops</i>"])
    # A user's details: profile, groups (by name) and MFA devices.
    admin_id = sso.ids.get_user_id(IdentityStoreId=sso.store_id, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "Administrator"}})["UserId"]
    engineers = sso.ids.get_group_id(IdentityStoreId=sso.store_id, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Engineers"}})["GroupId"]
    sso.ids.create_group_membership(IdentityStoreId=sso.store_id, GroupId=engineers, MemberId={"UserId": admin_id})
    page.click("#nav-users")
    page.click(f"#user-{admin_id} .user-name a")
    expect(page.locator("#detail-user-id")).to_have_text(admin_id)
    expect(page.locator("#detail-status")).to_have_text("Enabled")
    expect(page.locator("#group-list .group-name")).to_have_text(["Engineers"])
    expect(page.locator("#no-devices")).to_be_visible()
    page.click("#nav-dashboard")

    # The bootstrap role is an ordinary permission set, seen and managed through sso-admin.
    sets = sso.admin.list_permission_sets(InstanceArn=sso.instance)["PermissionSets"]
    described = [sso.admin.describe_permission_set(InstanceArn=sso.instance, PermissionSetArn=a)["PermissionSet"] for a in sets]
    (admin_set,) = [d for d in described if d["Name"] == "AdministratorAccess"]
    assert sso.admin.list_managed_policies_in_permission_set(InstanceArn=sso.instance, PermissionSetArn=admin_set["PermissionSetArn"])[
        "AttachedManagedPolicies"] == [{"Name": "AdministratorAccess", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess"}]

    # Signing out of the console ends its role session; the portal stays signed in and /console
    # offers the management account's roles.
    page.click("#signout")
    expect(page).to_have_url(re.compile(r"/start/$"))
    replay = browser.new_context()
    replay.add_cookies([{"name": n, "value": cookies[n]["value"], "url": base(server) + ("/console" if n == "gh_console" else "/")}
                        for n in ("gh_session", "gh_console")])
    old = replay.new_page()
    old.goto(base(server) + "/console")
    expect(old.locator("h1")).to_have_text("Open the console")
    replay.close()
    page.goto(base(server) + "/console")
    expect(page.locator("h1")).to_have_text("Open the console")
    expect(page.locator("#roles a")).to_have_text(["AdministratorAccess"])

    # Open it again; signing out of the portal ends the console with it.
    page.locator("#roles a").click()
    expect(page.locator("#role")).to_have_text("AdministratorAccess")
    page.goto(base(server) + "/start/")
    page.click("#signout-submit")
    page.goto(base(server) + "/console")
    expect(page).to_have_url(re.compile(r"/start/signin"))

    # A sign-out form posted without its CSRF token is refused.
    assert page.request.post(base(server) + "/console/signout", form={"csrf": "forged"}).status == 403

    events = [json.loads(line) for line in server.cli("audit", "export", "--since", "1h").splitlines()]
    federated = [e for e in events if e["eventName"] == "Federate" and e["requestParameters"].get("accountId") == management]
    assert len(federated) == 2 and all(e["responseElements"]["console"] == "gatehouse" for e in federated)
    ended = [e for e in events if e["eventName"] == "EndConsoleSession"]
    assert len(ended) == 1 and ended[0]["userIdentity"]["type"] == "AssumedRole"
    read = [e for e in events if e["eventName"] == "DescribeInstance"
            and e["userIdentity"].get("arn", "").endswith("/Administrator") and "assumed-role" in e["userIdentity"]["arn"]]
    assert read, "the dashboard reads the instance as the role session"


def delete_configuration(page, word="DELETE"):
    """Settings → Delete Gatehouse configuration: every acknowledgement ticked, `word` typed, submitted."""
    for box in page.locator("input.acknowledge").all():
        box.check()
    page.fill("#confirmation", word)
    page.click("#delete-configuration")


def test_each_console_page_acts_as_the_role_it_was_opened_with(server, browser):
    """A read-only role sees the settings; a role whose policy does not allow DescribeInstance
    sees why not; a role the person does not hold is refused."""
    sso = Sso(server)
    management = management_account(server)
    make_user(server, (sso.ids, sso.store_id), "rita")
    user = sso.ids.get_user_id(IdentityStoreId=sso.store_id, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "rita"}})["UserId"]
    read_only = sso.permission_set(name="ReadOnly")["PermissionSetArn"]
    sso.admin.attach_managed_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=read_only,
                                                      ManagedPolicyArn="arn:aws:iam::aws:policy/AWSSSOReadOnly")
    narrow = sso.permission_set(name="Narrow")["PermissionSetArn"]
    sso.admin.put_inline_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=narrow, InlinePolicy=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "identitystore:ListUsers", "Resource": "*"}]}))
    for arn in (read_only, narrow):
        assert sso.wait("create", sso.assign(management, arn, user))["Status"] == "SUCCEEDED"

    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, server, "rita", PASSWORD)
    expect(page.locator("#user-name")).to_have_text("rita")
    page.goto(f"{base(server)}/start/aws/{management}/ReadOnly/console")
    expect(page.locator("#role")).to_have_text("ReadOnly")
    expect(page.locator("#instance-arn")).to_have_text(sso.instance)
    # AWSSSOReadOnly does not list the identity store's users.
    page.click("#nav-users")
    expect(page.locator("#users-unavailable")).to_contain_text("not authorized to perform: identitystore:ListUsers")
    # A read-only role's forms are refused by the server, not only hidden.
    page.goto(f"{base(server)}/console/groups/new")
    page.fill("#name", "Shadow admins")
    page.click("#create-group-submit")
    expect(page.locator("#error")).to_contain_text("not authorized to perform: identitystore:CreateGroup")
    page.goto(f"{base(server)}/console/settings/identity-source/change?to=external-idp")
    page.fill("#confirmation", "ACCEPT")
    page.click("#change-submit")
    expect(page.locator("main")).to_contain_text("not authorized")
    page.goto(f"{base(server)}/console/settings/delete")
    delete_configuration(page)
    expect(page.locator("#error")).to_contain_text("not authorized to perform: sso:DeleteInstance")
    assert sso.ids.list_groups(IdentityStoreId=sso.store_id)["Groups"] == []
    # AWS accounts and permission sets: seen, not changed.
    page.click("#nav-accounts")
    expect(page.locator(f"#account-{management} .account-name a")).to_be_visible()
    page.click("#tab-permission-sets")
    expect(page.locator("tr.permission-set .ps-name")).to_have_text(["AdministratorAccess", "Narrow", "ReadOnly"])
    page.click("#create-permission-set")
    page.check("#kind-job")
    page.click("#next-details")
    page.check("#job-AdministratorAccess")
    page.click("#next-tags")
    page.click("#next-review")
    page.click("#create-submit")
    expect(page.locator("#error")).to_contain_text("not authorized to perform: sso:CreatePermissionSet")
    page.goto(f"{base(server)}/console/permission-sets")
    page.locator("tr.permission-set .ps-name a", has_text="ReadOnly").click()
    page.click("#edit-general")
    page.select_option("#session_duration", "PT12H")
    page.click("#continue")
    expect(page.locator("#error")).to_contain_text("not authorized to perform: sso:UpdatePermissionSet")
    page.goto(f"{base(server)}/console/accounts/{management}")
    page.locator("tr.assignment", has_text="ReadOnly").locator(".remove-access").click()
    page.click("#remove-submit")
    expect(page.locator("#error")).to_contain_text("not authorized to perform: sso:DeleteAccountAssignment")
    assert len(sso.admin.list_permission_sets(InstanceArn=sso.instance)["PermissionSets"]) == 3

    page.goto(f"{base(server)}/start/aws/{management}/Narrow/console")
    expect(page.locator("#role")).to_have_text("Narrow")
    expect(page.locator("#settings-unavailable")).to_contain_text("not authorized to perform: sso:DescribeInstance")
    # Users: listed, searched (username, display name or email), names escaped.
    page.click("#nav-users")
    expect(page.locator("tr.user .user-name")).to_have_text(["Administrator", "rita"])
    page.fill("#q", "RIT")
    page.click("#search-submit")
    expect(page.locator("tr.user .user-name")).to_have_text(["rita"])
    page.fill("#q", "rita@example")
    page.click("#search-submit")
    expect(page.locator("tr.user .user-name")).to_have_text(["rita"])
    page.fill("#q", "<b>nobody</b>")
    page.click("#search-submit")
    expect(page.locator("#no-users")).to_have_text("No user matches “<b>nobody</b>”.")
    # Listing is allowed, describing a user is not: the details page says so.
    page.click("#nav-users")
    page.click("tr.user .user-name a >> text=rita")
    expect(page.locator("h1")).to_have_text("User details are unavailable")
    expect(page.locator("main")).to_contain_text("identitystore:DescribeUser")
    page.goto(f"{base(server)}/console/groups")
    expect(page.locator("#groups-unavailable")).to_contain_text("not authorized to perform: identitystore:ListGroups")

    refused = page.goto(f"{base(server)}/start/aws/{management}/AdministratorAccess/console")
    assert refused.status == 403
    expect(page.locator("#error")).to_contain_text("no access to role AdministratorAccess")
