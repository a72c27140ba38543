"""The AWS CLI (v1, from PyPI) pointed at Gatehouse with --endpoint-url works unchanged."""

import json
import os
import subprocess
import sys

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


def aws(server, *args, key=None, secret=None):
    if key is None:
        key, secret = server.secrets()
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_PROFILE", None)
    return subprocess.run([AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
                          capture_output=True, text=True, env=env)


def test_aws_cli_identitystore(server, ids):
    _, store_id = ids
    created = aws(server, "identitystore", "create-user", "--identity-store-id", store_id, "--user-name", "cli-user",
                  "--display-name", "CLI User", "--name", "GivenName=Cli,FamilyName=User",
                  "--emails", "Value=cli@example.com,Type=work,Primary=true")
    assert created.returncode == 0, created.stderr
    user_id = json.loads(created.stdout)["UserId"]

    listed = aws(server, "identitystore", "list-users", "--identity-store-id", store_id)
    assert listed.returncode == 0, listed.stderr
    assert "cli-user" in [u["UserName"] for u in json.loads(listed.stdout)["Users"]]

    group = json.loads(aws(server, "identitystore", "create-group", "--identity-store-id", store_id,
                           "--display-name", "CLI Group").stdout)["GroupId"]
    member = aws(server, "identitystore", "create-group-membership", "--identity-store-id", store_id,
                 "--group-id", group, "--member-id", f"UserId={user_id}")
    assert member.returncode == 0, member.stderr
    got = aws(server, "identitystore", "get-user-id", "--identity-store-id", store_id, "--alternate-identifier",
              '{"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "cli-user"}}')
    assert json.loads(got.stdout)["UserId"] == user_id

    # Errors: the CLI prints AWS's error code and message and exits 255 (v1).
    dup = aws(server, "identitystore", "create-group", "--identity-store-id", store_id, "--display-name", "cli group")
    assert dup.returncode == 255 and "(ConflictException)" in dup.stderr, dup.stderr
    missing = aws(server, "identitystore", "describe-user", "--identity-store-id", store_id,
                  "--user-id", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 255 and "(ResourceNotFoundException)" in missing.stderr
    key, secret = server.secrets()
    bad = aws(server, "identitystore", "list-users", "--identity-store-id", store_id, key=key, secret="x" * 40)
    assert bad.returncode == 255 and "(InvalidSignatureException)" in bad.stderr, bad.stderr
