"""Permission sets, account assignments and provisioning into AWS accounts, driven by boto3's
sso-admin client; the accounts are moto_server's IAM and STS, and what landed there is read back
with boto3's IAM client (issue 7)."""

import json
import random
import re
import signal
import socket
import time
import urllib.parse

import botocore.exceptions
import pytest

from conftest import Moto, Server, backends, fresh_database

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::reports/*"}]})


def account_id():
    return "".join(random.choice("0123456789") for _ in range(12))


class Sso:
    """A server's sso-admin and Gatehouse clients, with its instance."""

    def __init__(self, server):
        self.server = server
        self.admin = server.client("sso-admin")
        self.gh = server.client("gatehouse")
        self.instance = self.admin.list_instances()["Instances"][0]["InstanceArn"]
        self.store_id = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", server.banner).group(1)
        self.ids = server.client("identitystore")

    def connect(self, moto, account=None, **overrides):
        args = {"IamEndpoint": moto.endpoint, "StsEndpoint": moto.endpoint}
        if account is None:
            args.update(AccessKeyId=Moto.KEY, SecretAccessKey=Moto.SECRET)
        else:
            args["AccountId"] = account
        args.update(overrides)
        self.gh.put_account_connection(**args)

    def add_account(self, parent=None, account=None):
        account = account or account_id()
        args = ["account", "add", f"Account {account}", "--email", f"{account}@example.com", "--id", account]
        if parent:
            args += ["--parent", parent]
        self.server.cli(*args)
        return account

    def ou(self, name, parent):
        """An organizational unit (the command line: the Organizations API here only reads)."""
        return json.loads(self.server.cli("--output", "json", "ou", "create", name, "--parent", parent))["Id"]

    def user(self, name=None):
        name = name or "user" + str(random.randrange(10**9))
        return self.ids.create_user(IdentityStoreId=self.store_id, UserName=name, DisplayName=name,
                                    Name={"GivenName": "Pat", "FamilyName": "Doe"})["UserId"]

    def permission_set(self, name=None, **args):
        name = name or "ps" + str(random.randrange(10**9))
        return self.admin.create_permission_set(InstanceArn=self.instance, Name=name, **args)["PermissionSet"]

    def assign(self, account, ps_arn, user_id, principal_type="USER"):
        status = self.admin.create_account_assignment(
            InstanceArn=self.instance, TargetId=account, TargetType="AWS_ACCOUNT", PermissionSetArn=ps_arn,
            PrincipalType=principal_type, PrincipalId=user_id)["AccountAssignmentCreationStatus"]
        assert status["Status"] in ("IN_PROGRESS", "SUCCEEDED", "FAILED")
        assert re.fullmatch(r"[0-9a-f-]{36}", status["RequestId"])
        return status["RequestId"]

    def unassign(self, account, ps_arn, user_id):
        return self.admin.delete_account_assignment(
            InstanceArn=self.instance, TargetId=account, TargetType="AWS_ACCOUNT", PermissionSetArn=ps_arn,
            PrincipalType="USER", PrincipalId=user_id)["AccountAssignmentDeletionStatus"]["RequestId"]

    def wait(self, kind, request_id, timeout=60):
        describe = {
            "create": lambda: self.admin.describe_account_assignment_creation_status(
                InstanceArn=self.instance, AccountAssignmentCreationRequestId=request_id)["AccountAssignmentCreationStatus"],
            "delete": lambda: self.admin.describe_account_assignment_deletion_status(
                InstanceArn=self.instance, AccountAssignmentDeletionRequestId=request_id)["AccountAssignmentDeletionStatus"],
            "provision": lambda: self.admin.describe_permission_set_provisioning_status(
                InstanceArn=self.instance, ProvisionPermissionSetRequestId=request_id)["PermissionSetProvisioningStatus"],
        }[kind]
        deadline = time.time() + timeout
        while True:
            status = describe()
            if status["Status"] != "IN_PROGRESS":
                return status
            assert time.time() < deadline, f"{kind} {request_id} still in progress"
            time.sleep(0.1)

    def provision(self, ps_arn, account=None):
        args = {"TargetType": "AWS_ACCOUNT", "TargetId": account} if account else {"TargetType": "ALL_PROVISIONED_ACCOUNTS"}
        return self.admin.provision_permission_set(InstanceArn=self.instance, PermissionSetArn=ps_arn,
                                                   **args)["PermissionSetProvisioningStatus"]["RequestId"]


def role_of(moto, account, name):
    """The role of permission set `name` in the account, or None."""
    roles = moto.iam(account).list_roles(PathPrefix="/aws-reserved/sso.amazonaws.com/")["Roles"]
    found = [r for r in roles if r["RoleName"].startswith(f"AWSReservedSSO_{name}_")]
    assert len(found) <= 1
    return found[0] if found else None


def trust_of(role):
    doc = role["AssumeRolePolicyDocument"]
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_assignment_provisions_the_role_updates_it_and_removes_it(server, moto):
    sso = Sso(server)
    sso.connect(moto)
    account = sso.add_account()
    user = sso.user()
    ps = sso.permission_set(Description="Read everything", SessionDuration="PT2H", RelayState="https://console.aws.amazon.com/s3/")
    arn = ps["PermissionSetArn"]
    assert re.fullmatch(r"arn:aws:sso:::permissionSet/ssoins-[0-9a-f]{16}/ps-[0-9a-f]{16}", arn)
    assert ps["SessionDuration"] == "PT2H"
    for policy in (READ_ONLY, VIEW_ONLY):
        sso.admin.attach_managed_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, ManagedPolicyArn=policy)
    sso.admin.put_inline_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, InlinePolicy=INLINE)
    sso.admin.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=sso.instance, PermissionSetArn=arn, CustomerManagedPolicyReference={"Name": "TeamPolicy", "Path": "/teams/"})
    sso.admin.put_permissions_boundary_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn,
                                                         PermissionsBoundary={"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"})
    listed = sso.admin.list_managed_policies_in_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)["AttachedManagedPolicies"]
    assert {p["Name"]: p["Arn"] for p in listed} == {"ReadOnlyAccess": READ_ONLY, "ViewOnlyAccess": VIEW_ONLY}
    assert sso.admin.get_inline_policy_for_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)["InlinePolicy"] == INLINE
    assert sso.admin.list_customer_managed_policy_references_in_permission_set(
        InstanceArn=sso.instance, PermissionSetArn=arn)["CustomerManagedPolicyReferences"] == [{"Name": "TeamPolicy", "Path": "/teams/"}]
    assert sso.admin.get_permissions_boundary_for_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)["PermissionsBoundary"] == {
        "ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}
    # The customer managed policy must exist in the account, as in AWS.
    moto.iam(account).create_policy(PolicyName="TeamPolicy", Path="/teams/", PolicyDocument=INLINE)

    status = sso.wait("create", sso.assign(account, arn, user))
    assert status["Status"] == "SUCCEEDED", status.get("FailureReason")
    assert status["TargetId"] == account and status["PrincipalId"] == user and status["PermissionSetArn"] == arn

    iam = moto.iam(account)
    providers = iam.list_saml_providers()["SAMLProviderList"]
    instance_id = sso.instance.rsplit("/", 1)[1].replace("ssoins-", "")
    provider_arn = f"arn:aws:iam::{account}:saml-provider/AWSSSO_{instance_id}_DO_NOT_DELETE"
    assert [p["Arn"] for p in providers] == [provider_arn]
    metadata = iam.get_saml_provider(SAMLProviderArn=provider_arn)["SAMLMetadataDocument"]
    assert "IDPSSODescriptor" in metadata and "X509Certificate" in metadata

    role = role_of(moto, account, ps["Name"])
    assert role is not None
    assert re.fullmatch(rf"AWSReservedSSO_{ps['Name']}_[0-9a-f]{{16}}", role["RoleName"])
    assert role["Path"] == "/aws-reserved/sso.amazonaws.com/"
    full = iam.get_role(RoleName=role["RoleName"])["Role"]
    assert full["MaxSessionDuration"] == 7200
    assert full["PermissionsBoundary"]["PermissionsBoundaryArn"] == "arn:aws:iam::aws:policy/PowerUserAccess"
    trust = trust_of(full)["Statement"][0]
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Federated": provider_arn}
    assert sorted(trust["Action"]) == ["sts:AssumeRoleWithSAML", "sts:TagSession"]
    assert trust["Condition"] == {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]}
    assert attached == {READ_ONLY, VIEW_ONLY, f"arn:aws:iam::{account}:policy/teams/TeamPolicy"}
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["AwsSSOInlinePolicy"]
    inline = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="AwsSSOInlinePolicy")["PolicyDocument"]
    inline = json.loads(urllib.parse.unquote(inline)) if isinstance(inline, str) else inline
    assert inline == json.loads(INLINE)

    # Listed everywhere the API lists assignments.
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account, PermissionSetArn=arn)["AccountAssignments"] == [
        {"AccountId": account, "PermissionSetArn": arn, "PrincipalType": "USER", "PrincipalId": user}]
    assert sso.admin.list_account_assignments_for_principal(InstanceArn=sso.instance, PrincipalId=user, PrincipalType="USER",
                                                            Filter={"AccountId": account})["AccountAssignments"][0]["AccountId"] == account
    assert sso.admin.list_permission_sets_provisioned_to_account(InstanceArn=sso.instance, AccountId=account)["PermissionSets"] == [arn]
    latest = dict(InstanceArn=sso.instance, PermissionSetArn=arn, ProvisioningStatus="LATEST_PERMISSION_SET_PROVISIONED")
    assert sso.admin.list_accounts_for_provisioned_permission_set(**latest)["AccountIds"] == [account]

    # A change is not in the account until it is provisioned.
    sso.admin.update_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, SessionDuration="PT8H", Description="Less")
    sso.admin.detach_managed_policy_from_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, ManagedPolicyArn=VIEW_ONLY)
    sso.admin.delete_inline_policy_from_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["MaxSessionDuration"] == 7200
    sso.admin.put_permissions_boundary_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, PermissionsBoundary={
        "CustomerManagedPolicyReference": {"Name": "TeamPolicy", "Path": "/teams/"}})
    assert sso.admin.get_permissions_boundary_for_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)["PermissionsBoundary"] == {
        "CustomerManagedPolicyReference": {"Name": "TeamPolicy", "Path": "/teams/"}}
    assert sso.admin.list_accounts_for_provisioned_permission_set(**latest)["AccountIds"] == []
    status = sso.wait("provision", sso.provision(arn, account))
    assert status["Status"] == "SUCCEEDED" and status["AccountId"] == account, status
    full = iam.get_role(RoleName=role["RoleName"])["Role"]
    assert full["MaxSessionDuration"] == 8 * 3600
    assert full["PermissionsBoundary"]["PermissionsBoundaryArn"] == f"arn:aws:iam::{account}:policy/teams/TeamPolicy"
    sso.admin.delete_permissions_boundary_from_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)
    sso.admin.detach_customer_managed_policy_reference_from_permission_set(
        InstanceArn=sso.instance, PermissionSetArn=arn, CustomerManagedPolicyReference={"Name": "TeamPolicy", "Path": "/teams/"})
    assert sso.admin.list_accounts_for_provisioned_permission_set(**latest)["AccountIds"] == []
    stale = dict(latest, ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED")
    assert sso.admin.list_accounts_for_provisioned_permission_set(**stale)["AccountIds"] == [account]
    status = sso.wait("provision", sso.provision(arn))
    assert status["Status"] == "SUCCEEDED", status
    full = iam.get_role(RoleName=role["RoleName"])["Role"]
    assert full["MaxSessionDuration"] == 8 * 3600
    assert "PermissionsBoundary" not in full
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]}
    assert attached == {READ_ONLY}
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == []
    assert sso.admin.list_accounts_for_provisioned_permission_set(**latest)["AccountIds"] == [account]
    listed = sso.admin.list_permission_set_provisioning_status(InstanceArn=sso.instance, Filter={"Status": "SUCCEEDED"})
    assert status["RequestId"] in [s["RequestId"] for s in listed["PermissionSetsProvisioningStatus"]]

    # Still provisioned: the guide says remove it from its accounts first.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.delete_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)
    assert error_code(e) == "ConflictException"
    assert account in e.value.response["Error"]["Message"]

    # The last assignment goes: so does the role (the identity provider stays).
    status = sso.wait("delete", sso.unassign(account, arn, user))
    assert status["Status"] == "SUCCEEDED", status
    assert role_of(moto, account, ps["Name"]) is None
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [provider_arn]
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account, PermissionSetArn=arn)["AccountAssignments"] == []
    assert sso.admin.list_permission_sets_provisioned_to_account(InstanceArn=sso.instance, AccountId=account)["PermissionSets"] == []
    deletions = sso.admin.list_account_assignment_deletion_status(InstanceArn=sso.instance)["AccountAssignmentsDeletionStatus"]
    assert [d["Status"] for d in deletions] == ["SUCCEEDED"]
    sso.admin.delete_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.describe_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn)
    assert error_code(e) == "ResourceNotFoundException"

    # Every call above is in the audit log, from sso.amazonaws.com, failures included.
    records = [json.loads(line) for line in server.cli("audit", "export", "--since", "1h").splitlines()]
    sso_events = {(r["eventName"], r.get("errorCode")) for r in records if r["eventSource"] == "sso.amazonaws.com"}
    for name in ["CreatePermissionSet", "AttachManagedPolicyToPermissionSet", "PutInlinePolicyToPermissionSet",
                 "AttachCustomerManagedPolicyReferenceToPermissionSet", "PutPermissionsBoundaryToPermissionSet",
                 "CreateAccountAssignment", "DescribeAccountAssignmentCreationStatus", "UpdatePermissionSet",
                 "ProvisionPermissionSet", "DeleteAccountAssignment", "DeletePermissionSet", "ListAccountAssignments",
                 "ListPermissionSetsProvisionedToAccount", "ListAccountsForProvisionedPermissionSet"]:
        assert (name, None) in sso_events, name
    assert ("DeletePermissionSet", "ConflictException") in sso_events


def test_validation_and_quotas(server):
    sso = Sso(server)

    def refused(code, call, **args):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(InstanceArn=sso.instance, **args)
        assert error_code(e) == code, e.value.response
        return e.value.response["Error"]["Message"]

    message = refused("ValidationException", sso.admin.create_permission_set, Name="too-long", SessionDuration="PT13H")
    assert "PT13H" in message and "PT12H" in message
    message = refused("ValidationException", sso.admin.create_permission_set, Name="x" * 33)
    assert "Name" in message
    refused("ValidationException", sso.admin.create_permission_set, Name="has space")
    refused("ValidationException", sso.admin.create_permission_set, Name="relay", RelayState="not a url")
    ps = sso.permission_set(name="Quota")
    assert ps["SessionDuration"] == "PT1H", "the default session is one hour"
    refused("ConflictException", sso.admin.create_permission_set, Name="quota")
    arn = ps["PermissionSetArn"]

    pad = 10_240 - len(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/"}]}, separators=(",", ":")))
    at_limit = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/" + "x" * pad}]}, indent=4)
    sso.admin.put_inline_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, InlinePolicy=at_limit)
    over = at_limit.replace("b/x", "b/xx")
    message = refused("ValidationException", sso.admin.put_inline_policy_to_permission_set, PermissionSetArn=arn, InlinePolicy=over)
    assert "10241" in message and "10240" in message
    refused("ValidationException", sso.admin.put_inline_policy_to_permission_set, PermissionSetArn=arn, InlinePolicy="{not json")

    for i in range(10):
        sso.admin.attach_managed_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn,
                                                          ManagedPolicyArn=f"arn:aws:iam::aws:policy/Policy{i}")
    message = refused("ServiceQuotaExceededException", sso.admin.attach_managed_policy_to_permission_set,
                      PermissionSetArn=arn, ManagedPolicyArn="arn:aws:iam::aws:policy/Policy10")
    assert "10" in message
    refused("ValidationException", sso.admin.attach_managed_policy_to_permission_set, PermissionSetArn=arn,
            ManagedPolicyArn="arn:aws:iam::123456789012:policy/NotAws")

    # 500 permission sets per instance (the guide's default quota), counting the bootstrap's
    # AdministratorAccess.
    for i in range(498):
        sso.admin.create_permission_set(InstanceArn=sso.instance, Name=f"Set{i}")
    message = refused("ServiceQuotaExceededException", sso.admin.create_permission_set, Name="Set500")
    assert "500" in message
    pages = sso.admin.get_paginator("list_permission_sets").paginate(InstanceArn=sso.instance)
    assert sum(len(p["PermissionSets"]) for p in pages) == 500

    # Assignments check what they name.
    refused("ResourceNotFoundException", sso.admin.create_account_assignment, TargetId="999999999999", TargetType="AWS_ACCOUNT",
            PermissionSetArn=arn, PrincipalType="USER", PrincipalId="00000000-0000-0000-0000-000000000000")
    refused("ResourceNotFoundException", sso.admin.describe_account_assignment_creation_status,
            AccountAssignmentCreationRequestId="00000000-0000-0000-0000-000000000000")


def test_unreachable_and_failing_iam_fail_with_the_cause_then_a_retry_succeeds(server, moto):
    sso = Sso(server)
    sso.connect(moto)
    account = sso.add_account()
    user = sso.user()
    ps = sso.permission_set()
    arn = ps["PermissionSetArn"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    sso.connect(moto, account=account, IamEndpoint=f"http://127.0.0.1:{closed}", StsEndpoint=f"http://127.0.0.1:{closed}")
    status = sso.wait("create", sso.assign(account, arn, user))
    assert status["Status"] == "FAILED"
    assert "sts:AssumeRole" in status["FailureReason"] and "onnection refused" in status["FailureReason"], status
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account, PermissionSetArn=arn)["AccountAssignments"] == []
    assert sso.admin.list_permission_sets_provisioned_to_account(InstanceArn=sso.instance, AccountId=account)["PermissionSets"] == []
    failed = sso.admin.list_account_assignment_creation_status(InstanceArn=sso.instance, Filter={"Status": "FAILED"})
    assert [s["RequestId"] for s in failed["AccountAssignmentsCreationStatus"]] == [status["RequestId"]]

    # IAM answers, but refuses: a managed policy that does not exist.
    sso.connect(moto, account=account)
    sso.admin.attach_managed_policy_to_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn,
                                                      ManagedPolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    status = sso.wait("create", sso.assign(account, arn, user))
    assert status["Status"] == "FAILED"
    assert "iam:AttachRolePolicy of arn:aws:iam::aws:policy/NoSuchPolicyAnywhere" in status["FailureReason"], status
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account, PermissionSetArn=arn)["AccountAssignments"] == []

    # Fixed: the same request again succeeds.
    sso.admin.detach_managed_policy_from_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn,
                                                        ManagedPolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    status = sso.wait("create", sso.assign(account, arn, user))
    assert status["Status"] == "SUCCEEDED", status
    assert role_of(moto, account, ps["Name"]) is not None


@pytest.mark.parametrize("backend", backends())
def test_ten_outstanding_creations_then_throttling_and_timeouts_fail_clearly(tmp_path, moto, backend):
    # An endpoint that accepts connections and never answers: requests stay in progress.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(100)
    server = Server(str(tmp_path), fresh_database(backend, str(tmp_path)))
    server.start(env={"GATEHOUSE_AWS_CALL_TIMEOUT_SECONDS": "4", "GATEHOUSE_PROVISIONING_WORKERS": "2"})
    try:
        sso = Sso(server)
        sso.connect(moto, IamEndpoint=f"http://127.0.0.1:{silent.getsockname()[1]}",
                    StsEndpoint=f"http://127.0.0.1:{silent.getsockname()[1]}")
        user = sso.user()
        ps = sso.permission_set()
        accounts = [sso.add_account() for _ in range(11)]
        ids = [sso.assign(a, ps["PermissionSetArn"], user) for a in accounts[:10]]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sso.assign(accounts[10], ps["PermissionSetArn"], user)
        assert error_code(e) == "ThrottlingException"
        assert "10" in e.value.response["Error"]["Message"]
        first = sso.wait("create", ids[0], timeout=30)
        assert first["Status"] == "FAILED"
        assert "timeout" in first["FailureReason"].lower(), first
        # One finished: there is room for the eleventh.
        sso.assign(accounts[10], ps["PermissionSetArn"], user)
    finally:
        server.kill(signal.SIGTERM)
        silent.close()


def test_tags_and_attributes_for_access_control_round_trip(server):
    sso = Sso(server)
    ps = sso.permission_set(Tags=[{"Key": "team", "Value": "data"}])
    arn = ps["PermissionSetArn"]
    assert sso.admin.list_tags_for_resource(InstanceArn=sso.instance, ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    sso.admin.tag_resource(InstanceArn=sso.instance, ResourceArn=arn, Tags=[{"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "ml"}])
    assert sso.admin.list_tags_for_resource(InstanceArn=sso.instance, ResourceArn=arn)["Tags"] == [
        {"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "ml"}]
    sso.admin.untag_resource(InstanceArn=sso.instance, ResourceArn=arn, TagKeys=["team"])
    assert sso.admin.list_tags_for_resource(InstanceArn=sso.instance, ResourceArn=arn)["Tags"] == [{"Key": "cost", "Value": "42"}]
    sso.admin.tag_resource(ResourceArn=sso.instance, Tags=[{"Key": "env", "Value": "prod"}])
    assert sso.admin.list_tags_for_resource(ResourceArn=sso.instance)["Tags"] == [{"Key": "env", "Value": "prod"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.tag_resource(ResourceArn=arn, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert error_code(e) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_code(e) == "ServiceQuotaExceededException"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.describe_instance_access_control_attribute_configuration(InstanceArn=sso.instance)
    assert error_code(e) == "ResourceNotFoundException"
    attributes = [{"Key": "Department", "Value": {"Source": ["${path:enterprise.department}"]}},
                  {"Key": "CostCenter", "Value": {"Source": ["${path:enterprise.costCenter}"]}}]
    sso.admin.create_instance_access_control_attribute_configuration(
        InstanceArn=sso.instance, InstanceAccessControlAttributeConfiguration={"AccessControlAttributes": attributes})
    got = sso.admin.describe_instance_access_control_attribute_configuration(InstanceArn=sso.instance)
    assert got["Status"] == "ENABLED"
    assert got["InstanceAccessControlAttributeConfiguration"]["AccessControlAttributes"] == attributes
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.create_instance_access_control_attribute_configuration(
            InstanceArn=sso.instance, InstanceAccessControlAttributeConfiguration={"AccessControlAttributes": attributes})
    assert error_code(e) == "ConflictException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.update_instance_access_control_attribute_configuration(
            InstanceArn=sso.instance, InstanceAccessControlAttributeConfiguration={
                "AccessControlAttributes": [{"Key": "Secret", "Value": {"Source": ["${path:password}"]}}]})
    assert error_code(e) == "ValidationException" and "${path:password}" in e.value.response["Error"]["Message"]
    sso.admin.update_instance_access_control_attribute_configuration(
        InstanceArn=sso.instance, InstanceAccessControlAttributeConfiguration={"AccessControlAttributes": attributes[:1]})
    got = sso.admin.describe_instance_access_control_attribute_configuration(InstanceArn=sso.instance)
    assert got["InstanceAccessControlAttributeConfiguration"]["AccessControlAttributes"] == attributes[:1]
    sso.admin.delete_instance_access_control_attribute_configuration(InstanceArn=sso.instance)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sso.admin.describe_instance_access_control_attribute_configuration(InstanceArn=sso.instance)
    assert error_code(e) == "ResourceNotFoundException"

    sso.admin.update_instance(InstanceArn=sso.instance, Name="Corp-SSO")
    assert sso.admin.describe_instance(InstanceArn=sso.instance)["Name"] == "Corp-SSO"


def test_ou_assignment_reaches_accounts_added_later_and_leaves_with_them(server, moto):
    sso = Sso(server)
    sso.connect(moto)
    orgs = server.client("organizations")
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = sso.ou("Workloads", root)
    nested = sso.ou("Prod", ou)
    before = sso.add_account(parent=nested)
    group = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Engineers")["GroupId"]
    ps = sso.permission_set()
    arn = ps["PermissionSetArn"]
    requests = sso.gh.create_organizational_unit_assignment(InstanceArn=sso.instance, TargetId=ou, PermissionSetArn=arn,
                                                           PrincipalType="GROUP", PrincipalId=group)["RequestIds"]
    assert len(requests) == 1
    assert sso.wait("create", requests[0])["Status"] == "SUCCEEDED"
    assert role_of(moto, before, ps["Name"]) is not None
    assert sso.gh.list_organizational_unit_assignments(InstanceArn=sso.instance)["Assignments"] == [
        {"TargetId": ou, "PermissionSetArn": arn, "PrincipalType": "GROUP", "PrincipalId": group}]

    later = sso.add_account(parent=nested)
    deadline = time.time() + 30
    while not sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=later, PermissionSetArn=arn)["AccountAssignments"]:
        assert time.time() < deadline, "the OU assignment did not reach the account added later"
        time.sleep(0.2)
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=later, PermissionSetArn=arn)["AccountAssignments"] == [
        {"AccountId": later, "PermissionSetArn": arn, "PrincipalType": "GROUP", "PrincipalId": group}]
    assert role_of(moto, later, ps["Name"]) is not None

    # Moved out of the OU: the access it gave goes.
    server.cli("account", "move", later, root)
    deadline = time.time() + 30
    while role_of(moto, later, ps["Name"]) is not None:
        assert time.time() < deadline, "the role stayed after the account left the OU"
        time.sleep(0.2)
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=later, PermissionSetArn=arn)["AccountAssignments"] == []

    # A direct assignment beside the OU's survives the OU assignment's removal.
    user = sso.user()
    assert sso.wait("create", sso.assign(before, arn, user))["Status"] == "SUCCEEDED"
    removed = sso.gh.delete_organizational_unit_assignment(InstanceArn=sso.instance, TargetId=ou, PermissionSetArn=arn,
                                                          PrincipalType="GROUP", PrincipalId=group)["RequestIds"]
    assert [sso.wait("delete", r)["Status"] for r in removed] == ["SUCCEEDED"]
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=before, PermissionSetArn=arn)["AccountAssignments"] == [
        {"AccountId": before, "PermissionSetArn": arn, "PrincipalType": "USER", "PrincipalId": user}]
    assert role_of(moto, before, ps["Name"]) is not None

    # Deleting the user removes its assignments, and the role nothing uses any more.
    sso.ids.delete_user(IdentityStoreId=sso.store_id, UserId=user)
    deadline = time.time() + 30
    while role_of(moto, before, ps["Name"]) is not None:
        assert time.time() < deadline, "the role stayed after its last user was deleted"
        time.sleep(0.2)
    assert sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=before, PermissionSetArn=arn)["AccountAssignments"] == []


def test_auto_reprovision_and_repairing_the_identity_provider(server, moto):
    sso = Sso(server)
    sso.connect(moto)
    account = sso.add_account()
    ps = sso.permission_set()
    arn = ps["PermissionSetArn"]
    assert sso.wait("create", sso.assign(account, arn, sso.user()))["Status"] == "SUCCEEDED"
    assert sso.gh.describe_provisioning_settings()["AutoReprovision"] is False
    sso.gh.put_provisioning_settings(AutoReprovision=True)
    sso.admin.update_permission_set(InstanceArn=sso.instance, PermissionSetArn=arn, SessionDuration="PT3H")
    role = role_of(moto, account, ps["Name"])["RoleName"]
    deadline = time.time() + 30
    while moto.iam(account).get_role(RoleName=role)["Role"]["MaxSessionDuration"] != 3 * 3600:
        assert time.time() < deadline, "the change was not provisioned by itself"
        time.sleep(0.2)

    iam = moto.iam(account)
    provider = iam.list_saml_providers()["SAMLProviderList"][0]["Arn"]
    removed = sso.gh.remove_identity_provider(AccountId=account)["SamlProviderArn"]
    assert removed == provider
    assert iam.list_saml_providers()["SAMLProviderList"] == []
    assert sso.gh.repair_identity_provider(AccountId=account)["SamlProviderArn"] == provider
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [provider]
    out = server.cli("account", "repair-idp", account)
    assert provider in out
    connection = sso.gh.describe_account_connection()["Connection"]
    assert connection["AccessKeyId"] == Moto.KEY and "SecretAccessKey" not in connection


@pytest.mark.parametrize("backend", backends())
def test_a_job_cut_short_by_a_crash_completes_after_restart(tmp_path, moto, backend):
    env = {"GATEHOUSE_PROVISIONING_LEASE_SECONDS": "2", "GATEHOUSE_PROVISIONING_WORKERS": "1"}
    server = Server(str(tmp_path), fresh_database(backend, str(tmp_path))).start(env=env)
    sso = Sso(server)
    sso.connect(moto)
    orgs = server.client("organizations")
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = sso.ou("Fleet", root)
    accounts = [sso.add_account(parent=ou) for _ in range(12)]
    ps = sso.permission_set()
    group = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Fleet")["GroupId"]
    requests = sso.gh.create_organizational_unit_assignment(InstanceArn=sso.instance, TargetId=ou, PermissionSetArn=ps["PermissionSetArn"],
                                                           PrincipalType="GROUP", PrincipalId=group)["RequestIds"]
    time.sleep(0.5)
    pending = sso.admin.list_account_assignment_creation_status(InstanceArn=sso.instance, Filter={"Status": "IN_PROGRESS"})
    assert pending["AccountAssignmentsCreationStatus"], "the crash must come while requests are in progress"
    server.kill(signal.SIGKILL)
    server.start(env=env)
    try:
        sso = Sso(server)
        statuses = [sso.wait("create", r, timeout=90) for r in requests]
        assert [s["Status"] for s in statuses] == ["SUCCEEDED"] * len(accounts), statuses
        for account in accounts:
            assert role_of(moto, account, ps["Name"]) is not None
            listed = sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account,
                                                        PermissionSetArn=ps["PermissionSetArn"])["AccountAssignments"]
            assert [a["PrincipalId"] for a in listed] == [group]
    finally:
        server.kill(signal.SIGTERM)


@pytest.mark.parametrize("backend", backends())
def test_permission_sets_per_account_quota_and_the_management_account(tmp_path, moto, backend):
    server = Server(str(tmp_path), fresh_database(backend, str(tmp_path)))
    server.start(env={"GATEHOUSE_MAX_PERMISSION_SETS_PER_ACCOUNT": "2"})
    try:
        sso = Sso(server)
        sso.connect(moto)
        account = sso.add_account()
        user = sso.user()
        sets = [sso.permission_set()["PermissionSetArn"] for _ in range(3)]
        for arn in sets[:2]:
            assert sso.wait("create", sso.assign(account, arn, user))["Status"] == "SUCCEEDED"
        # Another principal with a permission set the account has already: within the quota.
        group = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Team")["GroupId"]
        assert sso.wait("create", sso.assign(account, sets[0], group, "GROUP"))["Status"] == "SUCCEEDED"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sso.assign(account, sets[2], user)
        assert error_code(e) == "ServiceQuotaExceededException"
        assert account in e.value.response["Error"]["Message"] and "2" in e.value.response["Error"]["Message"]

        # The management account is Gatehouse's own: its roles need no IAM (issue 8 uses them).
        management = server.client("organizations").describe_organization()["Organization"]["MasterAccountId"]
        status = sso.wait("create", sso.assign(management, sets[2], user))
        assert status["Status"] == "SUCCEEDED", status.get("FailureReason")
        provisioned = sso.admin.list_permission_sets_provisioned_to_account(InstanceArn=sso.instance, AccountId=management)["PermissionSets"]
        assert sets[2] in provisioned and sets[0] not in provisioned and sets[1] not in provisioned

        # Deleting the group takes its assignment away; the user's keeps the role.
        sso.ids.delete_group(IdentityStoreId=sso.store_id, GroupId=group)
        listed = sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=account, PermissionSetArn=sets[0])["AccountAssignments"]
        assert [a["PrincipalId"] for a in listed] == [user]
        ps_name = sso.admin.describe_permission_set(InstanceArn=sso.instance, PermissionSetArn=sets[0])["PermissionSet"]["Name"]
        time.sleep(1.5)
        assert role_of(moto, account, ps_name) is not None
    finally:
        server.kill(signal.SIGTERM)
