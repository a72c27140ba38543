"""Provisioning benchmark (see run.sh): Gatehouse's assignments/s into moto next to moto's own
limit for the same IAM and STS calls."""

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.config
import botocore.session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY, SECRET = "AKIAGATEHOUSEMGMT001", "management-secret"
POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit(f"process on port {port} did not start")
            time.sleep(0.1)


def start_moto():
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def progress(label, done, total, started):
    rate = done / max(time.time() - started, 1e-9)
    print(f"\r  {label}: {done}/{total} ({rate:.1f}/s)", end="", file=sys.stderr, flush=True)


def gatehouse_run(args, moto):
    work = tempfile.mkdtemp(prefix="gatehouse-bench-provision.")
    data = os.path.join(work, "data")
    gh = [args.gatehouse, "--data-dir", data]
    port = free_port()
    env = dict(os.environ, GATEHOUSE_API_RATE_LIMIT="0", GATEHOUSE_LOG_LEVEL="warn",
               GATEHOUSE_PROVISIONING_WORKERS=str(args.workers), GATEHOUSE_MAX_PERMISSION_SETS_PER_ACCOUNT="50")
    server = subprocess.Popen(gh + ["serve", "--listen", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, env=env)
    banner = ""
    for line in server.stdout:
        banner += line
        if line.startswith("Gatehouse listening"):
            break
    key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", banner).group(1)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", banner).group(1)
    store_id = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", banner).group(1)
    core = botocore.session.Session()
    core.set_config_variable("data_path", os.path.join(ROOT, "clients/botocore"))
    session = boto3.session.Session(botocore_session=core)
    cfg = botocore.config.Config(retries={"max_attempts": 0}, max_pool_connections=20)

    def client(name):
        return session.client(name, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret, config=cfg)

    sso, gh_api, ids = client("sso-admin"), client("gatehouse"), client("identitystore")
    instance = sso.list_instances()["Instances"][0]["InstanceArn"]
    gh_api.put_account_connection(IamEndpoint=moto, StsEndpoint=moto, AccessKeyId=KEY, SecretAccessKey=SECRET)
    accounts = [f"{random.randrange(10**11, 10**12)}" for _ in range(args.accounts)]
    warm_up(moto, accounts)
    for a in accounts:
        subprocess.run(gh + ["account", "add", f"Bench {a}", "--email", f"{a}@bench.example", "--id", a], check=True,
                       capture_output=True, env=env)
    user = ids.create_user(IdentityStoreId=store_id, UserName="bench", DisplayName="Bench",
                           Name={"GivenName": "Bench", "FamilyName": "User"})["UserId"]
    sets = []
    for i in range(args.permission_sets):
        arn = sso.create_permission_set(InstanceArn=instance, Name=f"Bench{i}", SessionDuration="PT4H")["PermissionSet"]["PermissionSetArn"]
        sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=arn, ManagedPolicyArn=POLICY)
        sso.put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=arn, InlinePolicy=INLINE)
        sets.append(arn)

    work_items = [(a, ps) for ps in sets for a in accounts]
    total = len(work_items)
    outstanding, failed, done = {}, [], 0
    started = time.time()
    while work_items or outstanding:
        while work_items and len(outstanding) < 10:
            a, ps = work_items.pop()
            try:
                r = sso.create_account_assignment(InstanceArn=instance, TargetId=a, TargetType="AWS_ACCOUNT", PermissionSetArn=ps,
                                                  PrincipalType="USER", PrincipalId=user)
            except sso.exceptions.ThrottlingException:
                work_items.append((a, ps))
                break
            outstanding[r["AccountAssignmentCreationStatus"]["RequestId"]] = (a, ps)
        time.sleep(0.02)
        for request_id in list(outstanding):
            s = sso.describe_account_assignment_creation_status(InstanceArn=instance, AccountAssignmentCreationRequestId=request_id)
            status = s["AccountAssignmentCreationStatus"]
            if status["Status"] != "IN_PROGRESS":
                del outstanding[request_id]
                done += 1
                if status["Status"] == "FAILED":
                    failed.append(status.get("FailureReason"))
        progress("gatehouse", done, total, started)
    wall = time.time() - started
    print(file=sys.stderr)
    server.terminate()
    server.wait(timeout=30)
    subprocess.run(["rm", "-rf", work])
    if failed:
        sys.exit(f"{len(failed)} assignments failed, e.g. {failed[0]}")
    return total, wall, accounts


def direct_run(args, moto, accounts):
    """The least IAM and STS work the same assignments need, straight from boto3 with 10 threads
    (like the 10 outstanding requests): per account, assume the role and create the SAML
    provider once; per permission set, create the role, attach its policy, put its inline
    policy. What moto can do at most."""
    items = list(accounts)
    lock = threading.Lock()
    done = [0]
    total = len(accounts) * args.permission_sets
    started = time.time()

    def worker():
        cfg = botocore.config.Config(retries={"max_attempts": 0})
        sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=KEY,
                           aws_secret_access_key=SECRET, config=cfg)
        while True:
            with lock:
                if not items:
                    return
                account = items.pop()
            c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="direct")["Credentials"]
            iam = boto3.client("iam", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                               aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"], config=cfg)
            provider = iam.create_saml_provider(Name="DirectIdP", SAMLMetadataDocument=METADATA)["SAMLProviderArn"]
            trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}]})
            for i in range(args.permission_sets):
                role = f"Direct_{i}"
                iam.create_role(RoleName=role, Path="/direct/", AssumeRolePolicyDocument=trust, MaxSessionDuration=14400)
                iam.attach_role_policy(RoleName=role, PolicyArn=POLICY)
                iam.put_role_policy(RoleName=role, PolicyName="Inline", PolicyDocument=INLINE)
                with lock:
                    done[0] += 1
                    progress("moto direct", done[0], total, started)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(file=sys.stderr)
    return done[0], time.time() - started


# As long as Gatehouse's (IAM wants at least 1,000 characters): one certificate's worth of base64.
METADATA = ('<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://bench/saml">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>'
            + "A" * 1200 + '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://bench/saml/sso"/>'
            '</md:IDPSSODescriptor></md:EntityDescriptor>')


def warm_up(moto, accounts):
    """moto builds an account's IAM (with every AWS managed policy) on first use, which takes a
    while: done for every account before either run, so neither pays for it."""
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    started = time.time()
    for n, account in enumerate(accounts, 1):
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="warm")["Credentials"]
        boto3.client("iam", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                     aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]).list_roles(MaxItems=1)
        progress("moto warm-up", n, len(accounts), started)
    print(file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gatehouse", required=True)
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--permission-sets", type=int, default=5)
    p.add_argument("--workers", type=int, default=8)
    args = p.parse_args()
    moto_proc, moto = start_moto()
    try:
        total, wall, accounts = gatehouse_run(args, moto)
        direct_total, direct_wall = direct_run(args, moto, accounts)
    finally:
        moto_proc.terminate()
        try:
            moto_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            moto_proc.kill()
    ours, limit = total / wall, direct_total / direct_wall
    print(f"gatehouse: {total} assignments ({args.accounts} accounts x {args.permission_sets} permission sets) provisioned into moto "
          f"in {wall:.1f} s: {ours:.1f} assignments/s ({args.workers} workers, at most 10 outstanding)")
    print(f"moto limit: the same IAM/STS calls straight from boto3, 10 threads: {direct_total} in {direct_wall:.1f} s: {limit:.1f}/s")
    print(f"ratio gatehouse/limit: {ours / limit:.2f}")


if __name__ == "__main__":
    main()
