"""Builds the portal benchmark's world (see run.sh) through the real front doors, signs the person
in with the device flow, and hands the token to the Rust load generator."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import boto3
import botocore
import botocore.config
import botocore.session
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "provision"))
from bench import KEY, SECRET, free_port, progress, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "Bench-Passw0rd!"
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "identitystore:List*", "Resource": "*"}]})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gatehouse", required=True)
    p.add_argument("--load", required=True)
    p.add_argument("--accounts", type=int, default=500)
    p.add_argument("--groups", type=int, default=100)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=4)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="gatehouse-bench-portal.")
    moto_port = free_port()
    # Inline policies only: moto need not load AWS's managed policies into 500 accounts.
    moto = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(moto_port, moto)
    moto_url = f"http://127.0.0.1:{moto_port}"
    port = free_port()
    gh = [args.gatehouse, "--data-dir", os.path.join(work, "data")]
    env = dict(os.environ, GATEHOUSE_API_RATE_LIMIT="0", GATEHOUSE_LOG_LEVEL="warn", GATEHOUSE_PROVISIONING_WORKERS="8",
               GATEHOUSE_MAX_PERMISSION_SETS="1000")
    server = subprocess.Popen(gh + ["serve", "--listen", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, env=env)
    try:
        banner = ""
        for line in server.stdout:
            banner += line
            if line.startswith("Gatehouse listening"):
                break
        endpoint = f"http://localhost:{port}"
        key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", banner).group(1)
        secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", banner).group(1)
        store = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", banner).group(1)
        core = botocore.session.Session()
        core.set_config_variable("data_path", os.path.join(ROOT, "clients/botocore"))
        session = boto3.session.Session(botocore_session=core)
        cfg = botocore.config.Config(retries={"max_attempts": 0})

        def client(name):
            return session.client(name, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                                  aws_secret_access_key=secret, config=cfg)

        sso, ids, gha, orgs = client("sso-admin"), client("identitystore"), client("gatehouse"), client("organizations")
        instance = sso.list_instances()["Instances"][0]["InstanceArn"]
        management = orgs.describe_organization()["Organization"]["MasterAccountId"]
        gha.put_account_connection(IamEndpoint=moto_url, StsEndpoint=moto_url, AccessKeyId=KEY, SecretAccessKey=SECRET)
        started = time.time()
        accounts = []
        for i in range(args.accounts):
            a = f"{100000000000 + i}"
            subprocess.run(gh + ["account", "add", f"Bench {i}", "--email", f"{a}@bench.example", "--id", a], check=True,
                           capture_output=True, env=env)
            accounts.append(a)
            progress("accounts", i + 1, args.accounts, started)
        print(file=sys.stderr)
        user = ids.create_user(IdentityStoreId=store, UserName="bench", DisplayName="Bench",
                               Name={"GivenName": "Bench", "FamilyName": "User"})["UserId"]
        subprocess.run(gh + ["user", "set-password", "bench"], input=PASSWORD + "\n", text=True, check=True, capture_output=True, env=env)
        groups = []
        for g in range(args.groups):
            gid = ids.create_group(IdentityStoreId=store, DisplayName=f"Group {g}")["GroupId"]
            ids.create_group_membership(IdentityStoreId=store, GroupId=gid, MemberId={"UserId": user})
            groups.append(gid)
        sets = []
        for i in range(args.accounts):
            arn = sso.create_permission_set(InstanceArn=instance, Name=f"Role{i}")["PermissionSet"]["PermissionSetArn"]
            sso.put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=arn, InlinePolicy=INLINE)
            sets.append(arn)
        # Account i: permission set i for group i % groups; the management account: set 0 for the person.
        work_items = [(accounts[i], sets[i], "GROUP", groups[i % args.groups]) for i in range(args.accounts)]
        work_items.append((management, sets[0], "USER", user))
        outstanding, done, started = {}, 0, time.time()
        total = len(work_items)
        while work_items or outstanding:
            while work_items and len(outstanding) < 10:
                a, ps, kind, principal = work_items.pop()
                r = sso.create_account_assignment(InstanceArn=instance, TargetId=a, TargetType="AWS_ACCOUNT", PermissionSetArn=ps,
                                                  PrincipalType=kind, PrincipalId=principal)
                outstanding[r["AccountAssignmentCreationStatus"]["RequestId"]] = a
            time.sleep(0.05)
            for rid in list(outstanding):
                s = sso.describe_account_assignment_creation_status(InstanceArn=instance, AccountAssignmentCreationRequestId=rid)
                status = s["AccountAssignmentCreationStatus"]
                if status["Status"] == "FAILED":
                    sys.exit(f"an assignment failed: {status.get('FailureReason')}")
                if status["Status"] == "SUCCEEDED":
                    del outstanding[rid]
                    done += 1
            progress("assignments", done, total, started)
        print(file=sys.stderr)

        # The device flow, approved on the portal's pages by a browser without JavaScript.
        oidc = boto3.client("sso-oidc", endpoint_url=endpoint, region_name="us-east-1",
                            config=botocore.config.Config(signature_version=botocore.UNSIGNED))
        reg = oidc.register_client(clientName="bench", clientType="public")
        start = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=endpoint + "/start")
        browser = requests.Session()
        browser.cookies.set("gh_csrf", "bench-csrf")
        signed = browser.post(endpoint + "/start/signin", data={"csrf": "bench-csrf", "username": "bench", "password": PASSWORD,
                                                                 "next": "/start/"}, allow_redirects=False)
        assert signed.status_code == 303, signed.text
        decided = browser.post(endpoint + "/start/device", data={"csrf": "bench-csrf", "user_code": start["userCode"], "decision": "approve"})
        assert decided.status_code == 200 and "approved" in decided.text, decided.text
        time.sleep(1.1)
        token = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                  grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=start["deviceCode"])["accessToken"]
        print(f"world: {args.accounts} accounts, {args.accounts} permission sets, {args.groups} groups holding the person; "
              f"{args.seconds} s per operation, {args.concurrency} connections")
        subprocess.run([args.load, "--endpoint", f"127.0.0.1:{port}", "--token", token, "--account", accounts[0],
                        "--management", management, "--role", "Role0", "--seconds", str(args.seconds),
                        "--concurrency", str(args.concurrency)], check=True)
    finally:
        server.terminate()
        moto.terminate()
        for proc in (server, moto):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
