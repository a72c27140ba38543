"""Durability: boto3 creates 1,000 users through the server; the server is killed with SIGKILL
part-way. After a restart, every user the server acknowledged exists, with its audit record."""

import json
import re
import signal

from botocore.exceptions import BotoCoreError, ClientError


def test_sigkill_server_during_1000_creations(server, ids):
    client, store_id = ids
    acked = {}
    for i in range(1000):
        try:
            resp = client.create_user(
                IdentityStoreId=store_id, UserName=f"crash{i:04}", DisplayName=f"Crash {i}",
                Name={"GivenName": "Crash", "FamilyName": str(i)},
                Emails=[{"Value": f"crash{i:04}@example.com", "Primary": True}])
            acked[f"crash{i:04}"] = resp["UserId"]
        except (BotoCoreError, ClientError):
            break  # the server is gone
        if len(acked) == 300:
            server.kill(signal.SIGKILL)
    assert 300 <= len(acked) < 1000

    server.start()  # same data directory and database
    client = server.client(key=client._request_signer._credentials.access_key,
                           secret=client._request_signer._credentials.secret_key)
    for name, user_id in acked.items():
        user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
        assert user["UserName"] == name
    records = [json.loads(l) for l in server.cli("audit", "export", "--since", "1h").splitlines()]
    audited = {r["requestParameters"]["userName"]: r["responseElements"]["userId"]
               for r in records if r["eventName"] == "CreateUser" and not r.get("errorCode")}
    for name, user_id in acked.items():
        assert audited.get(name) == user_id, f"{name} has no audit record"
