"""Load N users into a running moto_server's identity store; print the store id, write the ids."""

import concurrent.futures
import sys

import boto3

endpoint, count, ids_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIAMOTO", aws_secret_access_key="moto")
store = boto3.client("sso-admin", **kw).list_instances()["Instances"][0]["IdentityStoreId"]
ids = boto3.client("identitystore", **kw)


def create(i):
    return ids.create_user(IdentityStoreId=store, UserName=f"user{i:06}", DisplayName=f"Bench User {i}",
                           Name={"GivenName": "Bench", "FamilyName": f"User{i}"},
                           Emails=[{"Value": f"user{i:06}@example.com", "Type": "work", "Primary": True}])["UserId"]


# One writer: moto's in-memory backend answers 500s under concurrent writes.
with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
    user_ids = list(pool.map(create, range(count)))
with open(ids_file, "w") as f:
    f.write("\n".join(user_ids))
print(store)
