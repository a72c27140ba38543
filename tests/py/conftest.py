"""Real-client tests: the gatehouse server binary, driven by boto3 (and later the AWS CLI).

Each test gets a fresh server on a random loopback port, on SQLite and, when
GATEHOUSE_TEST_DATABASE_URL names a PostgreSQL server, again on a fresh PostgreSQL database.
GATEHOUSE_BIN is the binary under test (scripts/test sets it to the debug build).
"""

import os
import re
import signal
import subprocess
import tempfile
import uuid

import boto3
import botocore.config
import botocore.session
import pytest

BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/gatehouse"))
PG = os.environ.get("GATEHOUSE_TEST_DATABASE_URL", "")
MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/botocore")


def backends():
    return ["sqlite", "postgres"] if PG else ["sqlite"]


class Server:
    """One gatehouse instance: a data directory, a database, and a running `serve` process."""

    def __init__(self, workdir, database_url):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.database_url = database_url
        self.proc = None
        self.banner = ""
        self.endpoint = None

    def args(self, *rest):
        base = [BIN, "--data-dir", self.data_dir]
        if self.database_url:
            base += ["--database-url", self.database_url]
        return base + list(rest)

    def start(self, rate_limit=0, env=None):
        """Start `serve`. The API rate limit is off unless a test asks for it (tests call fast).
        `env` adds GATEHOUSE_* settings for this start."""
        env = dict(os.environ, GATEHOUSE_API_RATE_LIMIT=str(rate_limit), **(env or {}))
        self.proc = subprocess.Popen(self.args("serve", "--listen", "127.0.0.1:0"), stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env)
        # Kept across restarts: the first start's banner holds the bootstrap keys.
        for line in self.proc.stdout:
            self.banner += line
            m = re.match(r"Gatehouse listening on (https?://\S+)", line)
            if m:
                self.endpoint = m.group(1)
                return self
        raise RuntimeError("server exited before listening:\n" + self.banner)

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def cli(self, *args):
        return subprocess.run(self.args(*args), capture_output=True, text=True, check=True).stdout

    def secrets(self):
        key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", self.banner).group(1)
        secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", self.banner).group(1)
        return key, secret

    def client(self, service="identitystore", key=None, secret=None, retries=None, verify=None, **config):
        if key is None:
            key, secret = self.secrets()
        cfg = botocore.config.Config(retries=retries or {"max_attempts": 0}, **config)
        # Gatehouse's own operations come with a botocore model (clients/botocore), as users load it.
        core = botocore.session.Session()
        core.set_config_variable("data_path", MODELS)
        return boto3.session.Session(botocore_session=core).client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret, config=cfg, verify=verify)


def fresh_database(backend, workdir):
    if backend == "sqlite":
        return ""
    name = "gh_py_" + uuid.uuid4().hex
    subprocess.run(["psql", "-q", PG, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return PG.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=backends())
def server(request):
    with tempfile.TemporaryDirectory() as workdir:
        srv = Server(workdir, fresh_database(request.param, workdir)).start()
        yield srv
        if srv.proc.poll() is None:
            srv.kill(signal.SIGTERM)


@pytest.fixture
def ids(server):
    """The identitystore client and the identity store id of this server."""
    client = server.client()
    store_id = re.search(r"Identity store:\s+(d-[0-9a-f]{10})", server.banner).group(1)
    return client, store_id


def stop_process(proc, grace=15):
    """Ask a helper process to end; kill it if it has not within `grace` seconds (a loaded machine
    can make a polite shutdown slow, and a test's result must not depend on it)."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


class Moto:
    """A moto_server on a loopback port: IAM and STS as AWS accounts answer them. Credentials
    that STS hands out for a role in account N act in account N, as in AWS."""

    KEY, SECRET = "AKIAGATEHOUSEMGMT001", "management-secret"

    def __init__(self, port, proc):
        self.endpoint = f"http://127.0.0.1:{port}"
        self.proc = proc

    def iam(self, account):
        """An IAM client acting in `account` (through OrganizationAccountAccessRole)."""
        sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                           aws_access_key_id=self.KEY, aws_secret_access_key=self.SECRET)
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                            RoleSessionName="test")["Credentials"]
        return boto3.client("iam", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                            aws_session_token=c["SessionToken"])


@pytest.fixture(scope="session")
def moto():
    import socket
    import sys
    import time
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    # AWS managed policies (ReadOnlyAccess, job-function/…) exist only when moto loads them.
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
    yield Moto(port, proc)
    stop_process(proc)
