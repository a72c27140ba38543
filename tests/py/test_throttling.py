"""The guide's "All AWS SSO APIs have a throttle limit maximum of 20 transactions per second":
100 concurrent calls against a server at its default limit. Without retries some are refused
with ThrottlingException; with boto3's standard retry mode all 100 complete."""

import concurrent.futures
import signal

from botocore.exceptions import ClientError


def burst(client, store_id, n=100):
    def call(_):
        try:
            client.list_users(IdentityStoreId=store_id, MaxResults=1)
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        return list(pool.map(call, range(n)))


def test_rate_limit_and_standard_retries(server, ids):
    _, store_id = ids
    key, secret = server.secrets()
    server.kill(signal.SIGTERM)
    server.start(rate_limit=20)

    no_retry = server.client(key=key, secret=secret, max_pool_connections=20)
    results = burst(no_retry, store_id)
    assert results.count("ThrottlingException") > 0, results
    assert set(results) <= {"ok", "ThrottlingException"}, results

    standard = server.client(key=key, secret=secret, max_pool_connections=20,
                             retries={"mode": "standard", "max_attempts": 10})
    assert burst(standard, store_id) == ["ok"] * 100
