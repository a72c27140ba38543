"""A bounded soak across two nodes on one PostgreSQL (GATEHOUSE_SOAK_SECONDS, default 60): mixed
load — portal sign-ins, SCIM user creations, identitystore reads and SAML sign-ins to an
application — alternating between the nodes, while one node is killed with SIGKILL midway and
started again. At the end:
- no acknowledged write is lost: every user SCIM answered 201 for exists (reconciled through the
  identity store API);
- the only errors are requests to the killed node while it was down (refused connections, or a
  request cut off in flight);
- p50 and p99 per operation are printed."""

import base64
import json
import os
import random
import re
import signal
import statistics
import threading
import time

import pytest
import requests

from conftest import PG, Server, fresh_database
from test_saml_apps import PASSWORD, make_user, new_app
from test_scim import Scim, okta_user

SECONDS = float(os.environ.get("GATEHOUSE_SOAK_SECONDS", "60"))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = {}
        self.unexpected = []
        self.down_errors = 0
        self.acknowledged = []

    def took(self, op, seconds):
        with self.lock:
            self.times.setdefault(op, []).append(seconds)


def portal_sign_in(base, user):
    s = requests.Session()
    page = s.get(base + "/start/signin", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = s.post(base + "/start/signin", data={"csrf": csrf, "username": user, "password": PASSWORD, "next": "/start/"}, timeout=10)
    assert f'id="user-name">{user}<' in done.text, done.text[:300]
    return s


@pytest.mark.skipif(not PG, reason="needs GATEHOUSE_TEST_DATABASE_URL")
def test_soak_two_nodes_one_killed_midway(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GATEHOUSE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("GATEHOUSE_PUBLIC_URL", "http://localhost:9")
    database = fresh_database("postgres", str(tmp_path))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Server(str(tmp_path / "a"), database).start()
    b = Server(str(tmp_path / "b"), database)
    b.banner = a.banner
    b.start()
    nodes = [a, b]
    try:
        store = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", a.banner).group(1)
        ids = a.client()
        users = [f"soak{i}" for i in range(3)]
        for u in users:
            make_user(a, (ids, store), u)
        arn, app_id = new_app(a, name="Soak app")
        a.client("gatehouse").put_application_saml_configuration(ApplicationArn=arn, AcsUrl="https://app.example.com/acs",
                                                                 Audience="https://app.example.com")
        for u in users:
            uid = ids.get_user_id(IdentityStoreId=store, AlternateIdentifier={
                "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": u}})["UserId"]
            a.client("sso-admin").create_application_assignment(ApplicationArn=arn, PrincipalId=uid, PrincipalType="USER")
        token = json.loads(a.cli("-o", "json", "scim", "enable"))["AccessToken"]

        stats = Stats()
        down = threading.Event()  # node b is being killed or restarted
        stop_at = time.time() + SECONDS
        base = lambda n: n.endpoint.replace("127.0.0.1", "localhost")  # noqa: E731

        def run(op, node, call):
            started = time.time()
            try:
                call(node)
                stats.took(op, time.time() - started)
            except (requests.exceptions.ConnectionError, ConnectionError) as e:
                if node is b and (down.is_set() or b.proc.poll() is not None):
                    with stats.lock:
                        stats.down_errors += 1
                else:
                    stats.unexpected.append(f"{op} on {'a' if node is a else 'b'}: {e!r}")
            except Exception as e:  # noqa: BLE001 (any other failure is a finding)
                if node is b and (down.is_set() or b.proc.poll() is not None) and "Connection" in repr(e):
                    with stats.lock:
                        stats.down_errors += 1
                else:
                    stats.unexpected.append(f"{op} on {'a' if node is a else 'b'}: {e!r}")

        def sign_in(node):
            portal_sign_in(base(node), random.choice(users))

        def saml(node):
            s = portal_sign_in(base(node), random.choice(users))
            r = s.get(base(node) + f"/start/applications/{app_id}", timeout=10)
            assert r.status_code == 200 and 'name="SAMLResponse"' in r.text, r.text[:300]

        def scim_write(node):
            name = f"w{random.getrandbits(48):x}"
            r = Scim(node, token).post("/Users", okta_user(name), timeout=10)
            assert r.status_code == 201, r.text[:300]
            with stats.lock:
                stats.acknowledged.append(f"{name}@example.com")

        def read(node):
            client = node.client()
            client.list_users(IdentityStoreId=store, MaxResults=20)

        def worker(op, call):
            i = 0
            while time.time() < stop_at:
                run(op, nodes[i % 2], call)
                i += 1

        threads = [threading.Thread(target=worker, args=(op, call)) for op, call in
                   [("sign-in", sign_in), ("saml", saml), ("scim-write", scim_write), ("scim-write", scim_write), ("read", read)]]
        for t in threads:
            t.start()
        time.sleep(SECONDS / 3)
        down.set()
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(timeout=30)
        time.sleep(2)
        b.start()
        time.sleep(1)
        down.clear()
        for t in threads:
            t.join()

        # Reconcile: every acknowledged write is there, read through the API.
        existing = set()
        paginator = ids.get_paginator("list_users")
        for page in paginator.paginate(IdentityStoreId=store):
            existing.update(u["UserName"] for u in page["Users"])
        lost = [u for u in stats.acknowledged if u not in existing]
        with capsys.disabled():  # the figures belong in the test log
            print()
            for op, times in sorted(stats.times.items()):
                q = statistics.quantiles(times, n=100) if len(times) > 1 else [times[0]] * 99
                print(f"soak {op:<10} n={len(times):>5}  p50={1000 * statistics.median(times):7.1f} ms  p99={1000 * q[98]:7.1f} ms")
            print(f"soak acknowledged writes={len(stats.acknowledged)} lost={len(lost)} errors while b was down={stats.down_errors}")
        assert not lost, lost[:10]
        assert not stats.unexpected, stats.unexpected[:10]
        assert all(len(stats.times.get(op, [])) > 5 for op in ("sign-in", "saml", "scim-write", "read")), stats.times.keys()
    finally:
        for n in nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.kill(signal.SIGTERM)
