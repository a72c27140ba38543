"""SCIM 2.0 as identity providers drive it: Okta- and Entra ID-shaped request sequences, errors
in RFC 7644 shape, token lifecycle, and scim2-tester's checks. boto3's identitystore client then
sees exactly what SCIM wrote."""

import json
import subprocess
import time

import pytest
import requests

SCIM_JSON = "application/scim+json"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    def __init__(self, server, token):
        self.base = server.endpoint + "/scim/v2"
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON,
                                  "User-Agent": "Okta SCIM Client 1.0.0"})

    def __getattr__(self, method):
        def call(path, body=None, **kw):
            if body is not None:
                kw["data"] = json.dumps(body)
            r = self.http.request(method.upper(), self.base + path, **kw)
            return r
        return call


@pytest.fixture
def scim(server):
    out = json.loads(server.cli("-o", "json", "scim", "enable"))
    assert out["ScimEndpoint"].endswith("/scim/v2")
    return Scim(server, out["AccessToken"])


def okta_user(name, **extra):
    user = {"schemas": [USER, ENTERPRISE], "userName": f"{name}@example.com",
            "name": {"givenName": name.title(), "familyName": "Okta"}, "displayName": f"{name.title()} Okta",
            "emails": [{"primary": True, "value": f"{name}@example.com", "type": "work"}],
            "externalId": f"00u{name}", "active": True, "locale": "en-US",
            ENTERPRISE: {"department": "Engineering", "employeeNumber": "7"}}
    user.update(extra)
    return user


def error_of(r, status, scim_type=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    if scim_type:
        assert body.get("scimType") == scim_type, body
    return body


def test_okta_sequence_matches_identitystore(server, ids, scim):
    client, store_id = ids
    # Okta checks whether the user exists, then creates it.
    r = scim.get("/Users", params={"filter": 'userName eq "ann@example.com"', "startIndex": 1, "count": 100})
    assert r.status_code == 200 and r.json()["totalResults"] == 0
    r = scim.post("/Users", okta_user("ann"))
    assert r.status_code == 201, r.text
    ann = r.json()
    assert ann["id"] and ann["meta"]["version"] and r.headers["ETag"] == ann["meta"]["version"]
    assert ann[ENTERPRISE]["department"] == "Engineering"
    found = scim.get("/Users", params={"filter": 'userName eq "ANN@example.com"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == ann["id"]
    # Profile update by PUT, then deactivation by PATCH replace active false.
    put = okta_user("ann", title="Engineer")
    put["id"] = ann["id"]
    r = scim.put(f"/Users/{ann['id']}", put)
    assert r.status_code == 200 and r.json()["title"] == "Engineer", r.text
    r = scim.patch(f"/Users/{ann['id']}", {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    # Groups: create, add and remove members.
    bob = scim.post("/Users", okta_user("bob")).json()
    r = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Okta Engineers", "members": []})
    assert r.status_code == 201, r.text
    group = r.json()
    r = scim.patch(f"/Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": bob["id"], "display": "bob@example.com"}]}]})
    assert r.status_code == 200, r.text
    # boto3 sees the same users, attributes, status and membership.
    user = client.describe_user(IdentityStoreId=store_id, UserId=ann["id"], Extensions=["aws:identitystore:enterprise"])
    assert user["UserName"] == "ann@example.com" and user["Title"] == "Engineer" and user["UserStatus"] == "DISABLED"
    assert user["Extensions"]["aws:identitystore:enterprise"]["department"] == "Engineering"
    assert {"Issuer": "SCIM", "Id": "00uann"} in user["ExternalIds"]
    memberships = client.list_group_memberships(IdentityStoreId=store_id, GroupId=group["id"])["GroupMemberships"]
    assert [m["MemberId"]["UserId"] for m in memberships] == [bob["id"]]
    r = scim.patch(f"/Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{bob["id"]}"]'}]})
    assert r.status_code == 200, r.text
    assert client.list_group_memberships(IdentityStoreId=store_id, GroupId=group["id"])["GroupMemberships"] == []
    assert scim.delete(f"/Users/{bob['id']}").status_code == 204
    assert scim.get(f"/Users/{bob['id']}").status_code == 404
    names = {u["UserName"] for u in client.list_users(IdentityStoreId=store_id)["Users"]}
    assert "ann@example.com" in names and "bob@example.com" not in names


def test_entra_id_sequence(server, ids, scim):
    client, store_id = ids
    scim.http.headers["User-Agent"] = "Azure-SCIM-Provisioning/1.0"
    user = okta_user("cy")
    user["active"] = "True"
    r = scim.post("/Users", user)
    assert r.status_code == 201, r.text
    cy = r.json()
    r = scim.get("/Users", params={"filter": 'externalId eq "00ucy"'})
    assert r.json()["totalResults"] == 1
    # Entra capitalises ops and sends booleans as strings; it replaces via paths.
    r = scim.patch(f"/Users/{cy['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Cy Entra"},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Research"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "cy@example.com"},
        {"op": "Replace", "path": "active", "value": "False"}]})
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "Cy Entra" and r.json()["active"] is False
    members = [scim.post("/Users", okta_user(f"m{i}")).json()["id"] for i in range(120)]
    r = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Entra Group", "externalId": "grp-1"})
    group = r.json()
    r = scim.patch(f"/Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": m} for m in members]}]})
    assert r.status_code == 200, r.text
    r = scim.patch(f"/Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": members[0]}, {"value": members[1]}]}]})
    assert r.status_code == 200, r.text
    listed = client.get_paginator("list_group_memberships").paginate(IdentityStoreId=store_id, GroupId=group["id"])
    ids_seen = {m["MemberId"]["UserId"] for page in listed for m in page["GroupMemberships"]}
    assert ids_seen == set(members[2:])
    r = scim.get("/Groups", params={"filter": 'displayName eq "Entra Group"', "excludedAttributes": "members"})
    assert r.json()["totalResults"] == 1 and "members" not in r.json()["Resources"][0]
    described = client.describe_user(IdentityStoreId=store_id, UserId=cy["id"], Extensions=["aws:identitystore:enterprise"])
    assert described["DisplayName"] == "Cy Entra" and described["UserStatus"] == "DISABLED"
    assert described["Extensions"]["aws:identitystore:enterprise"]["department"] == "Research"
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204


def test_invalid_requests_write_nothing(server, ids, scim):
    client, store_id = ids
    before = len(client.list_users(IdentityStoreId=store_id)["Users"])
    missing = okta_user("dee")
    del missing["name"]["familyName"]
    body = error_of(scim.post("/Users", missing), 400, "invalidValue")
    assert "FamilyName" in body["detail"]
    error_of(scim.post("/Users", okta_user("eve", displayName="Eve <admin>")), 400, "invalidValue")
    assert scim.post("/Users", okta_user("fay")).status_code == 201
    error_of(scim.post("/Users", okta_user("fay")), 409, "uniqueness")
    error_of(scim.get("/Users", params={"filter": 'userName eq "unterminated'}), 400, "invalidFilter")
    error_of(scim.post("/Users", None, data=b"{not json"), 400, "invalidSyntax")
    error_of(scim.get("/Users/does-not-exist"), 404)
    bad = requests.get(scim.base + "/Users", headers={"Authorization": "Bearer wrong"})
    error_of(bad, 401)
    error_of(requests.get(scim.base + "/Users"), 401)
    after = len(client.list_users(IdentityStoreId=store_id)["Users"])
    assert after == before + 1


def refused(client, within=8.0):
    deadline = time.time() + within
    while (r := client.get("/Users")).status_code != 401:
        assert time.time() < deadline, f"still accepted: {r.status_code}"
        time.sleep(0.25)
    error_of(r, 401)


def test_token_lifecycle(server, scim):
    second = json.loads(server.cli("-o", "json", "scim", "token", "create"))
    two = Scim(server, second["AccessToken"])
    assert scim.get("/Users").status_code == 200 and two.get("/Users").status_code == 200
    third = subprocess.run(server.args("scim", "token", "create"), capture_output=True, text=True)
    assert third.returncode == 8 and "2 active access tokens" in third.stderr
    tokens = json.loads(server.cli("-o", "json", "scim", "token", "list"))["Tokens"]
    assert len(tokens) == 2 and all(t["LastUsedAt"] for t in tokens)
    disable = subprocess.run(server.args("scim", "disable"), capture_output=True, text=True)
    assert disable.returncode == 5, disable.stderr
    first_id = [t["TokenId"] for t in tokens if t["TokenId"] != second["TokenId"]][0]
    server.cli("scim", "token", "delete", first_id)
    # The server trusts a checked token for up to 5 s (docs/scim.md): deleted by another process,
    # it stops working within that time.
    refused(scim)
    assert two.get("/Users").status_code == 200
    server.cli("scim", "token", "delete", second["TokenId"])
    server.cli("scim", "disable")
    refused(two)


def test_scim2_tester_checks(server, scim):
    from httpx2 import Client
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import Status, check_server

    http = Client(base_url=scim.base, headers={"Authorization": scim.http.headers["Authorization"]})
    client = SyncSCIMClient(http)
    client.discover()
    results = check_server(client)
    counts = {}
    for r in results:
        counts[r.status.name] = counts.get(r.status.name, 0) + 1
    failures = [f"{r.title}: {r.reason}" for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    print("scim2-tester:", counts)
    for f in failures:
        print("  scim2-tester error:", f[:160])
    # Deliberate differences, each from the guide or the data model (docs/scim.md):
    known = [
        "the user name cannot be changed",          # guide: a user name "cannot be changed later"
        "did not remove attribute 'active'",        # a user is always active or not
        "returned unexpected value for",            # guide: no 'display' sub-attribute; primary false is omitted
        "search_with_attributes: No such SCIM endpoint",  # POST /.search at the root is not served
    ]
    unexpected = [f for f in failures if not any(k in f for k in known)]
    assert not unexpected, "\n".join(unexpected)
    assert counts.get("SUCCESS", 0) >= 95, counts
