"""Two Gatehouse nodes on one PostgreSQL, as behind a load balancer: the same public URL and
master key, different loopback ports, and requests alternating between them. Everything a
request leaves behind for the next one lives in the database, so either node can answer it:
portal sessions, device codes, outstanding SAML AuthnRequests and the assertion replay cache.
A write on one node empties the other's caches as it commits (PostgreSQL LISTEN/NOTIFY); should a
notification be missed, the caches' lifetimes bound staleness (READ_CACHE_TTL, 1 s; access keys
10 s). The tests allow 3 s for a loaded machine."""

import base64
import json
import os
import re
import signal
import time

import botocore.exceptions
import pytest

from conftest import PG, Server, fresh_database
from test_external_idp import PeerIdp, use_peer
from test_saml_apps import Page, Portal, make_user
from test_sso_login import unsigned

PUBLIC = "http://localhost:9"
BOUND = 3.0


@pytest.fixture
def nodes(tmp_path, monkeypatch):
    if not PG:
        pytest.skip("needs GATEHOUSE_TEST_DATABASE_URL")
    # What the nodes share: the database, the master key and the address people use.
    monkeypatch.setenv("GATEHOUSE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("GATEHOUSE_PUBLIC_URL", PUBLIC)
    database = fresh_database("postgres", str(tmp_path))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Server(str(tmp_path / "a"), database).start()
    b = Server(str(tmp_path / "b"), database)
    b.banner = a.banner  # the bootstrap access key, printed by the node that created the instance
    b.start()
    yield a, b
    for node in (a, b):
        if node.proc.poll() is None:
            node.kill(signal.SIGTERM)


def on(node, portal):
    """The same browser, talking to another node."""
    portal.base = node.endpoint.replace("127.0.0.1", "localhost")
    return portal


def test_two_nodes_share_sessions_device_codes_saml_requests_and_a_disabled_user(nodes, tmp_path):
    a, b = nodes
    ids = (a.client(), re.search(r"Identity store:\s+(d-[0-9a-f]{10})", a.banner).group(1))
    make_user(a, ids, "ada@example.com", email="ada@example.com")

    # A portal session made on one node is valid on the other.
    browser = on(a, Portal(a))
    browser.sign_in("ada@example.com")
    home = on(b, browser).http.get(browser.base + "/start/")
    assert home.status_code == 200 and 'id="user-name">ada@example.com<' in home.text

    # A device code started on one node is approved on the other, and its token taken on the first.
    oidc_a = unsigned("sso-oidc", a.endpoint)
    client = oidc_a.register_client(clientName="cli", clientType="public")
    start = oidc_a.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=PUBLIC + "/start")
    approval = start["verificationUriComplete"].replace(PUBLIC, on(b, browser).base)
    page = browser.http.get(approval)
    form = Page(page.text).forms["decide"]
    decided = browser.http.post(browser.base + form["action"], data=dict(form["fields"], decision="approve"))
    assert decided.status_code == 200, decided.text
    grant = dict(clientId=client["clientId"], clientSecret=client["clientSecret"],
                 grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=start["deviceCode"])
    token = None
    deadline = time.time() + 30
    while token is None:
        try:
            token = oidc_a.create_token(**grant)
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] in ("SlowDownException", "AuthorizationPendingException") and time.time() < deadline
            time.sleep(start["interval"])
    assert token["accessToken"]
    assert unsigned("sso", b.endpoint).list_accounts(accessToken=token["accessToken"])["accountList"] == []

    # A SAML AuthnRequest sent by one node is answered at the other; the same assertion replayed
    # at the first node is refused (one replay cache for the cluster).
    peer = PeerIdp(a, tmp_path)
    use_peer(a, peer, tmp_path)
    signing_in = Portal(a)
    first = signing_in.http.get(signing_in.base + "/start/", allow_redirects=False)
    to_signin = signing_in.http.get(signing_in.base + first.headers["location"], allow_redirects=False)
    response, relay = peer.answer(to_signin.headers["location"], "ada@example.com")
    at_b = on(b, signing_in).http.post(signing_in.base + "/start/saml/acs", data={"SAMLResponse": response, "RelayState": relay},
                                       allow_redirects=False)
    assert at_b.status_code == 303, at_b.text
    replayed = on(a, Portal(a)).http.post(a.endpoint.replace("127.0.0.1", "localhost") + "/start/saml/acs",
                                          data={"SAMLResponse": response, "RelayState": relay}, allow_redirects=False)
    assert replayed.status_code == 403 and "used already" in replayed.text

    # Disabled on one node: the other refuses the session within the bound.
    assert 'id="user-name">ada@example.com<' in on(b, signing_in).http.get(signing_in.base + "/start/").text
    a.cli("user", "disable", "ada@example.com")
    disabled_at = time.time()
    while True:
        r = on(b, signing_in).http.get(signing_in.base + "/start/", allow_redirects=False)
        if r.status_code in (302, 303) and "/start/signin" in r.headers["location"]:
            break
        assert time.time() - disabled_at < BOUND, "node B still served a disabled user's session"
        time.sleep(0.1)


def test_a_change_on_one_node_reaches_the_other_nodes_caches_at_once(nodes):
    """An access key deleted through one node's database stops working on the other well before
    the other's key cache (10 s) would have let it go."""
    a, b = nodes
    store = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", a.banner).group(1)
    made = json.loads(a.cli("--output", "json", "admin", "access-key", "create", "--name", "ops", "--policy", "AWSSSODirectoryReadOnly"))
    key, secret = made["AccessKey"]["AccessKeyId"], made["AccessKey"]["SecretAccessKey"]
    on_b = b.client(key=key, secret=secret)
    assert on_b.list_users(IdentityStoreId=store)["Users"]  # now in node B's key cache
    a.cli("admin", "access-key", "delete", key)
    deleted_at = time.time()
    while True:
        try:
            on_b.list_users(IdentityStoreId=store)
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "UnrecognizedClientException", e.response
            break
        assert time.time() - deleted_at < BOUND, "node B still accepted a deleted key"
        time.sleep(0.1)
