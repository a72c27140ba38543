"""SAML 2.0 applications (issue 6) with real service providers: pysaml2 (which checks signatures
with the xmlsec1 command line) and python3-saml (OneLogin's toolkit, libxmlsec1 through the xmlsec
module, schema-validating every Response in strict mode). Each SP trusts only what the IdP
metadata or certificate URL gave it, as an administrator would set it up.

The user's browser is a requests session without JavaScript: it reads the auto-post form that a
browser would submit and hands SAMLResponse to the SP. Pages are opened as http://localhost:PORT,
the server's public URL.
"""

import base64
import datetime
import json
import re
import shutil
import subprocess
import urllib.parse
import zlib
from html.parser import HTMLParser

import pytest
import requests
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

import saml2
import saml2.config
from saml2.client import Saml2Client
from saml2.metadata import entity_descriptor
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

PASSWORD = "Some-Passw0rd!"
PROVIDER = "arn:aws:sso::aws:applicationProvider/"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#", "md": "urn:oasis:names:tc:SAML:2.0:metadata"}
XMLSEC1 = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"


# --- the server: applications, users, the portal -------------------------------------------------


def base(server):
    return server.endpoint.replace("127.0.0.1", "localhost")


def new_app(server, provider="custom-saml", name="Test app"):
    """A new enabled application; returns (ARN, the apl-... id used in URLs)."""
    admin = server.client("sso-admin")
    instance = admin.list_instances()["Instances"][0]
    arn = admin.create_application(InstanceArn=instance["InstanceArn"], ApplicationProviderArn=PROVIDER + provider,
                                   Name=name, Status="ENABLED")["ApplicationArn"]
    assert re.fullmatch(r"arn:aws:sso::\d{12}:application/ssoins-[0-9a-f]{16}/apl-[0-9a-f]{16}", arn), arn
    return arn, arn.rsplit("/", 1)[1]


def assign(server, arn, principal_id, principal_type="USER"):
    server.client("sso-admin").create_application_assignment(ApplicationArn=arn, PrincipalId=principal_id,
                                                             PrincipalType=principal_type)


def mappings(*rows):
    return [{"Attribute": a, "Source": s, "Format": f} for a, s, f in rows]


def make_user(server, ids, name, email="", given=None, family="Tester"):
    """A user with a password (not one-time), who can sign in to the portal right away. The email
    is name@example.com unless given; email=None: no email at all."""
    client, store_id = ids
    kwargs = dict(IdentityStoreId=store_id, UserName=name, DisplayName=f"{(given or name.title())} {family}",
                  Name={"GivenName": given or name.title(), "FamilyName": family})
    if email is not None:
        kwargs["Emails"] = [{"Value": email or f"{name}@example.com", "Type": "work", "Primary": True}]
    user_id = client.create_user(**kwargs)["UserId"]
    done = subprocess.run(server.args("user", "set-password", name), input=PASSWORD + "\n", text=True,
                          capture_output=True)
    assert done.returncode == 0, done.stderr
    return user_id


class Page(HTMLParser):
    """The forms (by id: action and fields), textareas and the #error text of an HTML page."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text):
        super().__init__()
        self.forms, self.textareas, self.ids = {}, {}, set()
        self._form = self._textarea = None
        self._error_depth, self._error = 0, None
        self.feed(text)
        self.close()
        self.error = " ".join(self._error.split()) if self._error is not None else None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag in self.VOID:
            pass
        elif self._error_depth:
            self._error_depth += 1
        elif a.get("id") == "error" and self._error is None:
            self._error_depth, self._error = 1, ""
        if tag == "form":
            self._form = {"action": a.get("action"), "method": (a.get("method") or "get").lower(), "fields": {}}
            self.forms[a.get("id")] = self._form
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a.get("id")
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag):
        if self._error_depth and tag not in self.VOID:
            self._error_depth -= 1
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.textareas[self._textarea] += data
        if self._error_depth:
            self._error += data


class Portal:
    """A browser without JavaScript: the portal's cookies in a requests session."""

    def __init__(self, server):
        self.base = base(server)
        self.http = requests.Session()

    def sign_in(self, user, at="/start/signin?next=/start/"):
        """Sign in on the sign-in page at `at` (which carries `next`); returns where it lands."""
        page = self.http.get(urllib.parse.urljoin(self.base, at))
        assert page.status_code == 200, page.text
        fields = Page(page.text).forms["signin"]["fields"]
        landed = self.http.post(self.base + "/start/signin", data=dict(fields, username=user, password=PASSWORD))
        assert "gh_session" in self.http.cookies, landed.text
        return landed

    def open(self, method, url, user=None, **kw):
        """A request to the IdP; when it sends the browser to sign in, `user` signs in and the
        browser follows on to where the sign-in page sends it."""
        r = self.http.request(method, url, allow_redirects=False, **kw)
        if r.status_code in (302, 303) and "/start/signin" in r.headers["location"]:
            assert user, f"{url}: sign-in asked for"
            return self.sign_in(user, r.headers["location"])
        return r

    def tile(self, app_id, admin=False):
        """The application's portal tile (IdP-initiated sign-in)."""
        return self.http.get(f"{self.base}/start/applications/{app_id}", params={"admin": "1"} if admin else None,
                             allow_redirects=False)


def posted(r, acs):
    """The auto-post page: (SAMLResponse, RelayState), after checking it posts to `acs`."""
    assert r.status_code == 200, (r.status_code, Page(r.text).error or r.text[:2000])
    form = Page(r.text).forms.get("saml-post")
    assert form, r.text[:2000]
    assert form["method"] == "post" and form["action"] == acs, form
    return form["fields"]["SAMLResponse"], form["fields"].get("RelayState")


def refused(r, status):
    """An error page with this status and no SAMLResponse; returns its #error text."""
    assert r.status_code == status, (r.status_code, r.text[:2000])
    page = Page(r.text)
    assert "saml-post" not in page.forms and "SAMLResponse" not in r.text
    assert page.error, r.text[:2000]
    return page.error


def decoded(saml_response):
    return etree.fromstring(base64.b64decode(saml_response))


def one(doc, xpath):
    found = doc.xpath(xpath, namespaces=NS)
    assert len(found) == 1, (xpath, etree.tostring(doc)[:3000])
    return found[0]


def when(value):
    """A timestamp as boto3 gives it (datetime) or as text."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def saml_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def federate_events(server):
    out = server.cli("-o", "json", "audit", "tail", "-n", "500", "--event-name", "Federate").strip()
    if out.startswith("["):
        return json.loads(out)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def der(pem):
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


def ders(pems):
    """The DER of each PEM certificate, or the text itself when it is not one (for the message)."""
    out = []
    for pem in pems:
        try:
            out.append(der(pem))
        except ValueError:
            out.append(pem)
    return out


def metadata_certs(xml):
    doc = etree.fromstring(xml.encode())
    return [base64.b64decode("".join(t.split())) for t in
            doc.xpath("//md:IDPSSODescriptor/md:KeyDescriptor[@use='signing']//ds:X509Certificate/text()", namespaces=NS)]


def keypair(cn="sp.example.test", bits=2048):
    """A self-signed SP key and certificate (PEM), as SPs make them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def xmlsec1_verify(tmp_path, xml_bytes, cert_pem):
    """`xmlsec1 --verify`, as SPs built on libxmlsec1 check a Response (the first signature)."""
    (tmp_path / "verify.xml").write_bytes(xml_bytes)
    (tmp_path / "verify.pem").write_text(cert_pem)
    return subprocess.run([XMLSEC1, "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                           "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", "--pubkey-cert-pem",
                           str(tmp_path / "verify.pem"), str(tmp_path / "verify.xml")], capture_output=True, text=True)


# --- service providers ------------------------------------------------------------------------------


class Pysaml2SP:
    """A pysaml2 SP: the IdP from our metadata URL (saved to a file, as pysaml2 reads it), signature
    checks by the xmlsec1 binary, unknown attribute names kept as sent."""

    entity_id = "https://sp-pysaml2.example.test/metadata"
    acs = "https://sp-pysaml2.example.test/acs"

    def __init__(self, server, app_id, tmp_path, key_pem, cert_pem, want_response_signed=True,
                 want_assertions_signed=False, sign_requests=False):
        self.idp = f"{base(server)}/saml/{app_id}"
        metadata = requests.get(self.idp + "/metadata")
        assert metadata.status_code == 200, metadata.text
        self.idp_metadata = metadata.text
        self.idp_entity_id = etree.fromstring(metadata.content).get("entityID")
        (tmp_path / "idp-metadata.xml").write_text(metadata.text)
        (tmp_path / "sp-key.pem").write_text(key_pem)
        (tmp_path / "sp-cert.pem").write_text(cert_pem)
        config = saml2.config.SPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC1,
            "key_file": str(tmp_path / "sp-key.pem"),
            "cert_file": str(tmp_path / "sp-cert.pem"),
            "metadata": {"local": [str(tmp_path / "idp-metadata.xml")]},
            "allow_unknown_attributes": True,
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.acs, saml2.BINDING_HTTP_POST)]},
                "allow_unsolicited": True,
                "authn_requests_signed": sign_requests,
                "want_response_signed": want_response_signed,
                "want_assertions_signed": want_assertions_signed,
                "name_id_format": [EMAIL_FORMAT],
            }},
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        })
        self.config = config
        self.client = Saml2Client(config)

    def metadata(self):
        """This SP's own metadata, as an administrator uploads it."""
        return str(entity_descriptor(self.config))

    def redirect_request(self, relay_state="", sign=False):
        """SP-initiated, HTTP-Redirect binding: (request ID, the URL the browser is sent to)."""
        reqid, info = self.client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay_state, binding=saml2.BINDING_HTTP_REDIRECT, sign=sign,
            sigalg=SIG_RSA_SHA256 if sign else None)
        return reqid, dict(info["headers"])["Location"]

    def post_request(self, relay_state="", sign=False):
        """SP-initiated, HTTP-POST binding: (request ID, the form's action, the form's fields)."""
        reqid, info = self.client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay_state, binding=saml2.BINDING_HTTP_POST, sign=sign,
            sigalg=SIG_RSA_SHA256 if sign else None, digest_alg=DIGEST_SHA256 if sign else None)
        form = Page(info["data"]).forms
        (only,) = form.values()
        return reqid, only["action"], only["fields"]

    def accept(self, saml_response, request_id=None):
        """The SP's ACS: an unsolicited Response only when no request is outstanding."""
        self.client.allow_unsolicited = request_id is None
        outstanding = {request_id: "/"} if request_id else {}
        resp = self.client.parse_authn_request_response(saml_response, saml2.BINDING_HTTP_POST,
                                                        outstanding=outstanding)
        assert resp is not None, "pysaml2 could not read the Response"
        assert resp.in_response_to == request_id, (resp.in_response_to, request_id)
        return resp


class OneLoginSP:
    """A python3-saml SP in strict mode: Destination, Recipient, audience, issuer, times, the schema
    and the signatures are all checked; the IdP certificates are given explicitly."""

    def __init__(self, idp_entity_id, sso_url, idp_certs, entity_id="https://sp-onelogin.example.test/metadata",
                 acs="https://sp-onelogin.example.test/acs", key_pem=None, cert_pem=None, sign_requests=False,
                 want_messages_signed=False, want_assertions_signed=True, name_id_format=EMAIL_FORMAT):
        self.entity_id, self.acs, self.sso_url = entity_id, acs, sso_url
        self.key_pem, self.cert_pem = key_pem, cert_pem
        self.settings = {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": entity_id,
                "assertionConsumerService": {"url": acs, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
                "NameIDFormat": name_id_format,
                "x509cert": cert_pem or "",
                "privateKey": key_pem or "",
            },
            "idp": {
                "entityId": idp_entity_id,
                "singleSignOnService": {"url": sso_url,
                                        "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"},
                "x509cert": idp_certs[0],
                "x509certMulti": {"signing": list(idp_certs)},
            },
            "security": {
                "authnRequestsSigned": sign_requests,
                "wantAssertionsSigned": want_assertions_signed,
                "wantMessagesSigned": want_messages_signed,
                "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
                "wantAttributeStatement": False,
            },
        }

    @classmethod
    def for_app(cls, server, app_id, certs=None, **kw):
        """Set up from the application's sign-in URL and its certificate URL (or given certificates)."""
        idp = f"{base(server)}/saml/{app_id}"
        if certs is None:
            r = requests.get(idp + "/certificate")
            assert r.status_code == 200 and "BEGIN CERTIFICATE" in r.text, r.text
            certs = [r.text]
        return cls(idp, idp + "/sso", certs, **kw)

    def request_data(self, post=None, get=None):
        url = urllib.parse.urlsplit(self.acs)
        return {"https": "on" if url.scheme == "https" else "off", "http_host": url.netloc, "script_name": url.path,
                "get_data": get or {}, "post_data": post or {}}

    def redirect_request(self, relay_state="/after"):
        """SP-initiated, HTTP-Redirect (signed when the settings say so): (request ID, URL)."""
        auth = OneLogin_Saml2_Auth(self.request_data(), self.settings)
        url = auth.login(return_to=relay_state)
        return auth.get_last_request_id(), url

    def post_request(self, sign=False, key_pem=None, cert_pem=None):
        """SP-initiated, HTTP-POST: (request ID, form fields); signed enveloped with the SP key
        (or another key, to forge a signature)."""
        request = OneLogin_Saml2_Authn_Request(OneLogin_Saml2_Settings(self.settings))
        xml = request.get_xml()
        if sign:
            xml = OneLogin_Saml2_Utils.add_sign(xml, key_pem or self.key_pem, cert_pem or self.cert_pem,
                                                sign_algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                                digest_algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
        if isinstance(xml, str):
            xml = xml.encode()
        return request.get_id(), {"SAMLRequest": base64.b64encode(xml).decode(), "RelayState": "/posted"}

    def accept(self, saml_response, request_id=None):
        """The ACS: returns the Auth object, after asserting the SP accepted the Response."""
        auth = self.check(saml_response, request_id)
        assert not auth.get_errors(), (auth.get_errors(), auth.get_last_error_reason())
        assert auth.is_authenticated()
        return auth

    def check(self, saml_response, request_id=None):
        auth = OneLogin_Saml2_Auth(self.request_data(post={"SAMLResponse": saml_response}), self.settings)
        auth.process_response(request_id=request_id)
        return auth


def sign_redirect_with(url, key_pem):
    """Re-sign a Redirect-binding URL with another key: a request whose signature is not the SP's."""
    parts = urllib.parse.urlsplit(url)
    pairs = [p for p in parts.query.split("&") if not p.startswith("Signature=")]
    signed = "&".join(pairs).encode()
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    sig = base64.b64encode(key.sign(signed, padding.PKCS1v15(), hashes.SHA256())).decode()
    return urllib.parse.urlunsplit(parts._replace(query="&".join(pairs) + "&Signature=" + urllib.parse.quote_plus(sig)))


def unsigned(url):
    """A Redirect-binding URL without its signature."""
    parts = urllib.parse.urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if not p.startswith(("Signature=", "SigAlg=")))
    return urllib.parse.urlunsplit(parts._replace(query=query))


def redirect_request_xml(url):
    """The AuthnRequest XML inside a Redirect-binding URL."""
    value = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["SAMLRequest"][0]
    return zlib.decompress(base64.b64decode(value), -15)


# --- 1. real service providers ----------------------------------------------------------------------


def test_pysaml2_sp_idp_and_sp_initiated_with_unsigned_and_signed_requests(server, ids, tmp_path):
    """Acceptance 1 (pysaml2): SP metadata uploaded as MetadataXml sets the ACS, the audience and the
    SP certificate; the IdP metadata URL is all pysaml2 needs. IdP-initiated sign-in (portal tile,
    configured RelayState) and SP-initiated over HTTP-Redirect (not signed in yet: sign-in first)
    and HTTP-POST, unsigned; then, with signed requests required, unsigned requests are refused
    and signed ones (redirect query signature, enveloped POST signature) answered. pysaml2 reports
    the mapped NameID and attributes; it checks the response signature (SignedParts RESPONSE), then
    both (BOTH)."""
    arn, app_id = new_app(server, name="pysaml2 SP")
    user_id = make_user(server, ids, "alice", given="Alice", family="Liddell")
    assign(server, arn, user_id)
    gh = server.client("gatehouse")
    key, cert = keypair("sp-pysaml2.example.test")
    sp = Pysaml2SP(server, app_id, tmp_path, key, cert, want_response_signed=True)

    # The IdP metadata: entity ID, both SSO bindings, the one signing certificate.
    md = etree.fromstring(sp.idp_metadata.encode())
    assert md.get("entityID") == f"{base(server)}/saml/{app_id}"
    bindings = {s.get("Binding"): s.get("Location") for s in md.xpath("//md:SingleSignOnService", namespaces=NS)}
    assert bindings == {saml2.BINDING_HTTP_REDIRECT: f"{base(server)}/saml/{app_id}/sso",
                        saml2.BINDING_HTTP_POST: f"{base(server)}/saml/{app_id}/sso"}
    active = requests.get(f"{base(server)}/saml/{app_id}/certificate").text
    assert metadata_certs(sp.idp_metadata) == [der(active)]

    relay = "https://sp-pysaml2.example.test/home"
    gh.put_application_saml_configuration(ApplicationArn=arn, MetadataXml=sp.metadata(), RelayState=relay,
                                          SignedParts="RESPONSE")
    config = gh.describe_application_saml_configuration(ApplicationArn=arn)
    assert (config["AcsUrl"], config["Audience"], config["SignedParts"]) == (sp.acs, sp.entity_id, "RESPONSE")
    assert ders(config["SpCertificates"]) == [der(cert)], config["SpCertificates"]
    assert config["IdpEntityId"] == f"{base(server)}/saml/{app_id}"
    assert config["IdpSsoUrl"] == f"{base(server)}/saml/{app_id}/sso"
    assert config["IdpMetadataUrl"] == f"{base(server)}/saml/{app_id}/metadata"
    assert config["IdpCertificateUrl"] == f"{base(server)}/saml/{app_id}/certificate"
    assert config["SessionDuration"] == "PT1H" and config["RequireSignedAuthnRequests"] is False
    gh.put_application_attribute_mappings(ApplicationArn=arn, AttributeMappings=mappings(
        ("Subject", "${user:email}", "emailAddress"),
        ("givenName", "${user:givenName}", "basic"),
        ("fullName", "${user:givenName} ${user:familyName}", "unspecified"),
        ("uid", "${user:preferredUsername}", "uri"),
        ("team", "Wonderland", "basic")))

    def check(resp):
        assert (resp.name_id.text, resp.name_id.format) == ("alice@example.com", EMAIL_FORMAT)
        assert resp.ava == {"givenName": ["Alice"], "fullName": ["Alice Liddell"], "uid": ["alice"],
                            "team": ["Wonderland"]}, resp.ava
        assert resp.response.destination == sp.acs

    # SP-initiated, HTTP-Redirect, before signing in: the sign-in page comes first, then the answer.
    browser = Portal(server)
    reqid, url = sp.redirect_request(relay_state="/deep/link")
    assert url.startswith(f"{base(server)}/saml/{app_id}/sso?SAMLRequest=")
    saml_response, relay_state = posted(browser.open("GET", url, user="alice"), sp.acs)
    assert relay_state == "/deep/link"
    check(sp.accept(saml_response, reqid))
    doc = decoded(saml_response)
    assert doc.get("InResponseTo") == reqid
    assert one(doc, "//saml:SubjectConfirmationData").get("InResponseTo") == reqid
    assert one(doc, "//saml:Audience").text == sp.entity_id

    # IdP-initiated from the portal tile: the configured RelayState, no InResponseTo.
    saml_response, relay_state = posted(browser.tile(app_id), sp.acs)
    assert relay_state == relay
    check(sp.accept(saml_response))
    assert decoded(saml_response).get("InResponseTo") is None

    # SP-initiated, HTTP-POST (signed in already).
    reqid, action, fields = sp.post_request(relay_state="/posted")
    assert action == f"{base(server)}/saml/{app_id}/sso"
    saml_response, relay_state = posted(browser.open("POST", action, data=fields), sp.acs)
    assert relay_state == "/posted"
    check(sp.accept(saml_response, reqid))

    # Signed requests required: the SP signs, and now wants both the response and the assertion signed.
    signing = Pysaml2SP(server, app_id, tmp_path, key, cert, want_response_signed=True, want_assertions_signed=True,
                        sign_requests=True)
    gh.put_application_saml_configuration(ApplicationArn=arn, MetadataXml=signing.metadata(), RelayState=relay,
                                          SignedParts="BOTH", RequireSignedAuthnRequests=True)
    assert gh.describe_application_saml_configuration(ApplicationArn=arn)["RequireSignedAuthnRequests"] is True
    reqid, url = signing.redirect_request(relay_state="/r", sign=True)
    assert "&Signature=" in url and "&SigAlg=" in url
    assert "sign" in refused(browser.open("GET", unsigned(url)), 400).lower()
    saml_response, _ = posted(browser.open("GET", url), sp.acs)
    check(signing.accept(saml_response, reqid))
    doc = decoded(saml_response)
    assert len(doc.xpath("/samlp:Response/ds:Signature", namespaces=NS)) == 1
    assert len(doc.xpath("/samlp:Response/saml:Assertion/ds:Signature", namespaces=NS)) == 1

    reqid, action, fields = signing.post_request(relay_state="/p", sign=True)
    assert "SignatureValue" in base64.b64decode(fields["SAMLRequest"]).decode()
    saml_response, _ = posted(browser.open("POST", action, data=fields), sp.acs)
    check(signing.accept(saml_response, reqid))
    _, action, fields = sp.post_request(relay_state="/p")
    assert "sign" in refused(browser.open("POST", action, data=fields), 400).lower()


def test_python3_saml_sp_idp_and_sp_initiated_with_unsigned_and_signed_requests(server, ids, tmp_path):
    """Acceptance 1 (python3-saml, strict): ACS URL and audience typed in, the SP certificate given
    as SpCertificates, the IdP certificate from the certificate URL. The default mapping of a custom
    application (the user id as a persistent NameID), the default one-hour session, IdP-initiated
    sign-in and its administrator mode, SP-initiated over HTTP-POST (not signed in yet) and
    HTTP-Redirect, unsigned; then signed requests required: unsigned and wrongly signed requests
    are refused, signed ones answered, with the response and the assertion signed (BOTH)."""
    arn, app_id = new_app(server, name="python3-saml SP")
    user_id = make_user(server, ids, "bob", given="Bob", family="Builder")
    assign(server, arn, user_id)
    gh = server.client("gatehouse")
    key, cert = keypair("sp-onelogin.example.test")
    sp = OneLoginSP.for_app(server, app_id, key_pem=key, cert_pem=cert, name_id_format=PERSISTENT_FORMAT)
    gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=sp.acs, Audience=sp.entity_id)
    assert gh.get_application_attribute_mappings(ApplicationArn=arn)["AttributeMappings"] == mappings(
        ("Subject", "${user:subject}", "persistent"))
    gh.put_application_attribute_mappings(ApplicationArn=arn, AttributeMappings=mappings(
        ("Subject", "${user:subject}", "persistent"),
        ("email", "${user:email}", "basic"),
        ("displayName", "${user:name}", "unspecified"),
        ("surname", "${user:familyName}", "uri")))

    def check(auth):
        assert (auth.get_nameid(), auth.get_nameid_format()) == (user_id, PERSISTENT_FORMAT)
        assert auth.get_attributes() == {"email": ["bob@example.com"], "displayName": ["Bob Builder"],
                                         "surname": ["Builder"]}, auth.get_attributes()

    # IdP-initiated; the session lasts the default hour; no RelayState configured, none sent.
    browser = Portal(server)
    browser.sign_in("bob")
    before = datetime.datetime.now(datetime.timezone.utc)
    saml_response, relay_state = posted(browser.tile(app_id), sp.acs)
    assert relay_state in (None, "")
    check(sp.accept(saml_response))
    doc = decoded(saml_response)
    assert len(doc.xpath("/samlp:Response/ds:Signature", namespaces=NS)) == 0, "SignedParts defaults to ASSERTION"
    assert len(doc.xpath("//saml:Assertion/ds:Signature", namespaces=NS)) == 1
    formats = {a.get("Name"): a.get("NameFormat") for a in doc.xpath("//saml:Attribute", namespaces=NS)}
    assert formats == {"email": BASIC, "displayName": UNSPECIFIED, "surname": URI}
    ends = saml_time(one(doc, "//saml:SubjectConfirmationData").get("NotOnOrAfter"))
    assert datetime.timedelta(minutes=58) < ends - before < datetime.timedelta(minutes=62), ends
    assert one(doc, "//saml:Conditions").get("NotOnOrAfter") == one(doc, "//saml:SubjectConfirmationData").get("NotOnOrAfter")

    # Administrator mode: the assertion XML to copy, and a form that sends it on.
    r = browser.tile(app_id, admin=True)
    assert r.status_code == 200, r.text
    page = Page(r.text)
    assert {"copy-xml", "send-submit"} <= page.ids
    assert f">{user_id}</saml:NameID>" in page.textareas["assertion-xml"]
    form = page.forms["send-form"]
    assert form["action"] == sp.acs
    check(sp.accept(form["fields"]["SAMLResponse"]))

    # SP-initiated over HTTP-POST from a browser not signed in: sign-in, then the answer.
    fresh = Portal(server)
    reqid, fields = sp.post_request()
    saml_response, relay_state = posted(fresh.open("POST", sp.sso_url, user="bob", data=fields), sp.acs)
    assert relay_state == "/posted"
    check(sp.accept(saml_response, reqid))
    assert decoded(saml_response).get("InResponseTo") == reqid

    # HTTP-Redirect.
    reqid, url = sp.redirect_request(relay_state="/after")
    saml_response, relay_state = posted(fresh.open("GET", url), sp.acs)
    assert relay_state == "/after"
    check(sp.accept(saml_response, reqid))

    # Signed requests required, the SP certificate given directly; responses signed twice.
    gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=sp.acs, Audience=sp.entity_id,
                                          SpCertificates=[cert], RequireSignedAuthnRequests=True, SignedParts="BOTH")
    config = gh.describe_application_saml_configuration(ApplicationArn=arn)
    assert config["RequireSignedAuthnRequests"] is True and config["SignedParts"] == "BOTH"
    assert ders(config["SpCertificates"]) == [der(cert)], config["SpCertificates"]
    strict = OneLoginSP.for_app(server, app_id, key_pem=key, cert_pem=cert, sign_requests=True,
                                want_messages_signed=True, name_id_format=PERSISTENT_FORMAT)
    _, url = sp.redirect_request()
    assert "sign" in refused(fresh.open("GET", url), 400).lower()
    _, fields = sp.post_request()
    assert "sign" in refused(fresh.open("POST", sp.sso_url, data=fields), 400).lower()
    other_key, other_cert = keypair("attacker.example.test")
    _, url = strict.redirect_request()
    error = refused(fresh.open("GET", sign_redirect_with(url, other_key)), 400)
    assert "signature" in error.lower(), error
    _, fields = strict.post_request(sign=True, key_pem=other_key, cert_pem=other_cert)
    assert "signature" in refused(fresh.open("POST", sp.sso_url, data=fields), 400).lower()

    reqid, url = strict.redirect_request(relay_state="/signed")
    assert "Signature=" in url
    saml_response, relay_state = posted(fresh.open("GET", url), sp.acs)
    assert relay_state == "/signed"
    check(strict.accept(saml_response, reqid))
    reqid, fields = strict.post_request(sign=True)
    saml_response, _ = posted(fresh.open("POST", sp.sso_url, data=fields), sp.acs)
    check(strict.accept(saml_response, reqid))
    doc = decoded(saml_response)
    assert len(doc.xpath("/samlp:Response/ds:Signature", namespaces=NS)) == 1


# --- 2. pre-integrated applications ------------------------------------------------------------------


def test_logzio_custom_app_twelve_hour_session_and_groups(server, ids):
    """Acceptance 2 (Logz.io, set up as its guide says for a custom application): session PT12H,
    email=${user:email}, groups=${user:groups}. The SP reads the email NameID, the email and every
    group (multi-valued); the assertion lasts 12 hours. Access comes from a directly assigned group:
    a member of another group only is refused. A member without a primary email gets the error
    page naming ${user:email}, as a failed Federate event."""
    client, store_id = ids
    arn, app_id = new_app(server, name="Logz.io")
    gh = server.client("gatehouse")
    acs = "https://app.logz.io/saml/acs/aws-sso-1234"
    audience = "urn:auth0:logzio:aws-sso-1234"
    gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=acs, Audience=audience, SessionDuration="PT12H",
                                          RelayState="https://app.logz.io/#/dashboard")
    gh.put_application_attribute_mappings(ApplicationArn=arn, AttributeMappings=mappings(
        ("Subject", "${user:email}", "emailAddress"),
        ("email", "${user:email}", "unspecified"),
        ("groups", "${user:groups}", "unspecified")))
    assert gh.describe_application_saml_configuration(ApplicationArn=arn)["SessionDuration"] == "PT12H"
    carol = make_user(server, ids, "carol")
    dave = make_user(server, ids, "dave", email=None)
    oscar = make_user(server, ids, "oscar")
    ops = client.create_group(IdentityStoreId=store_id, DisplayName="Ops")["GroupId"]
    dev = client.create_group(IdentityStoreId=store_id, DisplayName="Developers")["GroupId"]
    for group in (ops, dev):
        client.create_group_membership(IdentityStoreId=store_id, GroupId=group, MemberId={"UserId": carol})
    client.create_group_membership(IdentityStoreId=store_id, GroupId=ops, MemberId={"UserId": dave})
    client.create_group_membership(IdentityStoreId=store_id, GroupId=dev, MemberId={"UserId": oscar})
    assign(server, arn, ops, "GROUP")

    sp = OneLoginSP.for_app(server, app_id, entity_id=audience, acs=acs)
    browser = Portal(server)
    browser.sign_in("carol")
    before = datetime.datetime.now(datetime.timezone.utc)
    saml_response, relay_state = posted(browser.tile(app_id), acs)
    assert relay_state == "https://app.logz.io/#/dashboard"
    auth = sp.accept(saml_response)
    assert (auth.get_nameid(), auth.get_nameid_format()) == ("carol@example.com", EMAIL_FORMAT)
    attributes = auth.get_attributes()
    assert attributes["email"] == ["carol@example.com"]
    assert sorted(attributes["groups"]) == ["Developers", "Ops"], attributes
    doc = decoded(saml_response)
    group_values = doc.xpath("//saml:Attribute[@Name='groups']/saml:AttributeValue/text()", namespaces=NS)
    assert sorted(group_values) == ["Developers", "Ops"], "one AttributeValue per group"
    assert one(doc, "//saml:Attribute[@Name='groups']").get("NameFormat") == UNSPECIFIED
    for where in ("//saml:SubjectConfirmationData", "//saml:Conditions"):
        ends = saml_time(one(doc, where).get("NotOnOrAfter"))
        assert datetime.timedelta(hours=11, minutes=58) < ends - before < datetime.timedelta(hours=12, minutes=2), (where, ends)
    session_ends = saml_time(one(doc, "//saml:AuthnStatement").get("SessionNotOnOrAfter"))
    assert datetime.timedelta(hours=11, minutes=58) < session_ends - before < datetime.timedelta(hours=12, minutes=2)

    # oscar is in Developers only, a group without an assignment.
    outsider = Portal(server)
    outsider.sign_in("oscar")
    assert "not assigned" in refused(outsider.tile(app_id), 403).lower()

    # dave is in the assigned group but has no email: a clear error instead of an assertion.
    nobody = Portal(server)
    nobody.sign_in("dave")
    error = refused(nobody.tile(app_id), 400)
    assert "${user:email}" in error, error
    failed = federate_events(server)[-1]
    assert failed["userIdentity"]["userName"] == "dave" and "${user:email}" in failed.get("errorMessage", ""), failed


def test_amplitude_catalog_app_email_name_id_and_basic_email(server, ids):
    """Acceptance 2 (Amplitude from the catalog): the catalog's mappings (Subject ${user:email} as an
    emailAddress NameID, email ${user:email} in basic format) and its setup instructions come with
    the application; the SP reads exactly those. A user without a primary email gets the error
    page naming ${user:email} (SP-initiated, after signing in), as a failed Federate event."""
    arn, app_id = new_app(server, "catalog/amplitude", name="Amplitude")
    gh = server.client("gatehouse")
    assert gh.get_application_attribute_mappings(ApplicationArn=arn)["AttributeMappings"] == mappings(
        ("Subject", "${user:email}", "emailAddress"), ("email", "${user:email}", "basic"))
    acs = "https://analytics.amplitude.com/saml/sso/271828"
    audience = "https://analytics.amplitude.com/saml/metadata/271828"
    gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=acs, Audience=audience)
    config = gh.describe_application_saml_configuration(ApplicationArn=arn)
    assert "Amplitude" in config["Instructions"], config
    erin = make_user(server, ids, "erin", email="erin.e@example.org")
    frank = make_user(server, ids, "frank", email=None)
    for user in (erin, frank):
        assign(server, arn, user)
    providers = server.client("sso-admin").list_application_providers()["ApplicationProviders"]
    assert PROVIDER + "catalog/amplitude" in [p["ApplicationProviderArn"] for p in providers]

    sp = OneLoginSP.for_app(server, app_id, entity_id=audience, acs=acs)
    browser = Portal(server)
    reqid, url = sp.redirect_request()
    saml_response, _ = posted(browser.open("GET", url, user="erin"), acs)
    auth = sp.accept(saml_response, reqid)
    assert (auth.get_nameid(), auth.get_nameid_format()) == ("erin.e@example.org", EMAIL_FORMAT)
    assert auth.get_attributes() == {"email": ["erin.e@example.org"]}
    doc = decoded(saml_response)
    assert one(doc, "//saml:Attribute[@Name='email']").get("NameFormat") == BASIC

    nobody = Portal(server)
    reqid, url = sp.redirect_request()
    error = refused(nobody.open("GET", url, user="frank"), 400)
    assert "${user:email}" in error, error
    failed = [e for e in federate_events(server) if e.get("errorCode")]
    assert len(failed) == 1 and failed[0]["userIdentity"]["userName"] == "frank", failed
    assert "${user:email}" in failed[0]["errorMessage"] and failed[0]["requestParameters"]["authnRequestId"] == reqid


# --- 3. signing certificates -------------------------------------------------------------------------


def test_certificate_rotation_with_two_certificates_at_most(server, ids, tmp_path):
    """Acceptance 3 (rotation): the first certificate is RSA-2048/SHA-256 for five years; a second
    one is published in the metadata beside it (inactive) so an SP that refetches the metadata
    trusts both; once activated, responses verify with the new certificate only (an SP trusting only
    the old one refuses them). The active certificate cannot be deleted, a third is over the quota,
    the old one can go."""
    arn, app_id = new_app(server, name="Rotating")
    user_id = make_user(server, ids, "grace")
    assign(server, arn, user_id)
    gh = server.client("gatehouse")
    key, cert = keypair()
    acs = Pysaml2SP.acs
    gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=acs, Audience=Pysaml2SP.entity_id)
    gh.put_application_attribute_mappings(ApplicationArn=arn, AttributeMappings=mappings(
        ("Subject", "${user:email}", "emailAddress"), ("email", "${user:email}", "basic")))
    (old,) = gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
    assert (old["Status"], old["KeySize"], old["SignatureAlgorithm"], old["ExpiryStatus"]) == (
        "ACTIVE", 2048, "SHA256", "VALID")
    years = (when(old["NotAfter"]) - when(old["NotBefore"])).days / 365.25
    assert 4.9 < years < 5.1, years
    idp = f"{base(server)}/saml/{app_id}"
    assert der(requests.get(idp + "/certificate").text) == der(old["CertificatePem"])

    new = gh.create_application_certificate(ApplicationArn=arn, ValidityMonths=24, KeySize=2048,
                                            SignatureAlgorithm="SHA256")["Certificate"]
    assert new["Status"] == "INACTIVE" and new["CertificateId"] != old["CertificateId"]
    assert 700 < (when(new["NotAfter"]) - when(new["NotBefore"])).days < 740
    assert sorted(metadata_certs(requests.get(idp + "/metadata").text)) == sorted(
        [der(old["CertificatePem"]), der(new["CertificatePem"])])
    assert der(requests.get(idp + "/certificate").text) == der(old["CertificatePem"]), "still the old one"

    browser = Portal(server)
    browser.sign_in("grace")
    both = Pysaml2SP(server, app_id, tmp_path, key, cert, want_response_signed=False, want_assertions_signed=True)
    only_old = OneLoginSP(idp, idp + "/sso", [old["CertificatePem"]], entity_id=Pysaml2SP.entity_id, acs=acs)
    only_new = OneLoginSP(idp, idp + "/sso", [new["CertificatePem"]], entity_id=Pysaml2SP.entity_id, acs=acs)
    saml_response, _ = posted(browser.tile(app_id), acs)
    assert both.accept(saml_response).name_id.text == "grace@example.com"
    only_old.accept(saml_response)
    assert not only_new.check(saml_response).is_authenticated()

    gh.activate_application_certificate(ApplicationArn=arn, CertificateId=new["CertificateId"])
    status = {c["CertificateId"]: c["Status"] for c in gh.list_application_certificates(ApplicationArn=arn)["Certificates"]}
    assert status == {old["CertificateId"]: "INACTIVE", new["CertificateId"]: "ACTIVE"}
    assert der(requests.get(idp + "/certificate").text) == der(new["CertificatePem"])
    saml_response, _ = posted(browser.tile(app_id), acs)
    auth = only_new.accept(saml_response)
    assert auth.get_nameid() == "grace@example.com"
    rejected = only_old.check(saml_response)
    assert not rejected.is_authenticated() and "Signature validation failed" in rejected.get_last_error_reason()
    assert both.accept(saml_response).name_id.text == "grace@example.com", "an SP trusting both during the rollover"
    assert xmlsec1_verify(tmp_path, base64.b64decode(saml_response), new["CertificatePem"]).returncode == 0
    assert xmlsec1_verify(tmp_path, base64.b64decode(saml_response), old["CertificatePem"]).returncode != 0

    with pytest.raises(ClientError) as e:
        gh.delete_application_certificate(ApplicationArn=arn, CertificateId=new["CertificateId"])
    assert e.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as e:
        gh.create_application_certificate(ApplicationArn=arn, ValidityMonths=12, KeySize=2048,
                                          SignatureAlgorithm="SHA256")
    assert e.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    gh.delete_application_certificate(ApplicationArn=arn, CertificateId=old["CertificateId"])
    (left,) = gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
    assert left["CertificateId"] == new["CertificateId"]
    assert metadata_certs(requests.get(idp + "/metadata").text) == [der(new["CertificatePem"])]
    saml_response, _ = posted(browser.tile(app_id), acs)
    only_new.accept(saml_response)


def test_rsa1024_sha1_and_default_certificates_verify_with_xmlsec1(server, ids, tmp_path):
    """Acceptance 4 (xmlsec1, legacy SPs): the default RSA-2048/SHA-256 certificate and an RSA-1024/SHA-1 one
    sign responses that the xmlsec1 command line verifies with the certificate alone (assertion
    signature and response signature), and refuses once the NameID is changed."""
    arn, app_id = new_app(server, name="Legacy SP")
    user_id = make_user(server, ids, "heidi")
    assign(server, arn, user_id)
    gh = server.client("gatehouse")
    acs, audience = "https://legacy.example.test/acs", "https://legacy.example.test/"
    gh.put_application_attribute_mappings(ApplicationArn=arn, AttributeMappings=mappings(
        ("Subject", "${user:email}", "emailAddress")))
    browser = Portal(server)
    browser.sign_in("heidi")
    (default,) = gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
    legacy = gh.create_application_certificate(ApplicationArn=arn, ValidityMonths=12, KeySize=1024,
                                               SignatureAlgorithm="SHA1")["Certificate"]
    assert (legacy["KeySize"], legacy["SignatureAlgorithm"]) == (1024, "SHA1")
    assert x509.load_pem_x509_certificate(legacy["CertificatePem"].encode()).public_key().key_size == 1024

    for certificate, method in ((default, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
                                (legacy, "http://www.w3.org/2000/09/xmldsig#rsa-sha1")):
        if certificate is legacy:
            gh.activate_application_certificate(ApplicationArn=arn, CertificateId=legacy["CertificateId"])
        for parts, signature in (("ASSERTION", "/samlp:Response/saml:Assertion/ds:Signature"),
                                 ("RESPONSE", "/samlp:Response/ds:Signature")):
            gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=acs, Audience=audience, SignedParts=parts)
            saml_response, _ = posted(browser.tile(app_id), acs)
            xml = base64.b64decode(saml_response)
            doc = etree.fromstring(xml)
            assert one(doc, signature + "/ds:SignedInfo/ds:SignatureMethod").get("Algorithm") == method
            done = xmlsec1_verify(tmp_path, xml, certificate["CertificatePem"])
            assert done.returncode == 0, (certificate["KeySize"], parts, done.stderr)
            changed = xml.replace(b"heidi@example.com</saml:NameID>", b"mallory@example.com</saml:NameID>")
            assert changed != xml
            assert xmlsec1_verify(tmp_path, changed, certificate["CertificatePem"]).returncode != 0, (certificate["KeySize"], parts)


# --- 4. refusals -----------------------------------------------------------------------------------


def test_refusals_are_clear_and_audited_as_failed_federate_events(server, ids):
    """Acceptance 5: an unassigned user, a disabled application and an AuthnRequest naming an ACS
    URL that is not the registered one each get an error page saying so (403, 403, 400), never a
    SAMLResponse, and each is a failed Federate event naming the user, the application, the
    AuthnRequest (SP-initiated) and the page's message; the successful sign-in is a Federate event
    without an error. Application changes are audited too."""
    arn, app_id = new_app(server, name="Guarded")
    ivan = make_user(server, ids, "ivan")
    make_user(server, ids, "judy")
    assign(server, arn, ivan)
    gh = server.client("gatehouse")
    sp = OneLoginSP.for_app(server, app_id)
    gh.put_application_saml_configuration(ApplicationArn=arn, AcsUrl=sp.acs, Audience=sp.entity_id)
    gh.put_application_attribute_mappings(ApplicationArn=arn, AttributeMappings=mappings(
        ("Subject", "${user:email}", "emailAddress")))
    expected = []  # (user name, AuthnRequest ID, error message) of each Federate event, in order

    allowed = Portal(server)
    allowed.sign_in("ivan")
    sp.accept(posted(allowed.tile(app_id), sp.acs)[0])
    expected.append(("ivan", None, None))

    # Not assigned: from the tile and SP-initiated.
    outsider = Portal(server)
    outsider.sign_in("judy")
    error = refused(outsider.tile(app_id), 403)
    assert "not assigned" in error.lower(), error
    expected.append(("judy", None, error))
    reqid, url = sp.redirect_request()
    error = refused(outsider.open("GET", url), 403)
    assert "not assigned" in error.lower(), error
    expected.append(("judy", reqid, error))

    # An ACS URL other than the registered one, in an otherwise good request.
    evil = OneLoginSP.for_app(server, app_id, acs="https://evil.example.test/acs")
    reqid, url = evil.redirect_request()
    assert b'AssertionConsumerServiceURL="https://evil.example.test/acs"' in redirect_request_xml(url)
    error = refused(allowed.open("GET", url), 400)
    assert "https://evil.example.test/acs" in error and re.search(r"(?i)assertion ?consumer|\bACS\b", error), error
    expected.append(("ivan", reqid, error))

    # Disabled: refused for an assigned user, both ways.
    admin = server.client("sso-admin")
    admin.update_application(ApplicationArn=arn, Status="DISABLED")
    assert admin.describe_application(ApplicationArn=arn)["Status"] == "DISABLED"
    error = refused(allowed.tile(app_id), 403)
    assert "disabled" in error.lower(), error
    expected.append(("ivan", None, error))
    reqid, url = sp.redirect_request()
    error = refused(allowed.open("GET", url), 403)
    assert "disabled" in error.lower(), error
    expected.append(("ivan", reqid, error))

    events = federate_events(server)
    got = [(e["userIdentity"].get("userName"),
            # a request refused before sign-in names its ID with the event's additional data
            (e.get("requestParameters") or {}).get("authnRequestId")
            or (e.get("additionalEventData") or {}).get("authnRequestId"),
            # the page's message, which the event may prefix with the field at fault ("SAMLRequest: ...")
            message if message and message in (e.get("errorMessage") or "") else e.get("errorMessage"))
           for e, (_, _, message) in zip(events, expected)]
    assert got == expected, events
    assert all(bool(e.get("errorCode")) == (message is not None) for e, (_, _, message) in zip(events, expected))
    assert all(e["requestParameters"]["applicationId"] == app_id for e in events)
    assert events[0]["responseElements"]["nameIdFormat"] == EMAIL_FORMAT
    changes = [json.loads(line)["eventName"] for line in server.cli("-o", "json", "audit", "tail", "-n", "200").splitlines()
               if line.strip()]
    for name in ("CreateApplication", "CreateApplicationAssignment", "UpdateApplication"):
        assert name in changes, (name, changes)

    # Requests that are not AuthnRequests are refused at once, before any sign-in.
    sso = f"{base(server)}/saml/{app_id}/sso"
    admin.update_application(ApplicationArn=arn, Status="ENABLED")
    not_xml = base64.b64encode(zlib.compress(b"not xml")[2:-4]).decode()
    errors = [refused(r, 400) for r in (
        requests.get(sso, params={"SAMLRequest": "not base64!"}, allow_redirects=False),
        requests.get(sso, params={"SAMLRequest": not_xml}, allow_redirects=False),
        requests.post(sso, data={"SAMLRequest": base64.b64encode(b"<x/>").decode()}, allow_redirects=False))]
    assert "base64" in errors[0] and "XML" in errors[1] and "AuthnRequest" in errors[2], errors
