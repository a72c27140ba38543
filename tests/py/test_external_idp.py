"""An external SAML 2.0 identity provider as the identity source (issue 9): a real pysaml2 IdP,
started by the test, signs people in; Gatehouse is its service provider. The browser is a requests
session (no JavaScript is involved); the IdP's side is pysaml2's own API."""

import base64
import json
import re
import subprocess
import time
import urllib.parse

import requests
import saml2
import saml2.config
from saml2.saml import NameID
from saml2.server import Server as Saml2Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from test_saml_apps import EMAIL_FORMAT, PASSWORD, XMLSEC1, base, keypair, make_user

IDP_ENTITY = "https://idp.example.test/saml"
IDP_SSO = "https://idp.example.test/sso"


class PeerIdp:
    """pysaml2 as the organization's IdP, trusting Gatehouse's SP metadata."""

    def __init__(self, server, tmp_path, name="idp", entity=IDP_ENTITY, sso=IDP_SSO):
        self.tmp = tmp_path
        self.entity, self.sso = entity, sso
        self.key_pem, self.cert_pem = keypair(cn="idp.example.test")
        sp_metadata = requests.get(base(server) + "/start/saml/metadata")
        assert sp_metadata.status_code == 200 and "SPSSODescriptor" in sp_metadata.text, sp_metadata.text
        (tmp_path / "gatehouse-sp.xml").write_text(sp_metadata.text)
        self.name = name
        self.load()

    def load(self):
        (self.tmp / f"{self.name}-key.pem").write_text(self.key_pem)
        (self.tmp / f"{self.name}-cert.pem").write_text(self.cert_pem)
        config = saml2.config.IdPConfig()
        config.load({
            "entityid": self.entity,
            "xmlsec_binary": XMLSEC1,
            "key_file": str(self.tmp / f"{self.name}-key.pem"),
            "cert_file": str(self.tmp / f"{self.name}-cert.pem"),
            "metadata": {"local": [str(self.tmp / "gatehouse-sp.xml")]},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso, saml2.BINDING_HTTP_REDIRECT)]},
                "name_id_format": [EMAIL_FORMAT],
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
            }},
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
        })
        self.config = config
        self.idp = Saml2Server(config=config)

    def rotate(self):
        """A new signing key and certificate (the IdP's certificate rollover)."""
        self.key_pem, self.cert_pem = keypair(cn="idp.example.test")
        self.name += "-next"
        self.load()

    def metadata(self):
        from saml2.metadata import entity_descriptor
        return str(entity_descriptor(self.config))

    def answer(self, redirect_url, user, attributes=None):
        """The person signs in at the IdP: its Response (base64) to the request in the URL, and the
        RelayState to send back."""
        assert redirect_url.startswith(self.sso + "?"), redirect_url
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect_url).query)
        request = self.idp.parse_authn_request(query["SAMLRequest"][0], saml2.BINDING_HTTP_REDIRECT)
        return self.respond(request.message.id, request.message.assertion_consumer_service_url, user, attributes), \
            query.get("RelayState", [""])[0]

    def respond(self, in_response_to, acs, user, attributes=None):
        sp = re.search(r'entityID="([^"]+)"', (self.tmp / "gatehouse-sp.xml").read_text()).group(1)
        response = self.idp.create_authn_response(
            identity=attributes or {}, in_response_to=in_response_to, destination=acs, sp_entity_id=sp,
            name_id=NameID(format=EMAIL_FORMAT, text=user), userid=user, sign_response=True, sign_assertion=True,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", "authn_auth": self.entity},
            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        return base64.b64encode(str(response).encode()).decode()


class Browser:
    """A browser without JavaScript."""

    def __init__(self, server):
        self.base = base(server)
        self.http = requests.Session()

    def to_idp(self, path="/start/"):
        """Open a portal page signed out: the portal sends the browser to the IdP."""
        first = self.http.get(self.base + path, allow_redirects=False)
        assert first.status_code == 303 and "/start/signin" in first.headers["location"], first.text
        second = self.http.get(urllib.parse.urljoin(self.base, first.headers["location"]), allow_redirects=False)
        assert second.status_code == 303, second.text
        return second.headers["location"]

    def post_response(self, saml_response, relay_state="/start/"):
        return self.http.post(self.base + "/start/saml/acs", data={"SAMLResponse": saml_response, "RelayState": relay_state},
                              allow_redirects=False)


def external_logins(server):
    lines = server.cli("-o", "json", "audit", "tail", "-n", "200").splitlines()
    return [e for e in (json.loads(line) for line in lines) if e["eventName"] == "ExternalIdPDirectoryLogin"]


def cli_refused(server, *args):
    """A command the CLI refuses: its error message."""
    done = subprocess.run(server.args(*args), capture_output=True, text=True)
    assert done.returncode != 0, done.stdout
    return done.stderr


def use_peer(server, peer, tmp_path):
    (tmp_path / "idp-metadata.xml").write_text(peer.metadata())
    server.cli("identity-source", "set-external", "--metadata", str(tmp_path / "idp-metadata.xml"))
    server.cli("identity-source", "change", "external-idp", "--confirm", "ACCEPT")


def test_sign_in_through_the_external_idp(server, ids, tmp_path):
    make_user(server, ids, "ada@example.com", email="ada@example.com")
    peer = PeerIdp(server, tmp_path)
    # Before the switch: the typed confirmation, and a configured IdP, are required.
    assert "Configure the external identity provider" in cli_refused(server, "identity-source", "change", "external-idp", "--confirm", "ACCEPT")
    use_peer(server, peer, tmp_path)
    shown = json.loads(server.cli("-o", "json", "identity-source", "show"))
    assert shown["kind"] == "EXTERNAL_IDP" and shown["external"]["entity_id"] == IDP_ENTITY

    # The person opens the portal, signs in at the IdP, and lands in the portal as that user.
    browser = Browser(server)
    to_idp = browser.to_idp("/start/mfa-devices")
    response, relay = peer.answer(to_idp, "ada@example.com")
    assert relay == "/start/mfa-devices"
    landed = browser.post_response(response, relay)
    assert landed.status_code == 303 and landed.headers["location"] == "/start/mfa-devices", landed.text
    home = browser.http.get(browser.base + "/start/")
    assert home.status_code == 200 and 'id="user-name">ada@example.com<' in home.text, home.text

    # The same Response again: refused (the assertion was used), and audited with the reason.
    replayed = Browser(server).post_response(response)
    assert replayed.status_code == 403 and "used already" in replayed.text
    # An unknown person: a clear error, nobody is created, and the event says why.
    other = Browser(server)
    response, _ = peer.answer(other.to_idp(), "nobody@example.com")
    refused = other.post_response(response)
    assert refused.status_code == 403 and "no user has the username" in refused.text and "gh_session" not in other.http.cookies
    events = external_logins(server)
    assert [e.get("errorCode") for e in events] == [None, "ExternalIdPLoginFailed", "ExternalIdPLoginFailed"]
    assert "nobody@example.com" in events[2]["errorMessage"] and events[2]["userIdentity"]["userName"] == "nobody@example.com"

    # A Response to no request of ours (IdP-initiated) is refused unless enabled.
    unsolicited = peer.respond(None, base(server) + "/start/saml/acs", "ada@example.com")
    assert Browser(server).post_response(unsolicited).status_code == 403
    server.cli("identity-source", "set-external", "--allow-idp-initiated", "true")
    unsolicited = peer.respond(None, base(server) + "/start/saml/acs", "ada@example.com")
    assert Browser(server).post_response(unsolicited).status_code == 303

    # Passwords do not work while the IdP is the source.
    page = requests.Session()
    form = page.get(base(server) + "/start/signin?next=/start/", allow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith(IDP_SSO)


def test_certificate_rotation_with_the_idp_has_no_failed_sign_in(server, ids, tmp_path):
    make_user(server, ids, "ada@example.com", email="ada@example.com")
    peer = PeerIdp(server, tmp_path)
    use_peer(server, peer, tmp_path)
    old_cert = peer.cert_pem
    (first,) = json.loads(server.cli("-o", "json", "identity-source", "show"))["external"]["certificates"]
    # The last certificate cannot be deleted.
    assert "only certificate" in cli_refused(server, "identity-source", "delete-certificate", first["id"])

    # The IdP's next certificate is imported while the old one still signs: both are trusted.
    old_peer_key = peer.key_pem
    peer.rotate()
    (tmp_path / "next.pem").write_text(peer.cert_pem)
    server.cli("identity-source", "set-external", "--certificate", str(tmp_path / "next.pem"))
    for signer in ("new",):
        browser = Browser(server)
        response, relay = peer.answer(browser.to_idp(), "ada@example.com")
        assert browser.post_response(response, relay).status_code == 303, signer
    # The old certificate goes; the new one keeps working.
    server.cli("identity-source", "delete-certificate", first["id"])
    browser = Browser(server)
    response, relay = peer.answer(browser.to_idp(), "ada@example.com")
    assert browser.post_response(response, relay).status_code == 303
    # A Response signed with the retired key is refused.
    peer.key_pem, peer.cert_pem, peer.name = old_peer_key, old_cert, "idp-old"
    peer.load()
    browser = Browser(server)
    response, _ = peer.answer(browser.to_idp(), "ada@example.com")
    refused = browser.post_response(response)
    assert refused.status_code == 403 and "signature" in refused.text.lower()
    # An oversized certificate is refused (the guide: at most 2 KB).
    (tmp_path / "big.pem").write_text("-----BEGIN CERTIFICATE-----\n" + "A" * 3000 + "\n-----END CERTIFICATE-----\n")
    assert "2048" in cli_refused(server, "identity-source", "set-external", "--certificate", str(tmp_path / "big.pem"))


def test_switching_between_the_directory_and_the_external_idp_keeps_everything(server, ids, tmp_path):
    """The guide: between the Gatehouse directory and an external IdP, users, groups and
    entitlements are preserved, and users who had passwords sign in with them again."""
    client, store = ids
    user = make_user(server, ids, "ada@example.com", email="ada@example.com")
    group = client.create_group(IdentityStoreId=store, DisplayName="Engineers")["GroupId"]
    client.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    peer = PeerIdp(server, tmp_path)
    use_peer(server, peer, tmp_path)
    assert client.list_group_memberships(IdentityStoreId=store, GroupId=group)["GroupMemberships"]
    assert "type CONFIRM" in cli_refused(server, "identity-source", "change", "directory", "--confirm", "ACCEPT")
    server.cli("identity-source", "change", "directory", "--confirm", "CONFIRM")
    assert [m["MemberId"]["UserId"] for m in client.list_group_memberships(IdentityStoreId=store, GroupId=group)["GroupMemberships"]] == [user]
    page = requests.Session()
    form = page.get(base(server) + "/start/signin?next=/start/")
    assert form.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    done = page.post(base(server) + "/start/signin", data={"csrf": csrf, "next": "/start/", "username": "ada@example.com",
                                                            "password": PASSWORD})
    assert 'id="user-name">ada@example.com<' in done.text, done.text[:2000]


def test_changing_to_another_external_idp_keeps_entitlements(server, ids, tmp_path):
    """The guide: from one external IdP to another, entitlements and group memberships are kept,
    and work as long as the new IdP's NameIDs match the usernames. The old IdP's responses stop
    counting once its certificate is deleted and its issuer replaced."""
    client, store = ids
    user = make_user(server, ids, "ada@example.com", email="ada@example.com")
    group = client.create_group(IdentityStoreId=store, DisplayName="Engineers")["GroupId"]
    client.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    old = PeerIdp(server, tmp_path)
    use_peer(server, old, tmp_path)
    new = PeerIdp(server, tmp_path, name="new-idp", entity="https://new-idp.example.test/saml", sso="https://new-idp.example.test/sso")
    (tmp_path / "new-idp.xml").write_text(new.metadata())
    old_certificates = [c["id"] for c in json.loads(server.cli("-o", "json", "identity-source", "show"))["external"]["certificates"]]
    server.cli("identity-source", "set-external", "--metadata", str(tmp_path / "new-idp.xml"))
    for cert in old_certificates:
        server.cli("identity-source", "delete-certificate", cert)
    shown = json.loads(server.cli("-o", "json", "identity-source", "show"))
    assert shown["external"]["entity_id"] == new.entity and len(shown["external"]["certificates"]) == 1

    browser = Browser(server)
    to_idp = browser.to_idp()
    assert to_idp.startswith(new.sso + "?"), "sign-in now starts at the new IdP"
    response, relay = new.answer(to_idp, "ada@example.com")
    assert browser.post_response(response, relay).status_code == 303
    assert 'id="user-name">ada@example.com<' in browser.http.get(browser.base + "/start/").text
    assert [m["MemberId"]["UserId"] for m in client.list_group_memberships(IdentityStoreId=store, GroupId=group)["GroupMemberships"]] == [user]

    # The old IdP answering a request of ours: refused.
    other = Browser(server)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(other.to_idp()).query)
    request = new.idp.parse_authn_request(query["SAMLRequest"][0], saml2.BINDING_HTTP_REDIRECT)
    stale = old.respond(request.message.id, base(server) + "/start/saml/acs", "ada@example.com")
    assert other.post_response(stale).status_code == 403


SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}
ASSERTION_CLASS = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"


class Corpus:
    """Variants of the peer's real responses, each posted to the ACS after a fresh request."""

    def __init__(self, server, peer):
        self.server, self.peer = server, peer

    def unsigned(self, user="ada@example.com", in_response_to=None):
        """A fresh request's Response as the peer builds it, unsigned: (lxml tree, browser)."""
        from lxml import etree
        browser = Browser(self.server)
        url = browser.to_idp()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        request = self.peer.idp.parse_authn_request(query["SAMLRequest"][0], saml2.BINDING_HTTP_REDIRECT)
        sp = re.search(r'entityID="([^"]+)"', (self.peer.tmp / "gatehouse-sp.xml").read_text()).group(1)
        response = self.peer.idp.create_authn_response(
            identity={}, in_response_to=in_response_to or request.message.id,
            destination=request.message.assertion_consumer_service_url, sp_entity_id=sp,
            name_id=NameID(format=EMAIL_FORMAT, text=user), userid=user, sign_response=False, sign_assertion=False,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", "authn_auth": IDP_ENTITY})
        return etree.fromstring(str(response).encode()), browser

    def sign_assertion(self, tree, signer=None):
        """Sign the (first) Assertion as the peer does, with its key or `signer`'s."""
        from lxml import etree
        from saml2.sigver import pre_signature_part
        signer = signer or self.peer
        assertion = tree.find("saml:Assertion", NS)
        template = etree.fromstring(str(pre_signature_part(assertion.get("ID"), signer.idp.sec.my_cert, 1,
                                                           digest_alg=DIGEST_SHA256, sign_alg=SIG_RSA_SHA256)).encode())
        assertion.insert(1, template)
        signed = signer.idp.sec.sign_statement(etree.tostring(tree).decode(), ASSERTION_CLASS, node_id=assertion.get("ID"))
        return etree.fromstring(signed.encode() if isinstance(signed, str) else signed)

    def post(self, tree_or_text, browser):
        from lxml import etree
        text = tree_or_text if isinstance(tree_or_text, str) else etree.tostring(tree_or_text).decode()
        return browser.post_response(base64.b64encode(text.encode()).decode())


def refused_with(r, *words):
    assert r.status_code == 403, (r.status_code, r.text[:1500])
    message = re.search(r'id="error"[^>]*>([^<]*)<', r.text).group(1).lower()
    assert any(w in message for w in words), message
    return message


def test_negative_corpus_from_the_peers_real_responses(server, ids, tmp_path):
    """Each variant of a genuine peer Response is refused, for its own reason; the genuine one
    passes (so each refusal is the variant's doing)."""
    from lxml import etree
    make_user(server, ids, "ada@example.com", email="ada@example.com")
    peer = PeerIdp(server, tmp_path)
    use_peer(server, peer, tmp_path)
    corpus = Corpus(server, peer)

    tree, browser = corpus.unsigned()
    assert corpus.post(corpus.sign_assertion(tree), browser).status_code == 303, "the genuine, assertion-signed Response"

    tree, browser = corpus.unsigned()
    refused_with(corpus.post(tree, browser), "not signed")

    (tmp_path / "foreign").mkdir()
    foreign = PeerIdp(server, tmp_path / "foreign")  # the same issuer, another key
    tree, browser = corpus.unsigned()
    refused_with(corpus.post(corpus.sign_assertion(tree, signer=foreign), browser), "signature")

    # Wrapping 1: an unsigned evil Assertion next to the signed one.
    tree, browser = corpus.unsigned()
    tree = corpus.sign_assertion(tree)
    evil = etree.fromstring(etree.tostring(tree.find("saml:Assertion", NS)))
    evil.remove(evil.find("ds:Signature", NS))
    evil.set("ID", "_evil")
    evil.find("saml:Subject/saml:NameID", NS).text = "admin@example.com"
    tree.find("saml:Assertion", NS).addprevious(evil)
    refused_with(corpus.post(tree, browser), "more than one assertion")

    # Wrapping 2: the signed Assertion hidden in Extensions, an evil one in its place.
    tree, browser = corpus.unsigned()
    tree = corpus.sign_assertion(tree)
    signed = tree.find("saml:Assertion", NS)
    evil = etree.fromstring(etree.tostring(signed))
    evil.remove(evil.find("ds:Signature", NS))
    evil.find("saml:Subject/saml:NameID", NS).text = "admin@example.com"
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    tree.remove(signed)
    extensions.append(signed)
    tree.find("saml:Issuer", NS).addnext(extensions)
    tree.append(evil)
    refused_with(corpus.post(tree, browser), "no valid signature covers", "signature")

    # A comment inside the NameID, added after signing (comments are not signed): the whole name
    # counts, never the part before the comment.
    tree, browser = corpus.unsigned(user="ada@example.com.evil.test")
    tree = corpus.sign_assertion(tree)
    name_id = tree.find("saml:Assertion/saml:Subject/saml:NameID", NS)
    name_id.text = "ada@example.com"
    comment = etree.Comment("")
    comment.tail = ".evil.test"
    name_id.append(comment)
    message = refused_with(corpus.post(tree, browser), "no user has the username")
    assert "ada@example.com.evil.test" in message

    def resigned(change):
        tree, browser = corpus.unsigned()
        change(tree)
        return corpus.post(corpus.sign_assertion(tree), browser)

    def expire(tree):
        for n in tree.iter():
            if n.get("NotOnOrAfter"):
                n.set("NotOnOrAfter", "2020-01-01T00:00:00Z")
    refused_with(resigned(expire), "expired")

    def audience(tree):
        tree.find("saml:Assertion/saml:Conditions/saml:AudienceRestriction/saml:Audience", NS).text = "https://other.example.test"
    refused_with(resigned(audience), "audience")

    def recipient(tree):
        tree.find("saml:Assertion/saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS).set(
            "Recipient", "https://other.example.test/acs")
    refused_with(resigned(recipient), "recipient")

    tree, browser = corpus.unsigned(in_response_to="_not-a-request-of-ours")
    refused_with(corpus.post(corpus.sign_assertion(tree), browser), "inresponseto")

    tree, browser = corpus.unsigned()
    genuine = etree.tostring(corpus.sign_assertion(tree)).decode()
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + genuine
    refused_with(corpus.post(xxe, browser), "xml", "doctype")

    # Replayed: accepted once, refused the second time.
    tree, browser = corpus.unsigned()
    once = corpus.sign_assertion(tree)
    assert corpus.post(once, browser).status_code == 303
    refused_with(corpus.post(once, Browser(server)), "used already")

    reasons = [e["errorMessage"] for e in external_logins(server) if e.get("errorCode")]
    assert len(reasons) == 11, reasons


def test_access_control_attributes_from_the_idp_reach_aws_as_principal_tags(server, ids, moto, tmp_path):
    """The IdP's `AccessControl:<Key>` attributes become session tags in console federation, and
    win over the same key configured in Gatehouse (the guide); the guide's limits are enforced."""
    from lxml import etree
    from test_permission_sets import Sso
    sso = Sso(server)
    sso.connect(moto)
    member = sso.add_account()
    user = make_user(server, ids, "ada@example.com", email="ada@example.com")
    sso.ids.update_user(IdentityStoreId=sso.store_id, UserId=user, Operations=[{"AttributePath": "title", "AttributeValue": "Engineer"}])
    sso.admin.create_instance_access_control_attribute_configuration(
        InstanceArn=sso.instance, InstanceAccessControlAttributeConfiguration={"AccessControlAttributes": [
            {"Key": "Title", "Value": {"Source": ["${path:title}"]}},
            {"Key": "CostCenter", "Value": {"Source": ["${path:enterprise.costCenter}"]}}]})
    ps = sso.permission_set(name="Console")
    assert sso.wait("create", sso.assign(member, ps["PermissionSetArn"], user))["Status"] == "SUCCEEDED"
    peer = PeerIdp(server, tmp_path)
    use_peer(server, peer, tmp_path)

    prefix = "https://aws.amazon.com/SAML/Attributes/AccessControl:"
    browser = Browser(server)
    response, relay = peer.answer(browser.to_idp(), "ada@example.com", {prefix + "CostCenter": ["1234"], prefix + "Title": ["Director"]})
    assert browser.post_response(response, relay).status_code == 303
    posted = browser.http.get(f"{browser.base}/start/aws/{member}/Console/console")
    assert posted.status_code == 200, posted.text[:2000]
    saml = re.search(r'name="SAMLResponse" value="([^"]+)"', posted.text).group(1)
    doc = etree.fromstring(base64.b64decode(saml))
    tags = {a.get("Name").rsplit(":", 1)[1]: [v.text for v in a.findall("saml:AttributeValue", NS)]
            for a in doc.iter(f"{{{SAML}}}Attribute") if "PrincipalTag:" in a.get("Name")}
    assert tags == {"Title": ["Director"], "CostCenter": ["1234"]}, tags

    # Two values for one key: refused with the reason.
    browser = Browser(server)
    response, _ = peer.answer(browser.to_idp(), "ada@example.com", {prefix + "Team": ["a", "b"]})
    refused_with(browser.post_response(response), "must have one")


def test_gatehouse_mfa_applies_after_the_idp_only_when_asked(server, ids, tmp_path):
    """The guide: Gatehouse MFA does not apply to users of an external IdP. Beyond it, an option
    asks for Gatehouse MFA after the IdP's sign-in."""
    import pyotp
    from test_saml_apps import Page
    user = make_user(server, ids, "ada@example.com", email="ada@example.com")
    gh = server.client("gatehouse")
    gh.put_mfa_device_management_for_directory(Settings={"Mode": "ALWAYS_ON"})
    secret = gh.start_virtual_mfa_device_registration(UserId=user)["Secret"]
    registered_at = time.time()
    gh.complete_virtual_mfa_device_registration(UserId=user, Secret=secret, Code=pyotp.TOTP(secret).at(registered_at),
                                                DeviceName="phone")
    peer = PeerIdp(server, tmp_path)
    use_peer(server, peer, tmp_path)

    browser = Browser(server)
    response, relay = peer.answer(browser.to_idp(), "ada@example.com")
    landed = browser.post_response(response, relay)
    assert landed.status_code == 303 and landed.headers["location"] == "/start/", "no Gatehouse MFA by default"

    server.cli("identity-source", "set-external", "--require-mfa", "true")
    browser = Browser(server)
    response, relay = peer.answer(browser.to_idp(), "ada@example.com")
    landed = browser.post_response(response, relay)
    assert landed.status_code == 303 and landed.headers["location"].startswith("/start/signin/mfa"), landed.headers
    assert browser.http.get(browser.base + "/start/", allow_redirects=False).status_code == 303, "not signed in before MFA"
    form = Page(browser.http.get(browser.base + landed.headers["location"]).text).forms["mfa"]
    done = browser.http.post(browser.base + form["action"], data=dict(form["fields"], code=pyotp.TOTP(secret).at(registered_at + 30)),
                             allow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/start/", done.text[:1500]
    assert 'id="user-name">ada@example.com<' in browser.http.get(browser.base + "/start/").text
    events = [e for e in external_logins(server) if not e.get("errorCode")]
    assert len(events) == 2
