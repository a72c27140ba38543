"""The guide's AWS accounts procedures in the console, end to end in a real browser (Debian's
chromium through Playwright), each named as the guide names it; a screenshot of every page goes
to test-output/console/. Member accounts are moto_server's IAM, as in test_permission_sets.

Procedures covered here:
- To create a permission set (Use an existing job function policy; Create a custom permission
  set: details, AWS managed policies, a custom permissions policy, tags, review)
- To set the session duration, To set the relay state (Edit, Continue, select accounts, Reprovision)
- Attaching and detaching a managed policy, editing the inline policy
- To delete a permissions set from an AWS account (the dialog; refused while provisioned)
- To manage tags (edit, add, remove; Save changes)
- To grant permissions to manage SSO access to users in your directory
- To assign access to users or groups (select accounts, Assign users, select users or groups,
  Next: Permission sets, Finish; the 10-account limit)
- To remove user access from an AWS account (the Remove access dialog)
- To repair an identity provider for an AWS account, To remove the IAM identity provider
- To delete your AWS SSO configuration (Settings: the check boxes, DELETE typed; refused while a
  permission set is provisioned to a member account)
"""

import json
import time

from playwright.sync_api import expect

from test_console import delete_configuration, management_account
from test_console_procedures import Console, backend_of
from test_permission_sets import INLINE, Sso, role_of
from test_portal import base, browser, sign_in  # noqa: F401 (browser is a fixture)


def events(server, name):
    return [e for e in (json.loads(line) for line in server.cli("audit", "export", "--since", "1h").splitlines())
            if e["eventName"] == name]


def test_to_create_a_permission_set_set_its_properties_and_delete_it(server, browser):
    sso = Sso(server)
    c = Console(server, browser, backend_of(server))
    page = c.page

    # To create a permission set: Use an existing job function policy.
    page.click("#nav-accounts")
    c.shot("aws-accounts")
    page.click("#tab-permission-sets")
    c.shot("permission-sets")
    page.click("#create-permission-set")
    c.shot("create-permission-set-type")
    page.check("#kind-job")
    page.click("#next-details")
    page.click("#next-tags")
    expect(page.locator("#error")).to_have_text("Select a job function policy.")
    c.shot("create-permission-set-job-functions")
    page.check("#job-ViewOnlyAccess")
    page.click("#next-tags")
    page.locator(".tag-key").first.fill("team")
    page.locator(".tag-value").first.fill("<b>ops</b>")
    c.shot("create-permission-set-tags")
    page.click("#next-review")
    expect(page.locator("#review-name")).to_have_text("ViewOnlyAccess")
    expect(page.locator("#review-managed")).to_have_text("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
    expect(page.locator("#review-tags")).to_have_text("team=<b>ops</b>")
    c.shot("create-permission-set-review")
    page.click("#create-submit")
    expect(page.locator("#ps-title")).to_have_text("ViewOnlyAccess")
    expect(page.locator("#notice")).to_contain_text("was created")
    expect(page.locator("#managed-policies .policy-name")).to_have_text(["ViewOnlyAccess"])
    expect(page.locator("#tag-list tr.tag .tag-value")).to_have_value("<b>ops</b>")
    c.shot("permission-set-details")

    # To manage tags: edit a value, add a tag, then remove one; Save changes each time.
    vo_arn = page.locator("#ps-arn").inner_text()
    page.locator("#tag-list tr.tag .tag-value").fill("platform")
    page.locator("tr.new-tag .tag-key").first.fill("cost-center")
    page.locator("tr.new-tag .tag-value").first.fill("42")
    page.click("#save-tags")
    expect(page.locator("#notice")).to_have_text("The tags were saved.")
    tags = lambda: {t["Key"]: t.get("Value", "") for t in sso.admin.list_tags_for_resource(  # noqa: E731
        InstanceArn=sso.instance, ResourceArn=vo_arn)["Tags"]}
    assert tags() == {"team": "platform", "cost-center": "42"}
    page.locator("#tag-list tr.tag", has=page.locator("input[value='team']")).locator(".remove-tag").check()
    page.locator("tr.new-tag .tag-key").first.fill("aws:reserved")
    page.click("#save-tags")
    expect(page.locator("#error")).to_contain_text("reserved")
    assert tags() == {"team": "platform", "cost-center": "42"}
    page.locator("#tag-list tr.tag", has=page.locator("input[value='team']")).locator(".remove-tag").check()
    page.click("#save-tags")
    assert tags() == {"cost-center": "42"}

    # Create a custom permission set: each step is checked before the next.
    page.click("#nav-accounts")
    page.click("#tab-permission-sets")
    page.click("#create-permission-set")
    page.check("#kind-custom")
    page.click("#next-details")
    page.fill("#name", "Data<script>")
    page.click("#next-tags")
    expect(page.locator("#error")).to_contain_text("Data<script>")
    page.fill("#name", "DataTeam")
    page.fill("#description", "Analysts' <i>reports</i>")
    page.select_option("#session_duration", "PT4H")
    page.fill("#relay_state", "https://console.aws.amazon.com/s3/home")
    page.check("#managed-ReadOnlyAccess")
    page.fill("#inline", '{"Version": "2012-10-17", "Statement": ')
    page.click("#next-tags")
    expect(page.locator("#error")).to_contain_text("not a valid policy document")
    expect(page.locator("#managed-ReadOnlyAccess")).to_be_checked()
    page.fill("#inline", INLINE)
    c.shot("create-permission-set-custom")
    page.click("#next-tags")
    page.click("#next-review")
    expect(page.locator("#review-name")).to_have_text("DataTeam")
    expect(page.locator("#review-duration")).to_have_text("PT4H")
    expect(page.locator("#review-inline")).to_have_text("Yes")
    page.click("#create-submit")
    expect(page.locator("#ps-title")).to_have_text("DataTeam")
    expect(page.locator("#ps-description")).to_have_text("Analysts' <i>reports</i>")
    expect(page.locator("#ps-duration")).to_have_text("4 hours")
    expect(page.locator("#ps-relay-state")).to_have_text("https://console.aws.amazon.com/s3/home")
    assert json.loads(page.locator("#inline-policy").input_value()) == json.loads(INLINE)
    arn = page.locator("#ps-arn").inner_text()
    described = sso.admin.describe_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)["PermissionSet"]
    assert (described["SessionDuration"], described["RelayState"]) == ("PT4H", "https://console.aws.amazon.com/s3/home")
    assert [p["Name"] for p in sso.admin.list_managed_policies_in_permission_set(
        InstanceArn=sso.instance, PermissionSetArn=arn)["AttachedManagedPolicies"]] == ["ReadOnlyAccess"]
    # One operation made it with its policies: one CreatePermissionSet event, no separate attach.
    created = [e for e in events(server, "CreatePermissionSet") if e["requestParameters"]["name"] == "DataTeam"]
    assert len(created) == 1 and created[0]["requestParameters"]["managedPolicyArns"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert "errorCode" not in created[0] or created[0]["errorCode"] is None

    # The same name again is refused at Create, and nothing is made.
    page.goto(base(server) + "/console/permission-sets/new")
    page.check("#kind-custom")
    page.click("#next-details")
    page.fill("#name", "datateam")
    page.click("#next-tags")
    page.click("#next-review")
    page.click("#create-submit")
    expect(page.locator("#error")).to_contain_text("already exists")
    assert len(sso.admin.list_permission_sets(InstanceArn=sso.instance)["PermissionSets"]) == 3

    # To grant permissions to manage SSO access to users in your directory: a custom permission
    # set with AWSSSOMasterAccountAdministrator and IAMFullAccess.
    page.goto(base(server) + "/console/permission-sets/new")
    page.check("#kind-custom")
    page.click("#next-details")
    page.fill("#name", "SSOAdmins")
    page.check("#managed-AWSSSOMasterAccountAdministrator")
    page.check("#managed-IAMFullAccess")
    page.click("#next-tags")
    page.click("#next-review")
    page.click("#create-submit")
    expect(page.locator("#managed-policies .policy-name")).to_have_text(["IAMFullAccess", "AWSSSOMasterAccountAdministrator"])

    # Attach and detach a managed policy; edit the inline policy.
    page.goto(base(server) + "/console/permission-sets")
    page.locator("tr.permission-set .ps-name a", has_text="DataTeam").click()
    page.select_option("#attach-arn", "arn:aws:iam::aws:policy/AWSSSOReadOnly")
    page.click("#attach-submit")
    expect(page.locator("#managed-policies .policy-name")).to_have_text(["ReadOnlyAccess", "AWSSSOReadOnly"])
    page.locator("tr.managed-policy", has_text="ReadOnlyAccess").first.locator(".detach-policy").click()
    expect(page.locator("#managed-policies .policy-name")).to_have_text(["AWSSSOReadOnly"])
    page.fill("#inline-policy", "not json")
    page.click("#save-inline")
    expect(page.locator("#error")).to_contain_text("not a valid policy document")
    page.click("#delete-inline")
    expect(page.locator("#notice")).to_have_text("The inline policy was deleted.")
    expect(page.locator("#inline-policy")).to_have_value("")

    # To set the session duration / the relay state: Edit → Continue; with no account to
    # reprovision it is saved at once.
    page.click("#edit-general")
    c.shot("edit-permission-set")
    page.select_option("#session_duration", "PT8H")
    page.fill("#relay_state", "https://console.aws.amazon.com/ec2/home")
    page.click("#continue")
    expect(page.locator("#notice")).to_have_text("The permission set was saved.")
    expect(page.locator("#ps-duration")).to_have_text("8 hours")
    expect(page.locator("#ps-relay-state")).to_have_text("https://console.aws.amazon.com/ec2/home")

    # Provisioned to the management account, the edit ends by choosing the accounts to reprovision.
    management = management_account(server)
    admin_id = sso.ids.list_users(IdentityStoreId=sso.store_id)["Users"][0]["UserId"]
    assert sso.wait("create", sso.assign(management, arn, admin_id))["Status"] == "SUCCEEDED"
    page.reload()
    expect(page.locator("tr.provisioned-account .provisioning-status")).to_have_text(["Provisioned"])
    page.click("#edit-general")
    page.select_option("#session_duration", "PT2H")
    page.click("#continue")
    expect(page.locator("#saved")).to_be_visible()
    c.shot("edit-permission-set-reprovision")
    page.click("#reprovision-submit")
    expect(page.locator("#error")).to_contain_text("choose at least one AWS account")
    page.check(f"#account-{management}")
    page.click("#reprovision-submit")
    expect(page.locator("#notice")).to_have_text("Reprovisioning to 1 account(s) has started.")
    expect(page.locator("#ps-duration")).to_have_text("2 hours")
    provisioned = events(server, "ProvisionPermissionSet")
    assert provisioned and provisioned[-1]["requestParameters"]["targetId"] == management

    # To delete a permission set: refused while provisioned, then through the dialog.
    page.click("#delete-permission-set")
    expect(page.locator("#delete-name")).to_have_text("DataTeam")
    page.click("#delete-submit")
    expect(page.locator("#error")).to_contain_text("still provisioned")
    page.goto(base(server) + "/console/permission-sets")
    page.locator("tr.permission-set", has_text="ViewOnlyAccess").locator(".delete-ps").click()
    c.shot("delete-permission-set")
    page.click("#delete-submit")
    expect(page.locator("#notice")).to_have_text("Permission set ViewOnlyAccess was deleted.")
    expect(page.locator("tr.permission-set .ps-name")).to_have_text(["AdministratorAccess", "DataTeam", "SSOAdmins"])


def test_to_assign_and_remove_user_access_and_repair_the_identity_provider(server, browser, moto):
    sso = Sso(server)
    sso.connect(moto)
    root = server.client("organizations").list_roots()["Roots"][0]["Id"]
    workloads = sso.ou("Workloads <prod>", root)
    prod = sso.add_account(parent=workloads)
    sandbox = sso.add_account()
    dana = sso.user("dana")
    analysts = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Analysts")["GroupId"]
    ps = sso.permission_set("Analyst")
    sso.admin.attach_managed_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=ps["PermissionSetArn"],
                                                      ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    c = Console(server, browser, backend_of(server))
    page = c.page

    # The organization: the root, the OU (its name escaped) and the accounts under each.
    page.click("#nav-accounts")
    expect(page.locator(f"#ou-{workloads} .ou-name strong")).to_have_text("Workloads <prod>")
    expect(page.locator("tr.account")).to_have_count(3)
    c.shot("aws-organization")

    # To assign access to users or groups.
    page.check(f"#select-{prod}")
    page.check(f"#select-{sandbox}")
    page.click("#assign-users")
    c.shot("assign-users-select")
    page.click("#next-permission-sets")
    expect(page.locator("#error")).to_have_text("Select at least one user or group.")
    page.fill("#q", "dan")
    page.click("#search-submit")
    expect(page.locator("#users-choice .choose-principal")).to_have_count(1)
    page.fill("#q", "")
    page.click("#search-submit")
    page.locator("input.choose-principal[data-name='dana']").check()
    page.locator("input.choose-principal[data-name='Analysts']").check()
    page.click("#next-permission-sets")
    c.shot("assign-users-permission-sets")
    page.locator("input.choose-ps[data-name='Analyst']").check()
    page.click("#finish")
    expect(page.locator("tr.request")).to_have_count(4)
    expect(page.locator("#assign-complete")).to_be_visible(timeout=60_000)
    expect(page.locator("tr.request .request-status")).to_have_text(["SUCCEEDED"] * 4)
    c.shot("assign-users-complete")
    for account in (prod, sandbox):
        assert role_of(moto, account, "Analyst") is not None
    assignments = sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=prod,
                                                     PermissionSetArn=ps["PermissionSetArn"])["AccountAssignments"]
    assert sorted((a["PrincipalType"], a["PrincipalId"]) for a in assignments) == sorted([("USER", dana), ("GROUP", analysts)])

    # The console assigns to at most 10 accounts at a time.
    many = "&".join(f"account={n:012d}" for n in range(11))
    page.goto(f"{base(server)}/console/accounts/assign?{many}")
    expect(page.locator("main")).to_contain_text("select at most 10")

    # To remove user access from an AWS account: the dialog names the user.
    page.goto(base(server) + "/console/accounts")
    page.locator(f"#account-{prod} .account-name a").click()
    expect(page.locator("tr.assignment .principal-name")).to_have_text(["Analysts", "dana"])
    c.shot("account-details")
    page.locator("tr.assignment", has_text="dana").locator(".remove-access").click()
    expect(page.locator("#remove-name")).to_have_text("dana")
    c.shot("remove-access")
    page.click("#remove-submit")
    expect(page.locator("#notice")).to_have_text("Access for dana is being removed.")
    deadline = time.time() + 60
    while len(sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=prod,
                                                 PermissionSetArn=ps["PermissionSetArn"])["AccountAssignments"]) != 1:
        assert time.time() < deadline, "the assignment was not removed"
        time.sleep(0.2)
    page.reload()
    expect(page.locator("tr.assignment .principal-name")).to_have_text(["Analysts"])

    # To remove the IAM identity provider, then To repair an identity provider.
    iam = moto.iam(prod)
    provider = iam.list_saml_providers()["SAMLProviderList"][0]["Arn"]
    page.click("#remove-idp")
    expect(page.locator("#notice")).to_have_text(f"The identity provider {provider} was removed.")
    assert iam.list_saml_providers()["SAMLProviderList"] == []
    page.click("#repair-idp")
    expect(page.locator("#notice")).to_have_text(f"The identity provider {provider} was repaired.")
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [provider]

    # The management account is Gatehouse's own: no identity provider to repair.
    management = management_account(server)
    page.goto(f"{base(server)}/console/accounts/{management}")
    expect(page.locator("#identity-provider")).to_contain_text("no IAM identity provider")
    expect(page.locator("#repair-idp")).to_have_count(0)


def test_to_delete_your_aws_sso_configuration(server, browser, moto):
    """Settings → Delete Gatehouse: every permission set, application, assignment, user and group
    goes, in one operation; the organization, access keys and the audit log stay; Gatehouse starts
    again with a new Administrator whose one-time password is shown once. Refused (and nothing
    deleted) while a permission set is still provisioned to a member account."""
    sso = Sso(server)
    sso.connect(moto)
    member = sso.add_account()
    dana = sso.user("dana")
    group = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Analysts")["GroupId"]
    sso.ids.create_group_membership(IdentityStoreId=sso.store_id, GroupId=group, MemberId={"UserId": dana})
    ps = sso.permission_set("Analyst")["PermissionSetArn"]
    assert sso.wait("create", sso.assign(member, ps, dana))["Status"] == "SUCCEEDED"
    assert role_of(moto, member, "Analyst") is not None
    app = sso.admin.create_application(InstanceArn=sso.instance, Name="Team wiki",
                                       ApplicationProviderArn="arn:aws:sso::aws:applicationProvider/custom-saml")["ApplicationArn"]
    sso.admin.create_application_assignment(ApplicationArn=app, PrincipalId=group, PrincipalType="GROUP")
    server.cli("scim", "enable")
    c = Console(server, browser, backend_of(server))
    page = c.page

    page.click("#nav-settings")
    page.click("#delete-gatehouse")
    expect(page.locator("#delete-title")).to_have_text("Delete Gatehouse configuration")
    expect(page.locator("input.acknowledge")).to_have_count(4)
    c.shot("delete-configuration")
    # Every check box, and DELETE exactly.
    page.locator("input.acknowledge").nth(0).check()
    page.fill("#confirmation", "DELETE")
    page.click("#delete-configuration")
    expect(page.locator("#error")).to_have_text("Select each check box to acknowledge what will be deleted (3 not selected).")
    delete_configuration(page, "delete")
    expect(page.locator("#error")).to_contain_text("Type DELETE to confirm")
    # A role provisioned into a member account would be left behind: refused, nothing deleted.
    delete_configuration(page)
    expect(page.locator("#error")).to_contain_text(f"still provisioned to AWS account {member}")
    assert [u["UserName"] for u in sso.ids.list_users(IdentityStoreId=sso.store_id)["Users"]].count("dana") == 1
    assert len(sso.admin.list_applications(InstanceArn=sso.instance)["Applications"]) == 1

    assert sso.wait("delete", sso.unassign(member, ps, dana))["Status"] == "SUCCEEDED"
    assert role_of(moto, member, "Analyst") is None
    page.goto(f"{base(server)}/console/settings/delete")
    delete_configuration(page)
    expect(page.locator("h1")).to_have_text("Gatehouse configuration deleted")
    expect(page.locator("#admin-user-name")).to_have_text("Administrator")
    otp = page.locator("#admin-one-time-password").inner_text()
    c.shot("configuration-deleted")

    # Gone: users and groups (but the new Administrator), permission sets (but the new
    # AdministratorAccess), applications, automatic provisioning. The bootstrap access key (these
    # clients) and the organization stay.
    users = sso.ids.list_users(IdentityStoreId=sso.store_id)["Users"]
    assert [u["UserName"] for u in users] == ["Administrator"]
    assert sso.ids.list_groups(IdentityStoreId=sso.store_id)["Groups"] == []
    sets = sso.admin.list_permission_sets(InstanceArn=sso.instance)["PermissionSets"]
    assert [sso.admin.describe_permission_set(InstanceArn=sso.instance, PermissionSetArn=a)["PermissionSet"]["Name"]
            for a in sets] == ["AdministratorAccess"]
    assert ps not in sets
    assert sso.admin.list_applications(InstanceArn=sso.instance)["Applications"] == []
    assert "Automatic provisioning: disabled" in server.cli("scim", "status")
    accounts = [a["Id"] for a in server.client("organizations").list_accounts()["Accounts"]]
    assert member in accounts and management_account(server) in accounts
    deleted = events(server, "DeleteInstance")
    assert [e.get("errorCode") for e in deleted] == ["ConflictException", None]
    assert deleted[-1]["userIdentity"]["arn"].endswith("/Administrator")
    assert deleted[-1]["responseElements"]["administratorUserId"] == users[0]["UserId"]

    # The old sessions ended with it; the new Administrator signs in with the password shown.
    page.goto(base(server) + "/console")
    expect(page.locator("main")).not_to_contain_text("Delete Gatehouse")
    ctx = browser.new_context()
    fresh = ctx.new_page()
    sign_in(fresh, server, "Administrator", otp)
    expect(fresh.locator("h1")).to_have_text("Choose a new password")
    ctx.close()
