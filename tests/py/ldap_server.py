"""A throwaway OpenLDAP slapd holding an Active-Directory-shaped tree, for the tests of Gatehouse's
"Active Directory over LDAP" identity source.

No Windows domain controller is available to CI, so Debian's slapd (apt-get install slapd
ldap-utils) stands in: Microsoft's user and group schema (/etc/ldap/schema/msuser.schema) gives
entries the shape AD clients expect (objectClass user/group, sAMAccountName, userPrincipalName,
binary objectGUID, proxyAddresses, member with nested groups, memberOf back-links kept by the
memberof overlay), served over StartTLS and ldaps with a throwaway CA. Config, database,
certificates and log live in one temp dir that stop() removes. All changes go through the rootdn
over plain ldap://127.0.0.1 with the ldap-utils command line tools, so no Python LDAP library is
needed; only the client under test has to use TLS.

    from ldap_server import directory, Directory   # directory: a fixture yielding a started Directory
"""
import base64
import datetime
import hashlib
import ipaddress
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SCHEMA_DIR = "/etc/ldap/schema"
MODULE_DIR = "/usr/lib/ldap"
START_TIMEOUT = 30  # seconds for slapd to listen; a loaded 2-core CI machine can be slow
TOOL_TIMEOUT = 60   # seconds for one ldapadd/ldapsearch/... call

# What AD stores in the attributes `mstop` makes mandatory; no client under test reads them.
INSTANCE_TYPE = "4"  # "writable on this directory"
SECURITY_DESCRIPTOR = bytes([1, 0, 4, 0x80]) + bytes(16)  # empty self-relative descriptor
GLOBAL_SECURITY_GROUP = "-2147483646"  # groupType: security-enabled | global scope
NORMAL_ACCOUNT = "512"  # userAccountControl; tests disable an account with 514 (| ACCOUNTDISABLE)

# Attributes that stay bytes in search() results even where they happen to be valid UTF-8.
BINARY = {"objectguid", "objectsid", "ntsecuritydescriptor", "usercertificate", "jpegphoto",
          "thumbnailphoto"}

# (sAMAccountName, givenName, initials, sn); the DN is cn=<given> <sn>, as AD names a new user.
USERS = [("alice", "Alice", "B", "Liddell"), ("bob", "Bob", "C", "Builder"),
         ("carol", "Carol", "D", "Danvers"), ("dave", "Dave", "E", "Grohl"),
         ("erin", "Erin", "F", "Brockovich")]


class Directory:
    """One slapd instance and the tree in it. Nested groups: Engineering ⊃ {alice, Backend},
    Backend ⊃ {bob, Platform}, Platform ⊃ {carol, Engineering} (a cycle: flattening must end),
    Sales ⊃ {dave}; erin is in no group."""

    base = "dc=corp,dc=example,dc=com"
    domain = "CORP"  # NetBIOS domain name, for DOMAIN\\user sign-in
    upn_suffix = "corp.example.com"
    users_dn = "ou=Users," + base
    groups_dn = "ou=Groups," + base
    bind_dn = "cn=gatehouse-svc," + users_dn
    bind_password = "svc-secret"
    admin_dn = "cn=admin," + base
    PASSWORDS = {"alice": "Alice-pass-1", "bob": "Bob-pass-1", "carol": "Carol-pass-1",
                 "dave": "Dave-pass-1", "erin": "Erin-pass-1"}

    def __init__(self):
        self.PASSWORDS = dict(self.PASSWORDS)  # add_user() records new users' passwords here
        self.admin_password = secrets.token_urlsafe(18)
        self.proc = self.dir = self.command = None
        self.port = self.tls_port = self.ldap_url = self.ldaps_url = self.ca_pem = self.ca_file = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self):
        """Start slapd on two free loopback ports and load the initial tree."""
        if not os.path.exists(SLAPD) or not shutil.which("ldapadd"):
            raise RuntimeError("the AD-over-LDAP tests need OpenLDAP: apt-get install slapd ldap-utils")
        self.dir = tempfile.mkdtemp(prefix="gatehouse-slapd-")
        try:
            self._write_certs()
            self._write_schema()
            os.mkdir(self._path("db"))
            for _ in range(3):  # another process may take a probed port before slapd binds it
                if self._launch():
                    break
            else:
                raise RuntimeError(f"slapd found its ports taken three times:\n{self.log()}")
            self._load_tree()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """End slapd (SIGTERM, SIGKILL after 10 s) and remove the temp dir."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=30)
            self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        """slapd's log so far (connections, binds, searches with their filters and results), to
        show when a test fails."""
        try:
            with open(self._path("slapd.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- lookups --------------------------------------------------------------------------------

    def user_dn(self, sam):
        return self._find(f"(&(objectClass=user)(sAMAccountName={_filter_escape(sam)}))", sam)

    def group_dn(self, cn):
        return self._find(f"(&(objectClass=group)(cn={_filter_escape(cn)}))", cn)

    def guid(self, dn):
        """The entry's objectGUID as AD writes it: the first three fields little-endian."""
        (entry,) = self.search(dn, "(objectClass=*)", "objectGUID", scope="base")
        return str(uuid.UUID(bytes_le=entry["objectGUID"][0]))

    def search(self, base, filter="(objectClass=*)", *attrs, scope="sub"):
        """Search as the rootdn (sees everything, ACLs aside). Each entry is a dict: "dn" -> str and
        attribute name -> list of values (str; bytes for binary attributes such as objectGUID and
        for any base64 value that is not UTF-8). No entries, or no such base: []."""
        r = self._tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-s", scope, "-b", base, filter,
                       *attrs, ok=(0, 32))
        entries = []
        for block in r.stdout.decode().split("\n\n"):
            entry = None
            for line in block.splitlines():
                if not line or line.startswith("#"):
                    continue
                name, _, value = line.partition(":")
                if value.startswith(":"):
                    raw = base64.b64decode(value[1:].strip())
                    try:
                        value = raw if name.lower() in BINARY else raw.decode()
                    except UnicodeDecodeError:
                        value = raw
                else:
                    value = value[1:] if value.startswith(" ") else value
                if entry is None:
                    entry = {"dn": value}
                else:
                    entry.setdefault(name, []).append(value)
            if entry is not None:
                entries.append(entry)
        return entries

    # -- changes --------------------------------------------------------------------------------

    def add_user(self, sam, given, sn, password, initials="X"):
        """Add a user shaped like the initial ones; returns its DN as slapd spells it."""
        self._add(self._user_ldif(f"cn={_dn_escape(f'{given} {sn}')},{self.users_dn}",
                                  sam, given, initials, sn, password))
        self.PASSWORDS[sam] = password
        return self.user_dn(sam)

    def add_group(self, cn, members=()):
        """Add a global security group; returns its DN as slapd spells it (escapes and all)."""
        self._add(self._group_ldif(f"cn={_dn_escape(cn)},{self.groups_dn}", cn, members))
        return self.group_dn(cn)

    def add_member(self, group_dn, member_dn):
        self._modify(_ldif_change(group_dn, [("add", "member", [member_dn])]))

    def remove_member(self, group_dn, member_dn):
        self._modify(_ldif_change(group_dn, [("delete", "member", [member_dn])]))

    def modify(self, dn, **replace):
        """Replace attributes: a str/bytes value or a list of them; None or [] removes the
        attribute. A str userPassword is stored hashed. Names that are not identifiers:
        modify(dn, **{"msDS-cloudExtensionAttribute1": "x"})."""
        changes = []
        for name, values in replace.items():
            if values is None:
                values = []
            elif isinstance(values, (str, bytes)):
                values = [values]
            if name.lower() == "userpassword":
                values = [_ssha(v) if isinstance(v, str) else v for v in values]
            changes.append(("replace", name, list(values)))
        self._modify(_ldif_change(dn, changes))

    def delete(self, dn):
        """Delete a leaf entry; the memberof overlay drops it from its groups' member, as AD does."""
        self._tool("ldapdelete", dn)

    # -- internals ------------------------------------------------------------------------------

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _find(self, filter, what):
        found = self.search(self.base, filter, "1.1")
        if len(found) != 1:
            raise KeyError(f"{what!r}: {len(found)} entries match {filter}")
        return found[0]["dn"]

    def _tool(self, tool, *args, input=None, ok=(0,)):
        """Run an ldap-utils tool as the rootdn over plain ldap://127.0.0.1. LDAPNOINIT keeps
        ldap.conf, ~/.ldaprc and LDAP* variables of the machine out of it."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LDAPNOINIT": "1"}
        cmd = [tool, "-x", "-H", f"ldap://127.0.0.1:{self.port}", "-D", self.admin_dn,
               "-w", self.admin_password, *args]
        r = subprocess.run(cmd, input=input, capture_output=True, env=env, timeout=TOOL_TIMEOUT)
        if r.returncode not in ok:
            raise RuntimeError(f"{' '.join([tool, *args])} failed (exit {r.returncode}): "
                               f"{r.stderr.decode(errors='replace').strip()}"
                               + (f"\n{input.decode(errors='replace')}" if input else ""))
        return r

    def _add(self, ldif):
        self._tool("ldapadd", input=ldif.encode())

    def _modify(self, ldif):
        self._tool("ldapmodify", input=ldif.encode())

    def _launch(self):
        """Start slapd on fresh ports; True once both listen, False if a port was taken."""
        with socket.socket() as a, socket.socket() as b:  # both open at once: two distinct ports
            a.bind(("127.0.0.1", 0))
            b.bind(("127.0.0.1", 0))
            self.port, self.tls_port = a.getsockname()[1], b.getsockname()[1]
        self.ldap_url = f"ldap://localhost:{self.port}"
        self.ldaps_url = f"ldaps://localhost:{self.tls_port}"
        self._write_config()
        self.command = [SLAPD, "-d", "stats", "-f", self._path("slapd.conf"),
                        "-h", f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"]
        with open(self._path("slapd.log"), "wb") as log:
            # -d keeps slapd in the foreground (our child, its log on stderr).
            self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + START_TIMEOUT
        waiting = [self.port, self.tls_port]
        while waiting:
            if self.proc.poll() is not None:
                rc, log, self.proc = self.proc.returncode, self.log(), None
                if "Address already in use" in log:
                    return False
                raise RuntimeError(f"slapd exited (status {rc}) while starting: "
                                   f"{' '.join(self.command)}\n{log}")
            try:
                socket.create_connection(("127.0.0.1", waiting[0]), timeout=1).close()
                waiting.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"slapd did not listen within {START_TIMEOUT} s:\n{self.log()}")
                time.sleep(0.05)
        return True

    def _write_certs(self):
        """A CA and a server certificate for localhost and 127.0.0.1 signed by it."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

        def usage(**on):
            names = ["digital_signature", "content_commitment", "key_encipherment",
                     "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                     "encipher_only", "decipher_only"]
            return x509.KeyUsage(**{n: on.get(n, False) for n in names})

        def build(subject, issuer, key):
            return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(not_before).not_valid_after(not_after)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))

        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gatehouse test LDAP CA")])
        ca = (build(ca_name, ca_name, ca_key)
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
              .add_extension(usage(key_cert_sign=True, crl_sign=True), True)
              .sign(ca_key, hashes.SHA256()))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        san = [*map(x509.DNSName, _localhost_names()), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (build(name, ca_name, key)
                .add_extension(x509.SubjectAlternativeName(san), False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                .add_extension(usage(digital_signature=True, key_encipherment=True), True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               False)
                .sign(ca_key, hashes.SHA256()))
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
        self.ca_file = self._path("ca.pem")
        with open(self.ca_file, "w") as f:
            f.write(self.ca_pem)
        with open(self._path("server.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(self._path("server.key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))

    def _write_schema(self):
        """msuser.schema with what AD has and the file leaves out: equality (and substring)
        matching for the attributes clients filter on -- without it slapd never matches
        (sAMAccountName=alice) -- and sAMAccountName allowed on user and group (AD takes it from
        the securityPrincipal auxiliary class, which the file lacks)."""
        with open(os.path.join(SCHEMA_DIR, "msuser.schema")) as f:
            text = f.read()
        text_match = "EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch"
        for name, rules in [("sAMAccountName", text_match), ("userPrincipalName", text_match),
                            ("proxyAddresses", text_match), ("objectGUID", "EQUALITY octetStringMatch"),
                            ("memberOf", "EQUALITY distinguishedNameMatch"),
                            ("objectCategory", "EQUALITY distinguishedNameMatch"),
                            ("groupType", "EQUALITY integerMatch"),
                            ("instanceType", "EQUALITY integerMatch"),
                            ("userAccountControl", "EQUALITY integerMatch")]:
            text, n = re.subn(rf"(?m)^(\s+NAME '{name}'\s+)(SYNTAX )", rf"\1{rules}\n\t\2", text)
            assert n == 1, f"{name} not found once in msuser.schema"
        for old in ["MAY (member $ ", "MAY (o $ businessCategory "]:  # group, user
            assert text.count(old) == 1, f"{old!r} not found once in msuser.schema"
            text = text.replace(old, "MAY (sAMAccountName $ " + old[len("MAY ("):])
        with open(self._path("msuser.schema"), "w") as f:
            f.write(text)

    def _write_config(self):
        """slapd.conf: schema (nis.schema defines attributes msuser.schema's classes use), TLS,
        one mdb database with the memberof overlay, and ACLs: the service account reads
        everything, users read themselves, anonymous only binds; nobody reads userPassword."""
        schemas = [os.path.join(SCHEMA_DIR, s + ".schema")
                   for s in ("core", "cosine", "inetorgperson", "nis")] + [self._path("msuser.schema")]
        conf = "\n".join([*(f"include {s}" for s in schemas), f"""
modulepath {MODULE_DIR}
moduleload back_mdb
moduleload memberof
pidfile {self._path("slapd.pid")}
argsfile {self._path("slapd.args")}
TLSCACertificateFile {self.ca_file}
TLSCertificateFile {self._path("server.pem")}
TLSCertificateKeyFile {self._path("server.key")}

database mdb
suffix "{self.base}"
rootdn "{self.admin_dn}"
rootpw {_ssha(self.admin_password)}
directory {self._path("db")}
dbnosync
maxsize 104857600
index objectClass,sAMAccountName,userPrincipalName,cn,member,memberOf eq

overlay memberof
memberof-group-oc group
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{self.bind_dn}" read
    by self read
    by * none
"""])
        with open(self._path("slapd.conf"), "w") as f:
            f.write(conf)

    def _user_ldif(self, dn, sam, given, initials, sn, password):
        upn = f"{sam}@{self.upn_suffix}"
        return _ldif_entry(dn, [
            ("objectClass", ["top", "person", "organizationalPerson", "user"]),
            ("cn", f"{given} {sn}"), ("sn", sn), ("givenName", given), ("initials", initials),
            ("displayName", f"{given} {initials}. {sn}"), ("sAMAccountName", sam),
            ("userPrincipalName", upn), ("mail", upn),
            ("proxyAddresses", [f"SMTP:{upn}", f"smtp:{sam}@old.example.com"]),
            ("userAccountControl", NORMAL_ACCOUNT), ("userPassword", _ssha(password)),
            *self._mstop("Person")])

    def _group_ldif(self, dn, cn, members):
        return _ldif_entry(dn, [
            ("objectClass", ["top", "group"]), ("cn", cn), ("sAMAccountName", cn),
            ("groupType", GLOBAL_SECURITY_GROUP), ("description", f"The {cn} team"),
            ("member", list(members)), *self._mstop("Group")])

    def _mstop(self, category):
        """The attributes AD's top class (mstop) requires, plus a fresh objectGUID."""
        return [("objectGUID", os.urandom(16)), ("instanceType", INSTANCE_TYPE),
                ("nTSecurityDescriptor", SECURITY_DESCRIPTOR),
                ("objectCategory", f"CN={category},CN=Schema,CN=Configuration,{self.base}")]

    def _load_tree(self):
        """The initial tree, in one ldapadd. Groups are added members first so that the memberof
        overlay sees every member it links back; the Platform -> Engineering edge closes the
        cycle afterwards."""
        ous = [_ldif_entry(self.base, [("objectClass", ["top", "domain"]), ("dc", "corp")])] + [
            _ldif_entry(dn, [("objectClass", ["top", "organizationalUnit"]), ("ou", ou)])
            for dn, ou in [(self.users_dn, "Users"), (self.groups_dn, "Groups")]]
        svc = _ldif_entry(self.bind_dn, [
            ("objectClass", ["top", "person", "organizationalPerson"]), ("cn", "gatehouse-svc"),
            ("sn", "gatehouse-svc"), ("description", "Gatehouse directory reader"),
            ("userPassword", _ssha(self.bind_password))])
        users, dns = [], {}
        for sam, given, initials, sn in USERS:
            dns[sam] = f"cn={given} {sn},{self.users_dn}"
            users.append(self._user_ldif(dns[sam], sam, given, initials, sn, self.PASSWORDS[sam]))
        g = {cn: f"cn={cn},{self.groups_dn}" for cn in ("Engineering", "Backend", "Platform", "Sales")}
        groups = [self._group_ldif(g["Platform"], "Platform", [dns["carol"]]),
                  self._group_ldif(g["Backend"], "Backend", [dns["bob"], g["Platform"]]),
                  self._group_ldif(g["Engineering"], "Engineering", [dns["alice"], g["Backend"]]),
                  self._group_ldif(g["Sales"], "Sales", [dns["dave"]])]
        self._add("".join(ous + [svc] + users + groups))
        self.add_member(g["Platform"], g["Engineering"])


def _localhost_names():
    """localhost, and the name libldap (ldapsearch & co.) checks instead when it reached the server
    as "localhost": this machine's hostname, canonicalised by the resolver as libldap does it."""
    names = ["localhost"]
    try:
        host = socket.gethostname()
        names += [n for n in dict.fromkeys([host, socket.gethostbyname_ex(host)[0]]) if n not in names]
    except OSError:
        pass
    return names


def _ssha(password):
    """{SSHA}: salted SHA-1, the hash slapd checks simple binds against without extra modules."""
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def _ldif_line(name, value):
    """One LDIF attribute line; base64 unless the value is plain ASCII that LDIF allows as is."""
    if isinstance(value, str) and re.fullmatch(r"[!-9;=-~]([ -~]*[!-~])?", value):  # no : < space
        return f"{name}: {value}\n"
    raw = value if isinstance(value, bytes) else value.encode()
    return f"{name}:: {base64.b64encode(raw).decode()}\n"


def _ldif_entry(dn, attrs):
    out = _ldif_line("dn", dn)
    for name, values in attrs:
        for v in values if isinstance(values, list) else [values]:
            out += _ldif_line(name, v)
    return out + "\n"


def _ldif_change(dn, changes):
    """A changetype: modify record from (op, attribute, [values]) triples."""
    out = _ldif_line("dn", dn) + "changetype: modify\n"
    for op, name, values in changes:
        out += f"{op}: {name}\n" + "".join(_ldif_line(name, v) for v in values) + "-\n"
    return out + "\n"


def _filter_escape(value):
    """RFC 4515 escaping of a value in a search filter."""
    return "".join(f"\\{ord(c):02x}" if c in "\\*()\0" else c for c in value)


def _dn_escape(value):
    """RFC 4514 escaping of an attribute value in a DN."""
    value = re.sub(r'([,+"\\<>;=])', r"\\\1", value)
    if value[:1] in ("#", " "):
        value = "\\" + value
    if value.endswith(" "):
        value = value[:-1] + "\\ "
    return value


@pytest.fixture
def directory():
    """A started Directory of the initial tree for one test (it starts in about a second, and a
    test may change the tree freely)."""
    d = Directory().start()
    try:
        yield d
    finally:
        d.stop()
