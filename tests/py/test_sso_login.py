"""Signing in from the AWS CLI and SDKs (issue 8, first part): SSO OIDC device authorization
approved on the portal's real pages (a browser without JavaScript), then the portal API with the
bearer token — accounts, roles, role credentials from moto's STS for a member account and from
Gatehouse for the management account — driven by boto3's sso-oidc and sso clients, and by boto3
with an SSO profile reading the token cache as `aws sso login` leaves it."""

import datetime
import hashlib
import json
import os
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

from test_permission_sets import INLINE, Sso
from test_saml_apps import Page, Portal, base, make_user

ALLOW_LIST_USERS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["identitystore:ListUsers", "identitystore:DescribeUser"], "Resource": "*"}]})


def unsigned(service, endpoint):
    cfg = botocore.config.Config(retries={"max_attempts": 0}, signature_version=botocore.UNSIGNED)
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", config=cfg)


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def approve(server, user, verification_uri_complete, decision="approve"):
    """The person opens the link, signs in, checks the code and decides."""
    portal = Portal(server)
    landed = portal.open("GET", verification_uri_complete.replace("127.0.0.1", "localhost"), user=user)
    assert landed.status_code == 200, landed.text
    page = Page(landed.text)
    assert "client-name" in page.ids and "user-code" in page.ids, landed.text
    form = page.forms["decide"]
    done = portal.http.post(portal.base + form["action"], data=dict(form["fields"], decision=decision))
    assert done.status_code == 200, done.text
    return done


def login(server, oidc, user, decision="approve"):
    client = oidc.register_client(clientName="gatehouse-test", clientType="public", scopes=["sso:account:access"])
    start = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                            startUrl=base(server) + "/start")
    assert start["verificationUri"].endswith("/start/device") and start["expiresIn"] == 600 and start["interval"] >= 1
    grant = dict(clientId=client["clientId"], clientSecret=client["clientSecret"],
                 grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=start["deviceCode"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(**grant)
    assert code(e) == "AuthorizationPendingException"
    # Polling again at once is too fast. On a loaded machine one poll can take longer than the
    # interval, so a few immediate polls are allowed before one of them must be told to slow down.
    seen = []
    for _ in range(5):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            oidc.create_token(**grant)
        seen.append(code(e))
        if seen[-1] == "SlowDownException":
            break
    assert seen[-1] == "SlowDownException" and set(seen) <= {"SlowDownException", "AuthorizationPendingException"}, seen
    approve(server, user, start["verificationUriComplete"], decision)
    time.sleep(1.1)
    return client, grant


def sso_profile(config, cache, profile, start_url, account, role, client, token, default=""):
    """A profile with `sso_session` in `config`, and the token cache `aws sso login` would leave in
    `cache` (botocore looks the session's token up by the SHA-1 of the session name)."""
    config.write_text(f"""{default}[profile {profile}]
sso_session = gatehouse
sso_account_id = {account}
sso_role_name = {role}
region = us-east-1
cli_follow_urlparam = false

[sso-session gatehouse]
sso_start_url = {start_url}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
""")
    cache.mkdir(parents=True)
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=token["expiresIn"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    (cache / (hashlib.sha1(b"gatehouse").hexdigest() + ".json")).write_text(json.dumps({
        "startUrl": start_url, "region": "us-east-1", "accessToken": token["accessToken"], "expiresAt": expires,
        "clientId": client["clientId"], "clientSecret": client["clientSecret"], "registrationExpiresAt": expires,
        "refreshToken": token["refreshToken"]}))


def test_device_login_accounts_roles_credentials_refresh_and_logout(server, moto):
    sso = Sso(server)
    sso.connect(moto)
    member = sso.add_account()
    management = server.client("organizations").describe_organization()["Organization"]["MasterAccountId"]
    user = make_user(server, (sso.ids, sso.store_id), "carol")
    dev = sso.permission_set(name="Developer", SessionDuration="PT2H")
    sso.admin.attach_managed_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=dev["PermissionSetArn"],
                                                      ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sso.admin.put_inline_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=dev["PermissionSetArn"],
                                                  InlinePolicy=ALLOW_LIST_USERS)
    group = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Developers")["GroupId"]
    sso.ids.create_group_membership(IdentityStoreId=sso.store_id, GroupId=group, MemberId={"UserId": user})
    # Through the group in the member account, directly in the management account.
    assert sso.wait("create", sso.assign(member, dev["PermissionSetArn"], group, "GROUP"))["Status"] == "SUCCEEDED"
    assert sso.wait("create", sso.assign(management, dev["PermissionSetArn"], user))["Status"] == "SUCCEEDED"

    oidc = unsigned("sso-oidc", server.endpoint)
    client, grant = login(server, oidc, "carol")
    token = oidc.create_token(**grant)
    assert token["tokenType"] == "Bearer" and token["expiresIn"] > 0 and token["refreshToken"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(**grant)
    assert code(e) == "InvalidGrantException", "a device code works once"

    portal = unsigned("sso", server.endpoint)
    access = token["accessToken"]
    accounts = portal.list_accounts(accessToken=access)["accountList"]
    assert sorted(a["accountId"] for a in accounts) == sorted([member, management])
    assert {a["accountId"]: a["emailAddress"] for a in accounts}[member] == f"{member}@example.com"
    assert portal.list_account_roles(accessToken=access, accountId=member)["roleList"] == [
        {"roleName": "Developer", "accountId": member}]

    # A member account: credentials from its STS, for the permission set's role.
    creds = portal.get_role_credentials(accessToken=access, accountId=member, roleName="Developer")["roleCredentials"]
    assert creds["expiration"] > time.time() * 1000
    sts = boto3.client("sts", endpoint_url=moto.endpoint, region_name="us-east-1", aws_access_key_id=creds["accessKeyId"],
                       aws_secret_access_key=creds["secretAccessKey"], aws_session_token=creds["sessionToken"])
    # moto's STS accepted the assertion for the role in that account (it names every caller
    # "user/moto", so the account is what can be checked).
    assert sts.get_caller_identity()["Account"] == member

    # The management account: Gatehouse's own credentials under the permission set's policies.
    creds = portal.get_role_credentials(accessToken=access, accountId=management, roleName="Developer")["roleCredentials"]
    assert creds["accessKeyId"].startswith("ASIA")
    as_role = dict(key=creds["accessKeyId"], secret=creds["secretAccessKey"])
    ids = server.client("identitystore", **as_role)
    ids.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("X-Amz-Security-Token", creds["sessionToken"]))
    assert any(u["UserName"] == "carol" for u in ids.list_users(IdentityStoreId=sso.store_id)["Users"])
    admin = server.client("sso-admin", **as_role)
    admin.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("X-Amz-Security-Token", creds["sessionToken"]))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        admin.list_permission_sets(InstanceArn=sso.instance)
    assert code(e) == "AccessDeniedException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ids.delete_user(IdentityStoreId=sso.store_id, UserId=user)
    assert code(e) == "AccessDeniedException"

    # A role the person does not have.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        portal.get_role_credentials(accessToken=access, accountId=member, roleName="Administrator")
    assert code(e) == "ForbiddenException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # The refresh token renews the grant (and rotates); logout ends it.
    renewed = oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="refresh_token",
                                refreshToken=token["refreshToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="refresh_token",
                          refreshToken=token["refreshToken"])
    assert code(e) == "InvalidGrantException"
    access = renewed["accessToken"]
    assert portal.list_accounts(accessToken=access)["accountList"]
    portal.logout(accessToken=access)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        portal.list_accounts(accessToken=access)
    assert code(e) == "UnauthorizedException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="refresh_token",
                          refreshToken=renewed["refreshToken"])
    assert code(e) == "InvalidGrantException"

    # Disabling the person revokes their tokens; enabling them again does not bring them back.
    _, grant = login(server, oidc, "carol")
    access = oidc.create_token(**grant)["accessToken"]
    assert portal.list_accounts(accessToken=access)["accountList"]
    # The command line is another process: the server trusts what it read for READ_CACHE_TTL (1 s).
    server.cli("user", "disable", "carol")
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            portal.list_accounts(accessToken=access)
            time.sleep(0.1)
        except botocore.exceptions.ClientError as refused:
            assert refused.response["Error"]["Code"] == "UnauthorizedException"
            break
    else:
        pytest.fail("a disabled user's token still works after 3 s")
    server.cli("user", "enable", "carol")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        portal.list_accounts(accessToken=access)
    assert code(e) == "UnauthorizedException"

    events = {json.loads(l)["eventName"] for l in server.cli("audit", "export", "--since", "1h").splitlines()}
    assert {"RegisterClient", "StartDeviceAuthorization", "CreateToken", "ListAccounts", "ListAccountRoles",
            "GetRoleCredentials", "Logout"} <= events


def test_denied_device_and_bad_clients(server):
    sso = Sso(server)
    make_user(server, (sso.ids, sso.store_id), "dave")
    oidc = unsigned("sso-oidc", server.endpoint)
    client, grant = login(server, oidc, "dave", decision="deny")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(**grant)
    assert code(e) == "AccessDeniedException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(**dict(grant, clientSecret="wrong"))
    assert code(e) == "InvalidClientException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                        startUrl="https://elsewhere.example.com/start")
    assert code(e) == "InvalidRequestException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="password")
    assert code(e) == "UnsupportedGrantTypeException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unsigned("sso", server.endpoint).list_accounts(accessToken="not-a-token")
    assert code(e) == "UnauthorizedException"


def test_boto3_sso_profile_reads_the_token_cache(server, moto, tmp_path, monkeypatch):
    sso = Sso(server)
    sso.connect(moto)
    member = sso.add_account()
    user = make_user(server, (sso.ids, sso.store_id), "erin")
    ps = sso.permission_set(name="Reader")
    sso.admin.put_inline_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=ps["PermissionSetArn"], InlinePolicy=INLINE)
    assert sso.wait("create", sso.assign(member, ps["PermissionSetArn"], user))["Status"] == "SUCCEEDED"
    oidc = unsigned("sso-oidc", server.endpoint)
    client, grant = login(server, oidc, "erin")
    token = oidc.create_token(**grant)

    start_url = base(server) + "/start"
    config = tmp_path / "config"
    cache = tmp_path / ".aws" / "sso" / "cache"
    sso_profile(config, cache, "dev", start_url, member, "Reader", client, token)
    # botocore reads ~ once, when it is imported: point its cache directory here instead.
    import botocore.credentials
    import botocore.tokens
    monkeypatch.setattr(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", str(cache))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", server.endpoint)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    session = boto3.Session(profile_name="dev")
    assert session.get_credentials().method == "sso"
    who = session.client("sts", endpoint_url=moto.endpoint).get_caller_identity()
    assert who["Account"] == member


class Listener:
    """The CLI's loopback listener: receives the browser's redirect and keeps its query."""

    def __init__(self):
        import http.server
        import threading
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                received.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"You can close this window.")

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def query(self):
        import urllib.parse
        assert self.received, "the browser never reached the listener"
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.received[-1]).query))

    def close(self):
        self.httpd.shutdown()


def pkce_pair():
    import base64
    import secrets
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_authorization_code_with_pkce_through_a_loopback_listener(server):
    import urllib.parse
    sso = Sso(server)
    make_user(server, (sso.ids, sso.store_id), "frank")
    oidc = unsigned("sso-oidc", server.endpoint)
    client = oidc.register_client(clientName="aws-cli", clientType="public", scopes=["sso:account:access"],
                                  grantTypes=["authorization_code", "refresh_token"],
                                  redirectUris=["http://127.0.0.1/oauth/callback"])
    assert client["authorizationEndpoint"].endswith("/authorize") and client["tokenEndpoint"].endswith("/token")
    listener = Listener()
    try:
        redirect = f"http://127.0.0.1:{listener.port}/oauth/callback"

        def authorize(state, challenge):
            # As the CLI opens it: the OIDC endpoint's /authorize, in the person's browser.
            url = base(server) + "/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": client["clientId"], "redirect_uri": redirect, "state": state,
                "code_challenge": challenge, "code_challenge_method": "S256", "scopes": "sso:account:access"})
            browser = Portal(server)
            r = browser.http.get(url, allow_redirects=False)
            while r.status_code in (302, 303) and "/start/signin" not in r.headers["location"]:
                r = browser.http.get(urllib.parse.urljoin(browser.base, r.headers["location"]), allow_redirects=False)
            landed = browser.sign_in("frank", r.headers["location"])
            page = Page(landed.text)
            assert "client-name" in page.ids, landed.text
            form = page.forms["decide"]
            done = browser.http.post(browser.base + form["action"], data=dict(form["fields"], decision="approve"))
            assert done.status_code == 200 and done.text == "You can close this window."
            got = listener.query()
            assert got["state"] == state
            return got["code"]

        verifier, challenge = pkce_pair()
        code_value = authorize("state-1", challenge)
        exchange = dict(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="authorization_code",
                        code=code_value, redirectUri=redirect)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            oidc.create_token(**exchange, codeVerifier=pkce_pair()[0])
        assert code(e) == "InvalidGrantException", "a wrong verifier is refused"
        token = oidc.create_token(**exchange, codeVerifier=verifier)
        assert token["accessToken"] and token["refreshToken"]
        assert unsigned("sso", server.endpoint).list_accounts(accessToken=token["accessToken"])["accountList"] == []
        with pytest.raises(botocore.exceptions.ClientError) as e:
            oidc.create_token(**exchange, codeVerifier=verifier)
        assert code(e) == "InvalidGrantException", "a code works once"

        # Another redirect URI than the registered one is never redirected to.
        browser = Portal(server)
        r = browser.http.get(base(server) + "/start/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": client["clientId"], "redirect_uri": "https://evil.example/cb",
            "state": "x", "code_challenge": challenge, "code_challenge_method": "S256"}), allow_redirects=False)
        assert r.status_code == 400 and "not registered" in r.text
        # A plain (non-S256) challenge goes back to the client as an error.
        r = browser.http.get(base(server) + "/start/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": client["clientId"], "redirect_uri": redirect, "state": "y",
            "code_challenge": challenge, "code_challenge_method": "plain"}), allow_redirects=False)
        assert r.status_code == 303 and "error=invalid_request" in r.headers["location"] and "state=y" in r.headers["location"]
    finally:
        listener.close()


def test_console_federation_is_accepted_by_an_sp_set_up_as_aws_sign_in(server, moto, tmp_path):
    """pysaml2 as AWS sign-in: entity urn:amazon:webservices, ACS https://signin.aws.amazon.com/saml,
    trusting only Gatehouse's AWS IdP metadata, signatures required."""
    import saml2
    import saml2.config
    import requests
    from saml2.client import Saml2Client
    from test_saml_apps import XMLSEC1
    sso = Sso(server)
    sso.connect(moto)
    member = sso.add_account()
    user = make_user(server, (sso.ids, sso.store_id), "grace")
    sso.ids.update_user(IdentityStoreId=sso.store_id, UserId=user, Operations=[
        {"AttributePath": "title", "AttributeValue": "Engineer"}])
    sso.admin.create_instance_access_control_attribute_configuration(
        InstanceArn=sso.instance, InstanceAccessControlAttributeConfiguration={"AccessControlAttributes": [
            {"Key": "Title", "Value": {"Source": ["${path:title}"]}},
            {"Key": "UserName", "Value": {"Source": ["${path:userName}"]}},
            {"Key": "CostCenter", "Value": {"Source": ["${path:enterprise.costCenter}"]}}]})
    ps = sso.permission_set(name="Console", SessionDuration="PT4H", RelayState="https://console.aws.amazon.com/ec2/")
    assert sso.wait("create", sso.assign(member, ps["PermissionSetArn"], user))["Status"] == "SUCCEEDED"

    metadata = requests.get(base(server) + "/saml/aws/metadata")
    assert metadata.status_code == 200 and "IDPSSODescriptor" in metadata.text
    (tmp_path / "idp.xml").write_text(metadata.text)
    config = saml2.config.SPConfig()
    config.load({
        "entityid": "urn:amazon:webservices",
        "xmlsec_binary": XMLSEC1,
        "metadata": {"local": [str(tmp_path / "idp.xml")]},
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [("https://signin.aws.amazon.com/saml", saml2.BINDING_HTTP_POST)]},
            "allow_unsolicited": True, "want_response_signed": True, "want_assertions_signed": False}},
    })
    aws_signin = Saml2Client(config)

    browser = Portal(server)
    home = browser.open("GET", base(server) + "/start/", user="grace")
    assert f'id="account-{member}"' in home.text and "/start/aws/" in home.text, home.text
    # The console link is bookmarkable: it signs in afresh every time it is opened.
    posted = browser.http.get(f"{browser.base}/start/aws/{member}/Console/console")
    assert posted.status_code == 200, posted.text
    assert "form-action https://signin.aws.amazon.com" in posted.headers["Content-Security-Policy"]
    form = Page(posted.text).forms["saml-post"]
    assert form["action"] == "https://signin.aws.amazon.com/saml"
    assert form["fields"]["RelayState"] == "https://console.aws.amazon.com/ec2/"
    response = aws_signin.parse_authn_request_response(form["fields"]["SAMLResponse"], saml2.BINDING_HTTP_POST)
    assert response is not None
    attrs = response.ava
    role = f"arn:aws:iam::{member}:role/aws-reserved/sso.amazonaws.com/"
    provider = f"arn:aws:iam::{member}:saml-provider/"
    (role_value,) = attrs["https://aws.amazon.com/SAML/Attributes/Role"]
    role_arn, provider_arn = role_value.split(",")
    assert role_arn.startswith(role + "AWSReservedSSO_Console_") and provider_arn.startswith(provider + "AWSSSO_")
    assert attrs["https://aws.amazon.com/SAML/Attributes/RoleSessionName"] == ["grace"]
    assert attrs["https://aws.amazon.com/SAML/Attributes/SessionDuration"] == ["14400"]
    assert attrs["https://aws.amazon.com/SAML/Attributes/PrincipalTag:Title"] == ["Engineer"]
    assert attrs["https://aws.amazon.com/SAML/Attributes/PrincipalTag:UserName"] == ["grace"]
    assert "https://aws.amazon.com/SAML/Attributes/PrincipalTag:CostCenter" not in attrs, "no value, no tag"
    # The role it names is the one provisioned in the account, trusting that provider.
    iam = moto.iam(member)
    assert iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]["Arn"] == role_arn
    assert provider_arn in [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]]
    # A tampered Response is refused by the SP.
    import base64
    tampered = base64.b64decode(form["fields"]["SAMLResponse"]).replace(b"Engineer", b"Director")
    import saml2.sigver
    with pytest.raises(saml2.sigver.SignatureError):
        aws_signin.parse_authn_request_response(base64.b64encode(tampered).decode(), saml2.BINDING_HTTP_POST)

    # Command line or programmatic access: the three options, for macOS/Linux and Windows.
    page = browser.http.get(f"{browser.base}/start/aws/{member}/Console/credentials")
    assert page.status_code == 200, page.text
    assert page.headers["Cache-Control"] == "no-store"
    for marker in ('export AWS_ACCESS_KEY_ID="', "aws_session_token=", 'id="access-key-id"', "set AWS_ACCESS_KEY_ID=",
                   '$Env:AWS_ACCESS_KEY_ID="'):
        assert marker in page.text, marker
    # A role the person does not have: refused, with the reason.
    refused = browser.http.get(f"{browser.base}/start/aws/{member}/Administrator/console")
    assert refused.status_code == 403 and "no access to role Administrator" in refused.text


def test_aws_cli_v1_device_login_and_an_sso_profile(server, tmp_path):
    """The AWS CLI (v1, PyPI): sso-oidc register-client, start-device-authorization and
    create-token, then a profile with sso_session: `aws configure list` reports sso credentials
    and `aws identitystore list-users` runs with the management account's role credentials."""
    import subprocess
    import sys
    aws_bin = os.path.join(os.path.dirname(sys.executable), "aws")
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    env = dict(os.environ, HOME=str(home), AWS_CONFIG_FILE=str(home / ".aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"), AWS_DEFAULT_REGION="us-east-1",
               AWS_MAX_ATTEMPTS="1", AWS_ENDPOINT_URL_SSO=server.endpoint, AWS_ENDPOINT_URL_SSO_OIDC=server.endpoint)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(var, None)

    def aws(*args, check=True):
        done = subprocess.run([aws_bin, "--output", "json", *args], capture_output=True, text=True, env=env)
        assert not check or done.returncode == 0, done.stderr
        return done

    # The CLI v1 would fetch a parameter that looks like a URL (the start URL) unless told not to.
    (home / ".aws" / "config").write_text("[default]\ncli_follow_urlparam = false\n")
    sso = Sso(server)
    user = make_user(server, (sso.ids, sso.store_id), "heidi")
    management = server.client("organizations").describe_organization()["Organization"]["MasterAccountId"]
    ps = sso.permission_set(name="DirectoryReader")
    sso.admin.put_inline_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=ps["PermissionSetArn"],
                                                  InlinePolicy=ALLOW_LIST_USERS)
    assert sso.wait("create", sso.assign(management, ps["PermissionSetArn"], user))["Status"] == "SUCCEEDED"

    client = json.loads(aws("sso-oidc", "register-client", "--client-name", "aws-cli-v1", "--client-type", "public",
                            "--no-sign-request").stdout)
    start_url = base(server) + "/start"
    start = json.loads(aws("sso-oidc", "start-device-authorization", "--client-id", client["clientId"], "--client-secret",
                           client["clientSecret"], "--start-url", start_url, "--no-sign-request").stdout)
    pending = aws("sso-oidc", "create-token", "--client-id", client["clientId"], "--client-secret", client["clientSecret"],
                  "--grant-type", "urn:ietf:params:oauth:grant-type:device_code", "--device-code", start["deviceCode"],
                  "--no-sign-request", check=False)
    assert pending.returncode == 255 and "AuthorizationPendingException" in pending.stderr, pending.stderr
    approve(server, "heidi", start["verificationUriComplete"])
    time.sleep(1.1)
    token = json.loads(aws("sso-oidc", "create-token", "--client-id", client["clientId"], "--client-secret",
                           client["clientSecret"], "--grant-type", "urn:ietf:params:oauth:grant-type:device_code",
                           "--device-code", start["deviceCode"], "--no-sign-request").stdout)

    sso_profile(home / ".aws" / "config", home / ".aws" / "sso" / "cache", "admin", start_url, management, "DirectoryReader",
                client, token, default="[default]\ncli_follow_urlparam = false\n\n")
    listed = aws("configure", "list", "--profile", "admin").stdout
    assert any(line.split()[:1] == ["access_key"] and "sso" in line.split() for line in listed.splitlines()), listed
    users = json.loads(aws("identitystore", "list-users", "--identity-store-id", sso.store_id, "--profile", "admin",
                           "--endpoint-url", server.endpoint).stdout)
    assert "heidi" in [u["UserName"] for u in users["Users"]]
    denied = aws("identitystore", "delete-user", "--identity-store-id", sso.store_id, "--user-id", user, "--profile", "admin",
                 "--endpoint-url", server.endpoint, check=False)
    assert denied.returncode == 255 and "AccessDeniedException" in denied.stderr, denied.stderr
