"""Operating Gatehouse's data with the command line an operator uses: `gatehouse backup` (online,
SQLite), `gatehouse restore` (server stopped), `gatehouse migrate --to postgres://…` (a single-node
SQLite install moved to PostgreSQL) and `gatehouse check`; and `trusted_proxies`. Each round trip keeps every user,
group, membership, permission set, assignment, application, certificate, token and audit record:
the tables are counted on both sides, and the restored or migrated server is used through its
real clients (boto3, the portal sign-in, SAML metadata signed with the migrated key)."""

import base64
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest
import requests

from conftest import BIN, PG, Server, backends, fresh_database
from test_permission_sets import Sso
from test_saml_apps import PASSWORD, make_user, new_app


def populate(server):
    """One of everything the acceptance lists."""
    sso = Sso(server)
    ids = (sso.ids, sso.store_id)
    alice = make_user(server, ids, "alice")
    group = sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Engineers")["GroupId"]
    sso.ids.create_group_membership(IdentityStoreId=sso.store_id, GroupId=group, MemberId={"UserId": alice})
    ps = sso.permission_set(name="Readers")["PermissionSetArn"]
    management = server.client("organizations").describe_organization()["Organization"]["MasterAccountId"]
    assert sso.wait("create", sso.assign(management, ps, group, "GROUP"))["Status"] == "SUCCEEDED"
    arn, app_id = new_app(server, name="Wiki")
    server.client("sso-admin").create_application_assignment(ApplicationArn=arn, PrincipalId=group, PrincipalType="GROUP")
    sso.gh.create_application_certificate(ApplicationArn=arn, ValidityMonths=12, KeySize=2048, SignatureAlgorithm="SHA256")
    sso.gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl="https://wiki.example.com/saml/acs", Audience="https://wiki.example.com")
    server.cli("scim", "enable")
    return {"alice": alice, "group": group, "ps": ps, "app": app_id, "management": management}


def counts(server, *args):
    """`--output json` table counts of a backup, restore or migration: every table equal."""
    out = json.loads(server.cli("--output", "json", *args))
    tables = {t["Table"]: (t["Source"], t["Target"]) for t in out["Tables"]}
    assert all(s == t for s, t in tables.values()), tables
    return {name: s for name, (s, _) in tables.items()}


def metadata(server, app_id):
    r = requests.get(f"{server.endpoint}/saml/{app_id}/metadata", timeout=10)
    assert r.status_code == 200, r.text
    return r.text


def check_data(server, made, absent=None):
    """The data is there, and its sealed secrets open: a password sign-in, the app's signing
    certificate, the SCIM token list."""
    sso = Sso(server)
    users = {u["UserName"] for u in sso.ids.list_users(IdentityStoreId=sso.store_id)["Users"]}
    assert {"Administrator", "alice"} <= users, users
    assert absent not in users, users
    members = sso.ids.list_group_memberships(IdentityStoreId=sso.store_id, GroupId=made["group"])["GroupMemberships"]
    assert [m["MemberId"]["UserId"] for m in members] == [made["alice"]]
    assigned = sso.admin.list_account_assignments(InstanceArn=sso.instance, AccountId=made["management"],
                                                  PermissionSetArn=made["ps"])["AccountAssignments"]
    assert [a["PrincipalId"] for a in assigned] == [made["group"]]
    assert "X509Certificate>MII" in metadata(server, made["app"])
    signin = requests.Session()
    page = signin.get(f"{server.endpoint}/start/signin", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = signin.post(f"{server.endpoint}/start/signin", data={"csrf": csrf, "username": "alice", "password": PASSWORD, "next": "/start/"},
                       timeout=10, allow_redirects=True)
    assert "alice" in done.text and "/start/signin" not in done.url, done.url
    # The application's tile signs a SAML Response with its sealed private key.
    tile = signin.get(f"{server.endpoint}/start/applications/{made['app']}", timeout=10)
    assert tile.status_code == 200 and 'name="SAMLResponse"' in tile.text, tile.text[:500]
    response = base64.b64decode(re.search(r'name="SAMLResponse" value="([^"]+)"', tile.text).group(1)).decode()
    assert "SignatureValue" in response and "https://wiki.example.com/saml/acs" in response


def stop(server):
    server.kill(signal.SIGTERM)


@pytest.fixture
def servers():
    """The servers a test starts: stopped at its end, whatever happens."""
    started = []
    yield started
    for s in started:
        if s.proc is not None and s.proc.poll() is None:
            s.kill(signal.SIGTERM)


def test_backup_while_serving_then_restore_after_stopping(tmp_path, servers):
    server = Server(str(tmp_path), "").start()
    servers.append(server)
    made = populate(server)
    backup = tmp_path / "gatehouse-backup.db"
    before = counts(server, "backup", str(backup))
    assert before["users"] >= 2 and before["group_memberships"] == 1 and before["app_certificates"] >= 2
    assert before["account_assignments"] >= 2 and before["scim_tokens"] >= 1 and before["audit_events"] > 10
    # Refused: the file exists; a restore while the server runs.
    refused = subprocess.run(server.args("backup", str(backup)), capture_output=True, text=True)
    assert refused.returncode != 0 and "exists already" in refused.stderr
    later = Sso(server).ids.create_user(IdentityStoreId=Sso(server).store_id, UserName="after-backup", DisplayName="Later",
                                        Name={"GivenName": "L", "FamilyName": "B"})["UserId"]
    assert later
    running = subprocess.run(server.args("restore", str(backup)), capture_output=True, text=True)
    assert running.returncode != 0 and "stop it first" in running.stderr, running.stderr

    stop(server)
    restored = counts(server, "restore", str(backup))
    assert restored == before
    server.start()
    check_data(server, made, absent="after-backup")
    stop(server)


@pytest.mark.skipif(not PG, reason="needs GATEHOUSE_TEST_DATABASE_URL")
def test_migrate_a_sqlite_install_to_postgresql(tmp_path, servers):
    server = Server(str(tmp_path), "").start()
    servers.append(server)
    made = populate(server)
    stop(server)
    target = PG.rsplit("/", 1)[0] + "/gh_migrate_" + uuid.uuid4().hex
    subprocess.run(["psql", "-q", PG, "-c", f"CREATE DATABASE {target.rsplit('/', 1)[1]}"], check=True, capture_output=True)
    migrated = counts(server, "migrate", "--to", target)
    assert migrated["users"] >= 2 and migrated["audit_events"] > 10 and migrated["app_certificates"] >= 2
    # Into a database that holds an instance already: refused, nothing touched.
    again = subprocess.run(server.args("migrate", "--to", target), capture_output=True, text=True)
    assert again.returncode != 0 and "already" in again.stderr, again.stderr

    # The same data directory (its master key) on PostgreSQL.
    on_pg = Server(str(tmp_path), target)
    on_pg.banner = server.banner  # the bootstrap access key printed at the first start
    on_pg.start()
    servers.append(on_pg)
    check = json.loads(on_pg.cli("--output", "json", "check"))["Tables"]
    assert check["users"] == migrated["users"] and check["audit_events"] >= migrated["audit_events"]
    check_data(on_pg, made)
    # New records carry on after the migrated ones.
    events = [json.loads(line) for line in on_pg.cli("audit", "export", "--since", "1h").splitlines()]
    assert len({e["eventID"] for e in events}) == len(events)
    stop(on_pg)


@pytest.mark.parametrize("trusted", [False, True])
def test_x_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path, trusted):
    """Behind a proxy on 127.0.0.1: with it listed in trusted_proxies, X-Forwarded-For names the
    client in the audit log (and for rate limits and lockouts); otherwise the header is ignored."""
    env = {"GATEHOUSE_TRUSTED_PROXIES": '["127.0.0.1", "10.0.0.0/8"]'} if trusted else {}
    server = Server(str(tmp_path), "").start(env=env)
    try:
        sso = Sso(server)

        def forwarded(request, **_):
            request.headers["X-Forwarded-For"] = "198.51.100.23, 203.0.113.9, 10.1.2.3"

        sso.ids.meta.events.register("before-sign.identitystore.*", forwarded)
        sso.ids.create_group(IdentityStoreId=sso.store_id, DisplayName="Proxied")
        events = [json.loads(line) for line in server.cli("audit", "export", "--since", "1h").splitlines()]
        (created,) = [e for e in events if e["eventName"] == "CreateGroup"]
        assert created["sourceIPAddress"] == ("203.0.113.9" if trusted else "127.0.0.1")
        # The portal too: a failed sign-in's records name the same client.
        browser = requests.Session()
        browser.headers["X-Forwarded-For"] = "203.0.113.77"
        page = browser.get(f"{server.endpoint}/start/signin", timeout=10)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        browser.post(f"{server.endpoint}/start/signin", data={"csrf": csrf, "username": "Administrator", "password": "wrong",
                                                             "next": "/start/"}, timeout=10)
        events = [json.loads(line) for line in server.cli("audit", "export", "--since", "1h").splitlines()]
        failed = [e for e in events if e["eventName"] == "CredentialVerification"]
        assert failed and {e["sourceIPAddress"] for e in failed} == {"203.0.113.77" if trusted else "127.0.0.1"}
    finally:
        stop(server)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_the_systemd_unit_verifies(tmp_path):
    """packaging/gatehouse.service, pointed at the binary under test, passes systemd's checks."""
    unit = (pathlib.Path(__file__).resolve().parents[2] / "packaging" / "gatehouse.service").read_text()
    assert "ExecStart=/usr/local/bin/gatehouse serve" in unit
    copy = tmp_path / "gatehouse.service"
    copy.write_text(unit.replace("/usr/local/bin/gatehouse", os.path.abspath(BIN)))
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True)
    assert done.returncode == 0 and "gatehouse.service" not in done.stderr, done.stderr


def self_signed(cert_path, key_path, name):
    """A certificate for localhost and 127.0.0.1 with `name` as its common name; returns its PEM."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_path.write_bytes(pem)
    return pem.decode()


def served_certificate(endpoint):
    import ssl
    host, port = endpoint.split("://")[1].rsplit(":", 1)
    return ssl.get_server_certificate((host, int(port)))


def test_tls_with_hsts_and_a_certificate_renewed_without_restart(tmp_path):
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    first = self_signed(cert, key, "gatehouse-first")
    server = Server(str(tmp_path), "").start(env={"GATEHOUSE_TLS_CERTIFICATE_FILE": str(cert), "GATEHOUSE_TLS_KEY_FILE": str(key)})
    try:
        assert server.endpoint.startswith("https://127.0.0.1:")
        ca = tmp_path / "first.pem"
        ca.write_text(first)
        r = requests.get(server.endpoint + "/healthz", verify=str(ca), timeout=10)
        assert r.status_code == 200
        assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert "Sign in at https://localhost:" in server.banner
        # boto3 over HTTPS, trusting the certificate.
        ids = server.client(verify=str(ca))
        assert ids.list_users(IdentityStoreId=re.search(r"Identity store:\s+(d-[0-9a-f]{10})", server.banner).group(1))["Users"]
        # Plain HTTP to the TLS port is refused.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.endpoint.replace("https://", "http://") + "/healthz", timeout=5)

        # A renewed certificate is picked up without a restart.
        second = self_signed(cert, key, "gatehouse-second")
        deadline = time.time() + 20
        while served_certificate(server.endpoint) != second:
            assert time.time() < deadline, "the renewed certificate was not loaded"
            time.sleep(0.5)
        # A broken file leaves the working certificate in place.
        cert.write_text("-----BEGIN CERTIFICATE-----\nbroken\n")
        time.sleep(5)
        assert served_certificate(server.endpoint) == second
        assert server.proc.poll() is None
    finally:
        stop(server)


def add_app(server, user):
    """`gatehouse mfa device add-app`: the secret it prints, confirmed with a current code."""
    import pyotp
    proc = subprocess.Popen(server.args("mfa", "device", "add-app", user, "--name", "phone"), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secret = None
    for line in proc.stderr:
        if line.startswith("Secret key:"):
            secret = line.split(":", 1)[1].strip()
        if "current code" in line:
            break
    _, err = proc.communicate(pyotp.TOTP(secret).now() + "\n", timeout=60)
    assert proc.returncode == 0, err
    return secret


def sealed_values(server):
    """The sealed values at rest in the server's database (SQLite or PostgreSQL): (table, value)."""
    queries = [("mfa_devices", "SELECT secret FROM mfa_devices"), ("app_certificates", "SELECT sealed_key FROM app_certificates"),
               ("settings", "SELECT value FROM settings WHERE value LIKE '%gh1:%'")]
    if server.database_url:
        def rows(sql):
            out = subprocess.run(["psql", "-At", server.database_url, "-c", sql], capture_output=True, text=True, check=True).stdout
            return [line for line in out.splitlines() if line]
    else:
        import sqlite3
        db = sqlite3.connect(os.path.join(server.data_dir, "gatehouse.db"))

        def rows(sql):
            return [v for (v,) in db.execute(sql)]
    found = [(table, v) for table, sql in queries for v in rows(sql)]
    return [(t, s) for t, v in found for s in re.findall(r"gh1:[A-Za-z0-9+/=]+", v)]


def opens(key_b64, sealed):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    raw = base64.b64decode(sealed[len("gh1:"):])
    try:
        AESGCM(base64.b64decode(key_b64)).decrypt(raw[:12], raw[12:], None)
        return True
    except Exception:
        return False


@pytest.mark.parametrize("backend", backends())
def test_master_key_rotation_while_the_server_runs(tmp_path, servers, backend):
    """`gatehouse key rotate` with the server running: a new key, every secret sealed again under
    it (the old key opens none of them), and the server signs, verifies TOTP codes and reaches
    its account connection's secret without a restart, and after one."""
    import pyotp
    server = Server(str(tmp_path), fresh_database(backend, str(tmp_path))).start()
    servers.append(server)
    made = populate(server)
    secret = add_app(server, "alice")
    Sso(server).gh.put_account_connection(IamEndpoint="http://127.0.0.1:9", StsEndpoint="http://127.0.0.1:9",
                                          AccessKeyId="AKIAEXAMPLEROTATE001", SecretAccessKey="connection-secret")
    old = (pathlib.Path(server.data_dir) / "master.key").read_text().strip()
    before = sealed_values(server)
    assert {t for t, _ in before} == {"mfa_devices", "app_certificates", "settings"} and all(opens(old, s) for _, s in before)

    rotated = json.loads(server.cli("--output", "json", "key", "rotate", "--wait-seconds", "5"))["Resealed"]
    assert rotated["mfa_devices"] == 1 and rotated["app_certificates"] >= 2 and rotated["settings"] >= 1, rotated
    new = (pathlib.Path(server.data_dir) / "master.key").read_text().strip()
    assert new != old and old in (pathlib.Path(server.data_dir) / "master.key.previous").read_text()
    after = sealed_values(server)
    assert len(after) == len(before)
    assert all(opens(new, s) and not opens(old, s) for _, s in after), "the old key still opens a secret"

    # Each code answers once: every sign-in uses the step after the last one used (the
    # registration used the current one), waiting for the clock when it must.
    used = [int(time.time() // 30)]

    def next_code():
        step = used[0] + 1
        while step > int(time.time() // 30) + 1:
            time.sleep(1)
        used[0] = step
        return pyotp.TOTP(secret).at(step * 30)

    def sign_in_with_code():
        browser = requests.Session()
        page = browser.get(f"{server.endpoint}/start/signin", timeout=10)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        mfa = browser.post(f"{server.endpoint}/start/signin", data={"csrf": csrf, "username": "alice", "password": PASSWORD,
                                                                   "next": "/start/"}, timeout=10)
        assert 'id="mfa"' in mfa.text, mfa.text[:500]
        csrf = re.search(r'name="csrf" value="([^"]+)"', mfa.text).group(1)
        done = browser.post(f"{server.endpoint}/start/signin/mfa", data={"csrf": csrf, "code": next_code(),
                                                                        "next": "/start/"}, timeout=10)
        assert 'id="user-name">alice<' in done.text, done.text[:500]

    # The running server took the new key: TOTP, SAML signing and new secrets all work.
    sign_in_with_code()
    assert "X509Certificate>MII" in metadata(server, made["app"])
    Sso(server).gh.put_account_connection(IamEndpoint="http://127.0.0.1:9", StsEndpoint="http://127.0.0.1:9",
                                          AccessKeyId="AKIAEXAMPLEROTATE002", SecretAccessKey="again")
    assert all(opens(new, s) and not opens(old, s) for _, s in sealed_values(server))
    # And after a restart, from the files.
    stop(server)
    server.start()
    sign_in_with_code()
    assert "X509Certificate>MII" in metadata(server, made["app"])
