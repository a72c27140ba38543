"""Active Directory over LDAP as the identity source, against a real OpenLDAP slapd holding an
AD-shaped tree (tests/py/ldap_server.py): sign-in by LDAP bind in the three user-name forms,
just-in-time users, synchronization of the assigned users and groups with nested groups
flattened, deletion, attribute mappings, and the guide's transitions to and from Active Directory.
Every change is made the way an administrator would: the `gatehouse` command line, boto3."""
import json
import re
import subprocess
import time

import botocore.exceptions
import pytest
import requests

from ldap_server import directory  # noqa: F401  (the fixture)
from test_external_idp import PeerIdp, use_peer
from test_permission_sets import Sso
from test_portal import browser  # noqa: F401  (the fixture)
from test_saml_apps import PASSWORD, base, make_user


def connect(server, d, tmp_path, *extra):
    """`identity-source set-ldap` with StartTLS and the directory's CA, then switch to it."""
    (tmp_path / "ldap-ca.pem").write_text(d.ca_pem)
    server.cli("identity-source", "set-ldap", "--url", d.ldap_url, "--start-tls", "true", "--ca-file", str(tmp_path / "ldap-ca.pem"),
               "--bind-dn", d.bind_dn, "--bind-password", d.bind_password, "--user-base-dn", d.users_dn,
               "--group-base-dn", d.groups_dn, "--domain", d.domain, *extra)


def use_directory(server, d, tmp_path):
    connect(server, d, tmp_path)
    server.cli("identity-source", "change", "active-directory", "--confirm", "CONFIRM")


def refused(server, *args):
    done = subprocess.run(server.args(*args), capture_output=True, text=True)
    assert done.returncode != 0, done.stdout
    return done.stderr


def sign_in(server, name, password):
    """Sign in at the portal without JavaScript; the page the browser lands on."""
    page = requests.Session()
    form = page.get(base(server) + "/start/signin?next=/start/")
    assert form.status_code == 200, form.text[:2000]
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return page.post(base(server) + "/start/signin", data={"csrf": csrf, "next": "/start/", "username": name, "password": password})


def signed_in_as(page):
    m = re.search(r'id="user-name">([^<]+)<', page.text)
    return m and m.group(1)


def user(ids, name):
    client, store = ids
    uid = client.get_user_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": name}})["UserId"]
    return client.describe_user(IdentityStoreId=store, UserId=uid)


def users(ids):
    client, store = ids
    return sorted(u["UserName"] for u in client.list_users(IdentityStoreId=store)["Users"])


def members(ids, group_id):
    client, store = ids
    got = client.list_group_memberships(IdentityStoreId=store, GroupId=group_id)["GroupMemberships"]
    return sorted(client.describe_user(IdentityStoreId=store, UserId=m["MemberId"]["UserId"])["UserName"] for m in got)


def group_named(ids, name):
    client, store = ids
    return client.get_group_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": name}})["GroupId"]


def sync(server):
    return json.loads(server.cli("-o", "json", "identity-source", "sync"))


def upn(sam):
    return f"{sam}@corp.example.com"


def test_connection_is_checked_before_it_is_saved(server, directory, tmp_path):
    d = directory
    (tmp_path / "ca.pem").write_text(d.ca_pem)
    good = {"--url": d.ldaps_url, "--bind-dn": d.bind_dn, "--bind-password": d.bind_password, "--user-base-dn": d.users_dn,
            "--group-base-dn": d.groups_dn, "--domain": d.domain, "--ca-file": str(tmp_path / "ca.pem")}

    def set_ldap(**changes):
        options = dict(good, **{"--" + k.replace("_", "-"): v for k, v in changes.items()})
        return ["identity-source", "set-ldap", *[x for kv in options.items() if kv[1] is not None for x in kv]]

    assert "clear" in refused(server, *set_ldap(url=d.ldap_url)), "plain LDAP is refused unless allowed"
    assert "unavailable" in refused(server, *set_ldap(ca_file=None)).lower(), "TLS fails without the directory's CA"
    assert "was refused" in refused(server, *set_ldap(bind_password="wrong")), "a wrong service password"
    assert "32" in refused(server, *set_ldap(user_base_dn="ou=Nowhere," + d.base)), "a missing base DN"
    assert "Active Directory is not configured" in refused(server, "identity-source", "change", "active-directory", "--confirm", "CONFIRM")
    assert json.loads(server.cli("-o", "json", "identity-source", "show")).get("ldap") is None, "nothing was saved"
    # ldaps:// with the CA works, and so does StartTLS; the password is never shown.
    server.cli(*set_ldap())
    server.cli(*set_ldap(url=d.ldap_url, start_tls="true"))
    shown = json.loads(server.cli("-o", "json", "identity-source", "show"))
    assert shown["ldap"]["url"] == d.ldap_url and shown["ldap"]["start_tls"] is True
    assert "bind_password_sealed" not in shown["ldap"] and d.bind_password not in json.dumps(shown)
    assert shown["ldap"]["mappings"]["subject"] == "${dir:windowsUpn}", "the guide's default mappings"


def test_sign_in_by_ldap_bind_in_three_forms_with_jit_users(server, ids, directory, tmp_path):
    d = directory
    use_directory(server, d, tmp_path)
    assert users(ids) == [], "the switch to Active Directory deleted the Gatehouse directory's users"

    # First sign-in creates the user just in time, from the guide's default mappings.
    page = sign_in(server, "alice", d.PASSWORDS["alice"])
    assert signed_in_as(page) == upn("alice"), page.text[:2000]
    alice = user(ids, upn("alice"))
    assert alice["Name"] == {"GivenName": "Alice", "FamilyName": "Liddell", "MiddleName": "B"}
    assert alice["DisplayName"] == "Alice B. Liddell"
    assert alice["Emails"] == [{"Value": upn("alice"), "Type": "work", "Primary": True}]
    assert alice["ExternalIds"] == [{"Issuer": "ActiveDirectory", "Id": d.guid(d.user_dn("alice"))}]
    for form in ("CORP\\alice", "corp\\alice", upn("alice"), "ALICE"):
        assert signed_in_as(sign_in(server, form, d.PASSWORDS["alice"])) == upn("alice"), form
    assert users(ids) == [upn("alice")], "one user, whatever form the name was typed in"

    for name, password in [("alice", "wrong"), ("alice", ""), ("OTHER\\alice", d.PASSWORDS["alice"]),
                           ("nobody", "x"), ("bob", d.PASSWORDS["alice"]), ("*", d.PASSWORDS["alice"])]:
        page = sign_in(server, name, password)
        assert signed_in_as(page) is None and "incorrect" in page.text, name
    # An account disabled in the directory cannot sign in.
    d.modify(d.user_dn("bob"), userAccountControl="514")
    assert signed_in_as(sign_in(server, "bob", d.PASSWORDS["bob"])) is None
    # Attributes are refreshed at each sign-in.
    d.modify(d.user_dn("alice"), sn="Hargreaves")
    sign_in(server, "alice", d.PASSWORDS["alice"])
    assert user(ids, upn("alice"))["Name"]["FamilyName"] == "Hargreaves"
    # Users, groups, memberships and passwords are the directory's: the identity store refuses
    # to change them, whatever the client.
    client, store = ids
    for call, args in [(client.create_user, {"UserName": "mallory", "DisplayName": "M", "Name": {"GivenName": "M", "FamilyName": "M"}}),
                       (client.create_group, {"DisplayName": "Local"}),
                       (client.delete_user, {"UserId": alice["UserId"]})]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(IdentityStoreId=store, **args)
        assert e.value.response["Error"]["Code"] == "ConflictException", e.value.response
        assert "Active Directory" in e.value.response["Error"]["Message"]
    assert "Active Directory" in refused(server, "user", "reset-password", alice["UserId"])
    # No Gatehouse password exists: the directory's is the only one.
    events = [json.loads(line) for line in server.cli("-o", "json", "audit", "tail", "-n", "300").splitlines()]
    created = [e for e in events if e["eventName"] == "CreateUser" and e["requestParameters"].get("userName") == upn("alice")]
    assert len(created) == 1 and created[0]["additionalEventData"]["reason"] == "directory sign-in"


def test_sync_flattens_nested_groups_and_follows_the_directory(server, ids, directory, moto, tmp_path):
    d = directory
    sso = Sso(server)
    sso.connect(moto)
    account = sso.add_account()
    ps = sso.permission_set(name="Engineers")
    use_directory(server, d, tmp_path)

    # The group is looked up in the directory by name, then assigned; the sync brings its members.
    eng = group_named(ids, "Engineering")
    assert sso.wait("create", sso.assign(account, ps["PermissionSetArn"], eng, "GROUP"))["Status"] == "SUCCEEDED"
    summary = sync(server)
    assert summary["usersCreated"] == 3 and summary["groupsCreated"] == 2 and not summary["skipped"], summary
    # Engineering ⊃ Backend ⊃ Platform ⊃ Engineering (a cycle): every user of the nest, flattened.
    assert members(ids, eng) == [upn("alice"), upn("bob"), upn("carol")]
    backend, platform = group_named(ids, "Backend"), group_named(ids, "Platform")
    assert members(ids, backend) == [upn("alice"), upn("bob"), upn("carol")]
    assert members(ids, platform) == [upn("alice"), upn("bob"), upn("carol")]
    assert users(ids) == [upn("alice"), upn("bob"), upn("carol")], "Sales and erin are not assigned"
    # The synchronized user reaches the account.
    page = sign_in(server, "carol", d.PASSWORDS["carol"])
    assert signed_in_as(page) == upn("carol")
    assert sync(server)["usersUpdated"] == 0, "nothing changed, nothing written"

    # Membership and attribute changes in the directory.
    d.remove_member(d.group_dn("Backend"), d.group_dn("Platform"))
    d.modify(d.user_dn("bob"), sn="Mason")
    summary = sync(server)
    assert summary["membershipsRemoved"] >= 1 and summary["usersUpdated"] == 1, summary
    assert members(ids, eng) == [upn("alice"), upn("bob")]
    assert user(ids, upn("bob"))["Name"]["FamilyName"] == "Mason"

    # Mapping changes apply at the next synchronization.
    server.cli("identity-source", "mappings", "name=${dir:firstname} ${dir:lastname}", "email=${dir:proxyAddresses:smtp}")
    assert "not a supported attribute" in refused(server, "identity-source", "mappings", "email=${dir:mobile}")
    sync(server)
    bob = user(ids, upn("bob"))
    assert bob["DisplayName"] == "Bob Mason" and bob["Emails"][0]["Value"] == "bob@old.example.com"

    # A JIT user outside the assignments stays until the directory deletes it; deletion propagates.
    assert signed_in_as(sign_in(server, "erin", d.PASSWORDS["erin"])) == upn("erin")
    sync(server)
    assert upn("erin") in users(ids)
    d.delete(d.user_dn("erin"))
    d.delete(d.user_dn("alice"))
    d.delete(d.group_dn("Platform"))
    summary = sync(server)
    assert summary["usersDeleted"] == 2 and summary["groupsDeleted"] == 1, summary
    assert users(ids) == [upn("bob"), upn("carol")]
    assert members(ids, eng) == [upn("bob")]
    # The guide: in Active Directory, deleting identities does not delete assignments.
    got = sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account, PermissionSetArn=ps["PermissionSetArn"])
    assert [a["PrincipalId"] for a in got["AccountAssignments"]] == [eng]
    assert signed_in_as(sign_in(server, "alice", d.PASSWORDS["alice"])) is None, "gone from the directory, gone"


def test_periodic_synchronization(server, ids, directory, moto, tmp_path):
    """Without anyone asking: the first synchronization after connecting runs at the next check,
    then one every interval."""
    import signal
    d = directory
    sso = Sso(server)
    sso.connect(moto)
    account = sso.add_account()
    ps = sso.permission_set(name="Sales")
    use_directory(server, d, tmp_path)
    sales = group_named(ids, "Sales")
    assert sso.wait("create", sso.assign(account, ps["PermissionSetArn"], sales, "GROUP"))["Status"] == "SUCCEEDED"
    server.kill(signal.SIGTERM)
    server.start(env={"GATEHOUSE_DIRECTORY_SYNC_CHECK_SECONDS": "1"})
    ids = (server.client(), ids[1])  # the restarted server listens on a new port
    deadline = time.time() + 60
    while members(ids, sales) != [upn("dave")]:
        assert time.time() < deadline, "no synchronization ran by itself"
        time.sleep(0.5)
    last = json.loads(server.cli("-o", "json", "identity-source", "show"))["ldap"]["last_sync"]
    assert last["usersCreated"] == 1 and last["error"] is None, last
    events = [json.loads(line) for line in server.cli("-o", "json", "audit", "tail", "-n", "200").splitlines()]
    assert any(e["eventName"] == "SyncDirectory" and e["userAgent"] == "gatehouse-directory-sync" for e in events)


def test_transitions_to_and_from_active_directory_delete_users_groups_and_assignments(server, ids, directory, moto, tmp_path):
    """The guide's "Considerations for changing your identity source", each transition that
    involves Active Directory (between the Gatehouse directory and an external IdP, everything
    stays: test_external_idp.py)."""
    d = directory
    client, store = ids
    sso = Sso(server)
    sso.connect(moto)
    account = sso.add_account()
    ps = sso.permission_set(name="Readers")

    # Gatehouse directory → Active Directory: every user, group and assignment goes.
    ada = make_user(server, ids, "ada@example.com", email="ada@example.com")
    team = client.create_group(IdentityStoreId=store, DisplayName="Team")["GroupId"]
    client.create_group_membership(IdentityStoreId=store, GroupId=team, MemberId={"UserId": ada})
    assert sso.wait("create", sso.assign(account, ps["PermissionSetArn"], ada))["Status"] == "SUCCEEDED"
    connect(server, d, tmp_path)
    assert "type CONFIRM" in refused(server, "identity-source", "change", "active-directory", "--confirm", "ACCEPT")
    server.cli("identity-source", "change", "active-directory", "--confirm", "CONFIRM")
    assert users(ids) == [] and client.list_groups(IdentityStoreId=store)["Groups"] == []
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account,
                                              PermissionSetArn=ps["PermissionSetArn"])["AccountAssignments"] == []
    assert signed_in_as(sign_in(server, "ada@example.com", PASSWORD)) is None

    # Active Directory → Gatehouse directory: the directory's users go too.
    assert signed_in_as(sign_in(server, "alice", d.PASSWORDS["alice"])) == upn("alice")
    eng = group_named(ids, "Engineering")
    assert sso.wait("create", sso.assign(account, ps["PermissionSetArn"], eng, "GROUP"))["Status"] == "SUCCEEDED"
    server.cli("identity-source", "change", "directory", "--confirm", "CONFIRM")
    assert users(ids) == [] and client.list_groups(IdentityStoreId=store)["Groups"] == []
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account,
                                              PermissionSetArn=ps["PermissionSetArn"])["AccountAssignments"] == []
    assert signed_in_as(sign_in(server, "alice", d.PASSWORDS["alice"])) is None, "directory passwords no longer count"

    # External IdP → Active Directory, and back: each deletes everything again.
    make_user(server, ids, "bea@example.com", email="bea@example.com")
    use_peer(server, PeerIdp(server, tmp_path), tmp_path)
    assert users(ids) == ["bea@example.com"], "directory → external IdP keeps users"
    server.cli("identity-source", "change", "active-directory", "--confirm", "CONFIRM")
    assert users(ids) == []
    assert signed_in_as(sign_in(server, "bob", d.PASSWORDS["bob"])) == upn("bob")
    server.cli("identity-source", "change", "external-idp", "--confirm", "ACCEPT")
    assert users(ids) == []


def test_console_identity_source_wizard_and_directory_settings(server, ids, directory, browser, tmp_path):
    """Settings → Identity source in the console (Chromium), the guide's To change your identity
    source: the wizard shows each transition's consequences and needs the typed word. To connect
    to an external identity provider (its metadata file chosen with Browse), To check the current
    status of a certificate (the expiry colours); then To connect AWS SSO to AWS Managed Microsoft
    AD, after which a directory user holding the management account's administrator role
    synchronizes and edits the mappings there (To map attributes in AWS SSO to attributes in your
    directory)."""
    from playwright.sync_api import expect
    from test_console import management_account, open_home_with_role
    from test_portal import first_sign_in

    d = directory
    ctx = browser.new_context()
    page = ctx.new_page()
    first_sign_in(page, server)
    management = management_account(server)

    def open_console(role="AdministratorAccess"):
        link = open_home_with_role(page, server, management, role)
        page.locator(f"#account-{management} summary").click()
        link.click()
        expect(page.locator("#role")).to_have_text(role)

    def choose(kind):
        page.goto(base(server) + "/console/settings/identity-source/change")
        page.check(f"#to-{kind}")
        page.click("#next")

    open_console()
    page.click("#nav-settings")
    page.click("#identity-source-settings")
    expect(page.locator("#source-kind")).to_have_text("DIRECTORY")

    # To an external IdP: consequences, the IdP's metadata, ACCEPT.
    peer = PeerIdp(server, tmp_path)
    choose("external-idp")
    expect(page.locator("#consequences li").first).to_contain_text("All users, groups and assignments are kept")
    expect(page.locator("#confirm-word")).to_have_text("ACCEPT")
    # Browse for the IdP's metadata file.
    page.set_input_files("#idp_metadata_file", files=[{"name": "idp-metadata.xml", "mimeType": "application/xml",
                                                        "buffer": peer.metadata().encode()}])
    expect(page.locator("#idp_metadata")).to_have_value(re.compile("EntityDescriptor"))
    page.fill("#confirmation", "CONFIRM")
    page.click("#change-submit")
    expect(page.locator("#error")).to_contain_text("type ACCEPT")
    page.fill("#confirmation", "ACCEPT")
    page.click("#change-submit")
    expect(page.locator("#notice")).to_contain_text("External identity provider")
    expect(page.locator("#source-kind")).to_have_text("EXTERNAL_IDP")
    # The peer's certificate is valid for days, not months: the guide's yellow.
    expect(page.locator("tr.certificate .expiry")).to_have_text(["Expires soon"])
    assert "yellow" in page.locator("tr.certificate .expiry").get_attribute("class")
    page.click("tr.certificate .delete-certificate")
    expect(page.locator("#confirm-title")).to_have_text("Delete SAML 2.0 certificate")
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    expect(page.locator("#error")).to_contain_text("only certificate")

    # Back to the Gatehouse directory (the console session goes on: everything is kept).
    choose("directory")
    expect(page.locator("#confirm-word")).to_have_text("CONFIRM")
    page.fill("#confirmation", "CONFIRM")
    page.click("#change-submit")
    expect(page.locator("#source-kind")).to_have_text("DIRECTORY")

    # To Active Directory: the connection is tested first, and the consequences say what goes.
    choose("active-directory")
    expect(page.locator("#consequences")).to_contain_text("deletes all users, groups, group memberships and assignments")
    page.fill("#url", d.ldaps_url)
    page.fill("#ca_pem", d.ca_pem)
    page.fill("#bind_dn", d.bind_dn)
    page.fill("#bind_password", "wrong")
    page.fill("#user_base_dn", d.users_dn)
    page.fill("#group_base_dn", d.groups_dn)
    page.fill("#domain", d.domain)
    page.fill("#confirmation", "CONFIRM")
    page.click("#change-submit")
    expect(page.locator("#error")).to_contain_text("was refused")
    expect(page.locator("#bind_dn")).to_have_value(d.bind_dn)
    page.fill("#bind_password", d.bind_password)
    page.fill("#confirmation", "CONFIRM")
    page.click("#change-submit")
    # The administrator was a Gatehouse user: deleted with the others, so the console is gone.
    expect(page).to_have_url(re.compile(r"/start/signin"))
    assert json.loads(server.cli("-o", "json", "identity-source", "show"))["kind"] == "ACTIVE_DIRECTORY"

    # A directory group gets the management account's administrator role; alice opens the console.
    sso = Sso(server)
    admin_set = [a for a in sso.admin.list_permission_sets(InstanceArn=sso.instance)["PermissionSets"]
                 if sso.admin.describe_permission_set(InstanceArn=sso.instance, PermissionSetArn=a)["PermissionSet"]["Name"] == "AdministratorAccess"][0]
    eng = group_named(ids, "Engineering")
    assert sso.wait("create", sso.assign(management, admin_set, eng, "GROUP"))["Status"] == "SUCCEEDED"
    sync(server)
    page.fill("#username", "CORP\\alice")
    page.fill("#password", d.PASSWORDS["alice"])
    page.click("#signin-submit")
    # Signed in, the browser goes back where it was: the console, which offers the role.
    expect(page.locator("h1")).to_have_text("Open the console")
    page.locator("#roles a").click()
    expect(page.locator("#user")).to_have_text(upn("alice"))
    page.click("#nav-settings")
    page.click("#identity-source-settings")
    expect(page.locator("#ldap-url")).to_have_text(d.ldaps_url)
    d.add_member(d.group_dn("Engineering"), d.user_dn("erin"))
    page.click("#sync-now")
    expect(page.locator("#notice")).to_contain_text("1 created")
    assert members(ids, eng) == [upn("alice"), upn("bob"), upn("carol"), upn("erin")]
    page.fill("#map-name", "${dir:lastname}, ${dir:firstname}")
    page.click("#save-mappings")
    expect(page.locator("#notice")).to_have_text("Attribute mappings saved.")
    page.fill("#map-email", "${dir:phone}")
    page.click("#save-mappings")
    expect(page.locator("#error")).to_contain_text("not a supported attribute")
    page.click("#sync-now")
    expect(page.locator("#notice")).to_contain_text("Synchronized")
    assert user(ids, upn("erin"))["DisplayName"] == "Brockovich, Erin"
    ctx.close()
