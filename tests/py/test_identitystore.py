"""identitystore through boto3: the calls implemented so far, errors as boto3 reports them, and
SigV4 failures."""

import json
import subprocess
import time

import boto3
import botocore
import botocore.config
import pytest
from botocore.exceptions import ClientError


def make_user(client, store_id, name, email=None):
    return client.create_user(
        IdentityStoreId=store_id, UserName=name, DisplayName=name.title(),
        Name={"GivenName": name.title(), "FamilyName": "Tester"},
        Emails=[{"Value": email or f"{name}@example.com", "Type": "work", "Primary": True}])


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_create_describe_list_delete(ids):
    client, store_id = ids
    created = make_user(client, store_id, "alice")
    user_id = created["UserId"]
    assert created["IdentityStoreId"] == store_id
    user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["UserName"] == "alice"
    assert user["Name"]["FamilyName"] == "Tester"
    assert user["Emails"][0]["Value"] == "alice@example.com"
    assert user["UserStatus"] == "ENABLED"
    assert user["CreatedAt"].year >= 2025  # botocore parsed the timestamp

    for i in range(5):
        make_user(client, store_id, f"user{i}")
    pages = client.get_paginator("list_users").paginate(IdentityStoreId=store_id, PaginationConfig={"PageSize": 2})
    names = [u["UserName"] for page in pages for u in page["Users"]]
    assert sorted(names) == sorted(["Administrator", "alice"] + [f"user{i}" for i in range(5)])
    found = client.list_users(IdentityStoreId=store_id, Filters=[{"AttributePath": "UserName", "AttributeValue": "ALICE"}])
    assert [u["UserId"] for u in found["Users"]] == [user_id]

    client.delete_user(IdentityStoreId=store_id, UserId=user_id)
    with pytest.raises(ClientError) as e:
        client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["ResourceType"] == "USER"


def test_errors_as_boto3_reports_them(ids):
    client, store_id = ids
    make_user(client, store_id, "bob")
    with pytest.raises(ClientError) as e:
        make_user(client, store_id, "BOB", "other@example.com")
    assert error_code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        make_user(client, store_id, "carol", "not-an-email")
    assert error_code(e) == "ValidationException"
    assert "Emails[0].Value" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        client.describe_user(IdentityStoreId="d-0000000000", UserId="8d3f4c0e-1111-4222-8333-944455556666")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        client.list_users(IdentityStoreId=store_id, NextToken="gh1:forged")
    assert error_code(e) == "ValidationException"


def test_sigv4_failures(server, ids):
    client, store_id = ids
    key, secret = server.secrets()
    cases = [
        (server.client(key=key, secret=secret[:-1] + ("A" if secret[-1] != "A" else "B")), "InvalidSignatureException"),
        (server.client(key="AKIAAAAAAAAAAAAAAAAA", secret=secret), "UnrecognizedClientException"),
        (server.client(key=key, secret=secret, signature_version=botocore.UNSIGNED), "MissingAuthenticationTokenException"),
    ]
    for bad_client, code in cases:
        with pytest.raises(ClientError) as e:
            bad_client.list_users(IdentityStoreId=store_id)
        assert error_code(e) == code, e.value.response


def test_read_only_key_is_denied_writes_and_audited(server, ids):
    client, store_id = ids
    out = server.cli("-o", "json", "admin", "access-key", "create", "--name", "auditor", "--policy", "AWSSSODirectoryReadOnly")
    import json
    key = json.loads(out)["AccessKey"]
    ro = server.client(key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    ro.list_users(IdentityStoreId=store_id)
    with pytest.raises(ClientError) as e:
        make_user(ro, store_id, "eve")
    assert error_code(e) == "AccessDeniedException"
    assert "is not authorized to perform: identitystore:CreateUser" in e.value.response["Error"]["Message"]
    records = [json.loads(l) for l in server.cli("-o", "json", "audit", "tail", "-n", "100").splitlines()]
    denied = [r for r in records if r["eventName"] == "CreateUser" and r.get("errorCode") == "AccessDeniedException"]
    assert denied and denied[-1]["userIdentity"]["accessKeyId"] == key["AccessKeyId"]


def test_update_user_attribute_operations(ids):
    client, store_id = ids
    user_id = make_user(client, store_id, "dora")["UserId"]
    resp = client.update_user(IdentityStoreId=store_id, UserId=user_id, Operations=[
        {"AttributePath": "name.givenName", "AttributeValue": "Dorothy"},
        {"AttributePath": "title", "AttributeValue": "Pilot"},
        {"AttributePath": "emails", "AttributeValue": [{"Value": "dorothy@example.com", "Type": "work", "Primary": True}]},
    ])
    assert resp["Revision"] == 2
    user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["Name"]["GivenName"] == "Dorothy" and user["Title"] == "Pilot"
    assert user["Emails"][0]["Value"] == "dorothy@example.com"
    client.update_user(IdentityStoreId=store_id, UserId=user_id, Operations=[{"AttributePath": "title"}])
    assert "Title" not in client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    with pytest.raises(ClientError) as e:
        client.update_user(IdentityStoreId=store_id, UserId=user_id, Operations=[{"AttributePath": "userName", "AttributeValue": "dot"}])
    assert error_code(e) == "ValidationException" and "cannot be changed" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        client.update_user(IdentityStoreId=store_id, UserId=user_id, Operations=[{"AttributePath": "emails", "AttributeValue": "x"}])
    assert error_code(e) == "ValidationException"


def test_groups_memberships_and_lookups(ids):
    client, store_id = ids
    alice = make_user(client, store_id, "alice")["UserId"]
    bob = make_user(client, store_id, "bob")["UserId"]
    eng = client.create_group(IdentityStoreId=store_id, DisplayName="Engineering", Description="Builders")["GroupId"]
    ops = client.create_group(IdentityStoreId=store_id, DisplayName="Ops")["GroupId"]
    with pytest.raises(ClientError) as e:
        client.create_group(IdentityStoreId=store_id, DisplayName="engineering")
    assert error_code(e) == "ConflictException"
    assert client.describe_group(IdentityStoreId=store_id, GroupId=eng)["Description"] == "Builders"
    client.update_group(IdentityStoreId=store_id, GroupId=eng, Operations=[{"AttributePath": "description", "AttributeValue": "Makers"}])
    assert client.describe_group(IdentityStoreId=store_id, GroupId=eng)["Description"] == "Makers"
    groups = client.list_groups(IdentityStoreId=store_id, Filters=[{"AttributePath": "DisplayName", "AttributeValue": "Ops"}])["Groups"]
    assert [g["GroupId"] for g in groups] == [ops]

    m = client.create_group_membership(IdentityStoreId=store_id, GroupId=eng, MemberId={"UserId": alice})["MembershipId"]
    client.create_group_membership(IdentityStoreId=store_id, GroupId=ops, MemberId={"UserId": alice})
    with pytest.raises(ClientError) as e:
        client.create_group_membership(IdentityStoreId=store_id, GroupId=eng, MemberId={"UserId": alice})
    assert error_code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        client.create_group_membership(IdentityStoreId=store_id, GroupId=eng, MemberId={"UserId": ops})
    assert error_code(e) == "ValidationException"  # a group cannot be a member of a group
    described = client.describe_group_membership(IdentityStoreId=store_id, MembershipId=m)
    assert described["GroupId"] == eng and described["MemberId"] == {"UserId": alice}
    assert client.get_group_membership_id(IdentityStoreId=store_id, GroupId=eng, MemberId={"UserId": alice})["MembershipId"] == m
    members = client.list_group_memberships(IdentityStoreId=store_id, GroupId=eng)["GroupMemberships"]
    assert [x["MemberId"]["UserId"] for x in members] == [alice]
    mine = client.list_group_memberships_for_member(IdentityStoreId=store_id, MemberId={"UserId": alice})["GroupMemberships"]
    assert sorted(x["GroupId"] for x in mine) == sorted([eng, ops])
    results = client.is_member_in_groups(IdentityStoreId=store_id, MemberId={"UserId": bob}, GroupIds=[eng, ops])["Results"]
    assert [r["MembershipExists"] for r in results] == [False, False]
    results = client.is_member_in_groups(IdentityStoreId=store_id, MemberId={"UserId": alice}, GroupIds=[eng])["Results"]
    assert results[0]["MembershipExists"] is True

    assert client.get_user_id(IdentityStoreId=store_id, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "ALICE"}})["UserId"] == alice
    assert client.get_user_id(IdentityStoreId=store_id, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "emails.value", "AttributeValue": "bob@example.com"}})["UserId"] == bob
    assert client.get_group_id(IdentityStoreId=store_id, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Ops"}})["GroupId"] == ops
    with pytest.raises(ClientError) as e:
        client.get_user_id(IdentityStoreId=store_id, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody"}})
    assert error_code(e) == "ResourceNotFoundException"

    client.delete_group_membership(IdentityStoreId=store_id, MembershipId=m)
    client.delete_user(IdentityStoreId=store_id, UserId=alice)  # also removes the Ops membership
    assert client.list_group_memberships(IdentityStoreId=store_id, GroupId=ops)["GroupMemberships"] == []
    client.delete_group(IdentityStoreId=store_id, GroupId=eng)
    with pytest.raises(ClientError) as e:
        client.describe_group(IdentityStoreId=store_id, GroupId=eng)
    assert error_code(e) == "ResourceNotFoundException"


def test_identity_store_itself(ids):
    client, store_id = ids
    described = client.describe_identity_store(IdentityStoreId=store_id)
    assert described["IdentityStoreId"] == store_id
    assert described["IdentityStoreArn"].endswith(f":identitystore/{store_id}")
    stores = client.list_identity_stores()["IdentityStores"]
    assert [s["IdentityStoreId"] for s in stores] == [store_id]
    # The model's identifier forms: the store by ARN too.
    assert client.describe_identity_store(IdentityStoreId=described["IdentityStoreArn"])["IdentityStoreId"] == store_id


def test_update_identity_store_network_configuration(server, ids):
    client, store_id = ids
    assert "NetworkConfiguration" not in client.describe_identity_store(IdentityStoreId=store_id)
    # Private-network only (loopback is private): still admitted, and described back.
    client.update_identity_store(IdentityStoreId=store_id, NetworkConfiguration={
        "VpceAccessRequired": True, "ApiAllowSourceIps": ["198.51.100.0/24"], "ScimAllowSourceIps": ["0.0.0.0/0"]})
    net = client.describe_identity_store(IdentityStoreId=store_id)["NetworkConfiguration"]
    assert net == {"VpceAccessRequired": True, "ApiAllowSourceIps": ["198.51.100.0/24"], "ScimAllowSourceIps": ["0.0.0.0/0"]}
    with pytest.raises(ClientError) as e:
        client.update_identity_store(IdentityStoreId=store_id, NetworkConfiguration={
            "VpceAccessRequired": False, "ApiAllowSourceIps": ["10.0.0.0/99"]})
    assert error_code(e) == "ValidationException"
    # Restricting the API to a VPC admits nobody but the allowed addresses: this caller is refused,
    # audited, and the local CLI (never restricted) lets the administrator back in.
    client.update_identity_store(IdentityStoreId=store_id, NetworkConfiguration={
        "VpceAccessRequired": True, "ApiRestrictSourceVpcs": ["vpc-0123abcd"]})
    with pytest.raises(ClientError) as e:
        client.list_users(IdentityStoreId=store_id)
    assert error_code(e) == "AccessDeniedException"
    assert "network configuration" in e.value.response["Error"]["Message"]
    server.cli("admin", "network", "clear")
    deadline = time.time() + 15
    while True:
        try:
            client.list_users(IdentityStoreId=store_id)
            break
        except ClientError:
            assert time.time() < deadline, "the cleared configuration applies within the cache lifetime"
            time.sleep(0.5)
    events = [json.loads(l) for l in server.cli("-o", "json", "audit", "tail", "-n", "100").splitlines()]
    denied = [ev for ev in events if ev.get("eventName") == "ListUsers" and ev.get("errorCode") == "AccessDeniedException"]
    assert denied, "the refused call is audited"


def test_enterprise_extension(ids):
    client, store_id = ids
    manager = make_user(client, store_id, "boss")["UserId"]
    ext = {"aws:identitystore:enterprise": {"employeeNumber": "42", "costCenter": "CC-7", "organization": "Example",
                                            "division": "Cloud", "department": "R&D", "manager": {"value": manager}}}
    user_id = client.create_user(
        IdentityStoreId=store_id, UserName="worker", DisplayName="Worker", Name={"GivenName": "W", "FamilyName": "K"},
        Emails=[{"Value": "worker@example.com", "Primary": True}], Extensions=ext)["UserId"]
    plain = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert "Extensions" not in plain
    full = client.describe_user(IdentityStoreId=store_id, UserId=user_id, Extensions=["aws:identitystore:enterprise"])
    assert full["Extensions"] == ext
    listed = client.list_users(IdentityStoreId=store_id, Extensions=["aws:identitystore:enterprise"],
                               Filters=[{"AttributePath": "UserName", "AttributeValue": "worker"}])["Users"]
    assert listed[0]["Extensions"] == ext
    client.update_user(IdentityStoreId=store_id, UserId=user_id, Operations=[
        {"AttributePath": "aws:identitystore:enterprise.department", "AttributeValue": "Ops"}])
    full = client.describe_user(IdentityStoreId=store_id, UserId=user_id, Extensions=["aws:identitystore:enterprise"])
    assert full["Extensions"]["aws:identitystore:enterprise"]["department"] == "Ops"
    for bad in [{"aws:identitystore:other": {}}, {"aws:identitystore:enterprise": {"shoeSize": "9"}}]:
        with pytest.raises(ClientError) as e:
            client.create_user(IdentityStoreId=store_id, UserName="x" + str(len(bad)), DisplayName="X",
                               Name={"GivenName": "X", "FamilyName": "Y"},
                               Emails=[{"Value": "x@example.com", "Primary": True}], Extensions=bad)
        assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        client.describe_user(IdentityStoreId=store_id, UserId=user_id, Extensions=["aws:identitystore:nope"])
    assert error_code(e) == "ValidationException"


def test_model_constraints_botocore_does_not_check(ids):
    """botocore checks required members, types and minimums; the server enforces the rest of the
    model: maximum lengths, patterns, enums and list sizes — and names the member."""
    client, store_id = ids
    cases = [
        (lambda: make_user(client, store_id, "u" * 129), "UserName"),
        (lambda: client.describe_user(IdentityStoreId="not-a-store", UserId="x" * 10), "IdentityStoreId"),
        (lambda: client.list_users(IdentityStoreId=store_id, MaxResults=101), "MaxResults"),
        (lambda: client.create_user(IdentityStoreId=store_id, UserName="two", DisplayName="Two",
                                    Name={"GivenName": "T", "FamilyName": "W"},
                                    Emails=[{"Value": "a@example.com"}, {"Value": "b@example.com"}]), "Emails"),
        (lambda: client.create_group(IdentityStoreId=store_id, DisplayName="g", Description="d" * 1025), "Description"),
    ]
    for call, field in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ValidationException", field
        assert f"Value at '{field}'" in e.value.response["Error"]["Message"]


def test_temporary_credentials(server, ids):
    client, store_id = ids
    out = json.loads(server.cli("-o", "json", "admin", "access-key", "create", "--name", "ci-session",
                                "--policy", "AWSSSODirectoryReadOnly", "--duration", "900"))["AccessKey"]
    assert out["AccessKeyId"].startswith("ASIA") and out["SessionToken"] and out["Expiration"]
    temp = boto3.client("identitystore", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=out["AccessKeyId"], aws_secret_access_key=out["SecretAccessKey"],
                        aws_session_token=out["SessionToken"],
                        config=botocore.config.Config(retries={"max_attempts": 0}))
    assert temp.list_users(IdentityStoreId=store_id)["Users"] is not None
    # A changed token: its last character replaced by another (never by itself).
    changed = out["SessionToken"][:-1] + ("y" if out["SessionToken"].endswith("x") else "x")
    for token in [None, changed]:
        bad = server.client(key=out["AccessKeyId"], secret=out["SecretAccessKey"]) if token is None else boto3.client(
            "identitystore", endpoint_url=server.endpoint, region_name="us-east-1",
            aws_access_key_id=out["AccessKeyId"], aws_secret_access_key=out["SecretAccessKey"], aws_session_token=token,
            config=botocore.config.Config(retries={"max_attempts": 0}))
        with pytest.raises(ClientError) as e:
            bad.list_users(IdentityStoreId=store_id)
        assert error_code(e) == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:
        make_user(temp, store_id, "nope")
    assert error_code(e) == "AccessDeniedException"
    with pytest.raises(subprocess.CalledProcessError):
        server.cli("admin", "access-key", "create", "--name", "x", "--policy", "AWSSSOReadOnly", "--duration", "60")
