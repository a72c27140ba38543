"""identitystore through boto3: the calls implemented so far, errors as boto3 reports them, and
SigV4 failures."""

import botocore
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
