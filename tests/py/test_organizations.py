"""The organization tree: built with `gatehouse account|ou`, read with boto3's organizations client."""

import json

import pytest
from botocore.exceptions import ClientError


def test_tree_through_cli_and_boto3(server):
    org = server.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    assert root.startswith("r-")
    described = org.describe_organization()["Organization"]
    assert described["FeatureSet"] == "ALL" and described["Id"].startswith("o-")
    management = described["MasterAccountId"]

    ou = json.loads(server.cli("-o", "json", "ou", "create", "Workloads"))["Id"]
    prod = json.loads(server.cli("-o", "json", "ou", "create", "Prod", "--parent", ou))["Id"]
    server.cli("account", "add", "Production", "--email", "prod@example.com", "--id", "210987654321", "--parent", prod)
    server.cli("account", "add", "Staging", "--email", "staging@example.com", "--id", "123456789012", "--parent", ou)

    accounts = [a for page in org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1}) for a in page["Accounts"]]
    assert sorted(a["Id"] for a in accounts) == sorted([management, "210987654321", "123456789012"])
    assert org.describe_account(AccountId="210987654321")["Account"]["Email"] == "prod@example.com"
    assert [a["Id"] for a in org.list_accounts_for_parent(ParentId=prod)["Accounts"]] == ["210987654321"]
    assert [u["Name"] for u in org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]] == ["Workloads"]
    assert org.describe_organizational_unit(OrganizationalUnitId=prod)["OrganizationalUnit"]["Name"] == "Prod"
    assert org.list_parents(ChildId="210987654321")["Parents"] == [{"Id": prod, "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=ou)["Parents"] == [{"Id": root, "Type": "ROOT"}]
    children = org.list_children(ParentId=ou, ChildType="ORGANIZATIONAL_UNIT")["Children"]
    assert children == [{"Id": prod, "Type": "ORGANIZATIONAL_UNIT"}]

    server.cli("account", "move", "210987654321", root)
    assert org.list_parents(ChildId="210987654321")["Parents"][0]["Type"] == "ROOT"

    for call, code in [
        (lambda: org.describe_account(AccountId="999999999999"), "AccountNotFoundException"),
        (lambda: org.describe_organizational_unit(OrganizationalUnitId="ou-zzzz-00000000"), "OrganizationalUnitNotFoundException"),
        (lambda: org.list_children(ParentId="ou-zzzz-00000000", ChildType="ACCOUNT"), "ParentNotFoundException"),
        (lambda: org.list_parents(ChildId="999999999999"), "ChildNotFoundException"),
    ]:
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == code
