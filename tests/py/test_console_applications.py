"""The guide's Applications procedures in the console, end to end in a real browser (Debian's
chromium through Playwright), each test named after the procedures it follows; a screenshot of
every page goes to test-output/console/. What the console did is checked again through boto3
(sso-admin, and Gatehouse's own operations for the SAML settings and certificates).

Procedures covered here:
- To add and configure a cloud application, To add and configure your application (the catalog,
  Details, the IdP metadata and certificate downloads, Application properties, Application
  metadata from the SP's metadata file chosen with Browse, Save changes; Cancel while adding)
- To add and configure a custom SAML application (ACS URL and audience typed by hand, attribute
  mappings while setting it up)
- To map application attributes to attributes in AWS SSO (the Attribute mappings tab)
- Rotate an AWS SSO certificate: Generate a new certificate, Set the new certificate to active,
  Delete the old certificate (typed DELETE); certificate expiration status indicators
- To assign access to users or groups, To remove user access from an application
- To disable or enable your application (Actions → Disable / Enable)
- To force-remove an AWS application (the Force-remove page, confirmed by typing remove)
"""

import base64
import pathlib
import re

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from lxml import etree
from playwright.sync_api import expect

from test_console_procedures import Console, backend_of
from test_portal import base, browser  # noqa: F401 (browser is a fixture)
from test_saml_apps import der, keypair, new_app

AMPLITUDE_ACS = "https://analytics.amplitude.com/saml/sso/271828"
AMPLITUDE_AUDIENCE = "https://analytics.amplitude.com/saml/metadata/271828"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def sp_metadata(entity_id, acs, cert_pem):
    """An SP's metadata exchange file, as the application's website hands it out."""
    b64 = base64.b64encode(der(cert_pem)).decode()
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def app_id_of(url):
    return re.search(r"/console/applications/(apl-[0-9a-f]+)", url).group(1)


def app_arn(server, app_id):
    apps = server.client("sso-admin").list_applications(InstanceArn=instance_arn(server))["Applications"]
    return next(a["ApplicationArn"] for a in apps if a["ApplicationArn"].endswith("/" + app_id))


def instance_arn(server):
    return server.client("sso-admin").list_instances()["Instances"][0]["InstanceArn"]


def download(page, selector):
    with page.expect_download() as d:
        page.click(selector)
    return pathlib.Path(d.value.path()).read_text()


def test_to_add_and_configure_a_cloud_application_disable_enable_and_force_remove_it(server, browser):
    c = Console(server, browser, backend_of(server))
    page = c.page
    admin = server.client("sso-admin")
    gh = server.client("gatehouse")

    # Applications → Add a new application → select one from the catalog → Add application.
    page.click("#nav-applications")
    expect(page.locator("#no-applications")).to_be_visible()
    c.shot("applications-empty")
    page.click("#add-application")
    expect(page.locator("#provider-custom-saml")).to_be_visible()
    c.shot("application-catalog")
    page.click("#add-application-submit")
    expect(page.locator("#error")).to_have_text("Select an application from the list.")

    # Cancel while adding takes the application away again.
    page.check("#provider-box")
    page.click("#add-application-submit")
    expect(page.locator("#configure-name")).to_have_text("Box")
    page.click("#cancel-setup")
    expect(page.locator("#notice")).to_have_text("The application was not added.")
    assert admin.list_applications(InstanceArn=instance_arn(server))["Applications"] == []

    page.click("#add-application")
    page.check("#provider-amplitude")
    page.click("#add-application-submit")
    expect(page.locator("#configure-name")).to_have_text("Amplitude")
    c.shot("application-configure-cloud")
    app_id = app_id_of(page.url)
    arn = app_arn(server, app_id)
    # The catalog's patterns show where the application's own values go.
    expect(page.locator("#acs_url")).to_have_attribute("placeholder", "https://analytics.amplitude.com/saml/sso/<org id>")
    expect(page.locator("#instructions")).to_contain_text("Amplitude")

    # Gatehouse metadata: the metadata file names this application's entity ID and carries the
    # certificate that "Download certificate" gives.
    metadata = etree.fromstring(download(page, "#download-metadata").encode())
    entity_id = f"{base(server)}/saml/{app_id}"
    assert metadata.get("entityID") == entity_id
    expect(page.locator("#idp-entity-id")).to_have_text(entity_id)
    certificate = download(page, "#download-certificate")
    x509.load_pem_x509_certificate(certificate.encode())
    (active,) = gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
    assert der(certificate) == der(active["CertificatePem"])
    signing = metadata.xpath("//md:IDPSSODescriptor/md:KeyDescriptor//ds:X509Certificate/text()",
                             namespaces={"md": MD, "ds": "http://www.w3.org/2000/09/xmldsig#"})
    assert [base64.b64decode("".join(t.split())) for t in signing] == [der(certificate)]

    # A file that is not SAML metadata is refused, and what was typed stays.
    name = "Amplitude <b>analytics</b>"
    page.fill("#name", name)
    page.fill("#description", "Product analytics for <i>everyone</i>")
    page.fill("#start_url", "https://analytics.amplitude.com/login/271828")
    page.fill("#relay_state", "https://analytics.amplitude.com/271828/dashboards")
    page.select_option("#session_duration", "PT4H")
    page.fill("#metadata_xml", "<html>not metadata</html>")
    page.click("#save-configuration")
    expect(page.locator("#error")).to_contain_text("MetadataXml")
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator("#session_duration")).to_have_value("PT4H")

    # Application metadata: Browse for the SP's metadata file → Save changes.
    _, sp_cert = keypair("analytics.amplitude.com")
    xml = sp_metadata(AMPLITUDE_AUDIENCE, AMPLITUDE_ACS, sp_cert)
    page.set_input_files("#metadata_file", files=[{"name": "amplitude-metadata.xml", "mimeType": "application/xml",
                                                    "buffer": xml.encode()}])
    expect(page.locator("#metadata_xml")).to_have_value(xml)
    page.click("#save-configuration")
    expect(page.locator("#notice")).to_contain_text("The application was added.")
    expect(page.locator("#app-title")).to_have_text(name)
    expect(page.locator("#app-title b")).to_have_count(0)
    expect(page.locator("#app-status")).to_have_text("Enabled")
    expect(page.locator("#app-acs-url")).to_have_text(AMPLITUDE_ACS)
    expect(page.locator("#app-audience")).to_have_text(AMPLITUDE_AUDIENCE)
    expect(page.locator("#app-sp-certificates")).to_have_text("1")
    expect(page.locator("#app-session-duration")).to_have_text("4 hours")
    expect(page.locator("#app-start-url")).to_have_text("https://analytics.amplitude.com/login/271828")
    expect(page.locator("tr.certificate .expiry")).to_have_class(re.compile(r"\bgreen\b"))
    c.shot("application-details")
    described = admin.describe_application(ApplicationArn=arn)
    assert (described["Name"], described["Description"], described["Status"]) == (
        name, "Product analytics for <i>everyone</i>", "ENABLED")
    assert described["PortalOptions"]["SignInOptions"] == {
        "Origin": "APPLICATION", "ApplicationUrl": "https://analytics.amplitude.com/login/271828"}
    saml = gh.describe_application_saml_configuration(ApplicationArn=arn)
    assert (saml["AcsUrl"], saml["Audience"], saml["SessionDuration"], saml["RelayState"]) == (
        AMPLITUDE_ACS, AMPLITUDE_AUDIENCE, "PT4H", "https://analytics.amplitude.com/271828/dashboards")
    assert [der(p) for p in saml["SpCertificates"]] == [der(sp_cert)]

    # Edit configuration: the ACS URL typed by hand (no metadata pasted) replaces it.
    page.click("#edit-configuration")
    expect(page.locator("#acs_url")).to_have_value(AMPLITUDE_ACS)
    page.fill("#acs_url", "not a url")
    page.click("#save-configuration")
    expect(page.locator("#error")).to_contain_text("AcsUrl")
    page.fill("#acs_url", AMPLITUDE_ACS + "/v2")
    page.click("#save-configuration")
    expect(page.locator("#notice")).to_have_text("Your changes were saved.")
    assert gh.describe_application_saml_configuration(ApplicationArn=arn)["AcsUrl"] == AMPLITUDE_ACS + "/v2"

    # The list: the name escaped, its kind and status.
    page.click("#nav-applications")
    expect(page.locator("tr.application .app-name")).to_have_text([name])
    expect(page.locator("tr.application .app-name b")).to_have_count(0)
    expect(page.locator("tr.application .app-kind")).to_have_text(["Amplitude"])
    expect(page.locator("tr.application .app-status")).to_have_text(["Enabled"])
    c.shot("applications")

    # To disable or enable your application: Actions → Disable, then Enable.
    page.locator("tr.application .app-name a").click()
    page.click("#actions summary")
    c.shot("application-actions")
    page.click("#disable-application")
    expect(page.locator("#notice")).to_contain_text("The application was disabled")
    expect(page.locator("#app-status")).to_have_text("Disabled")
    assert admin.describe_application(ApplicationArn=arn)["Status"] == "DISABLED"
    page.click("#nav-applications")
    expect(page.locator("tr.application .app-status")).to_have_text(["Disabled"])
    page.locator("tr.application .app-name a").click()
    page.click("#actions summary")
    page.click("#enable-application")
    expect(page.locator("#notice")).to_have_text("The application was enabled.")
    expect(page.locator("#app-status")).to_have_text("Enabled")
    assert admin.describe_application(ApplicationArn=arn)["Status"] == "ENABLED"

    # A form posted without its CSRF token is refused.
    assert page.request.post(page.url, form={"csrf": "forged", "action": "disable"}).status == 403
    assert admin.describe_application(ApplicationArn=arn)["Status"] == "ENABLED"

    # To force-remove an AWS application: the warning, then only the word remove will do.
    page.click("#force-remove")
    expect(page.locator("#confirm-title")).to_have_text("Force-remove application")
    expect(page.locator("#confirm-text")).to_contain_text(name)
    c.shot("application-force-remove")
    page.fill("#confirmation", "delete")
    page.click("#confirm-submit")
    expect(page.locator("#error")).to_contain_text("Type remove to confirm")
    assert admin.describe_application(ApplicationArn=arn)["Name"] == name
    page.fill("#confirmation", "remove")
    page.click("#confirm-submit")
    expect(page.locator("#notice")).to_have_text(f"The application {name} was removed.")
    expect(page.locator("#no-applications")).to_be_visible()
    assert admin.list_applications(InstanceArn=instance_arn(server))["Applications"] == []
    with pytest.raises(ClientError) as e:
        admin.describe_application(ApplicationArn=arn)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    c.ctx.close()


def test_to_add_and_configure_a_custom_saml_application_and_map_attributes(server, browser):
    c = Console(server, browser, backend_of(server))
    page = c.page
    gh = server.client("gatehouse")

    # To add and configure a custom SAML application: "Custom SAML 2.0 application".
    page.click("#nav-applications")
    page.click("#add-application")
    page.check("#provider-custom-saml")
    page.click("#add-application-submit")
    expect(page.locator("#configure-name")).to_have_text("Custom SAML 2.0 application")
    app_id = app_id_of(page.url)
    arn = app_arn(server, app_id)
    page.fill("#name", "MyApp")
    # Application metadata typed by hand.
    page.fill("#acs_url", "https://myapp.example.test/saml/acs")
    page.fill("#audience", "https://myapp.example.test/saml/metadata")
    # Its attribute mappings: the default Subject row, then rows added here.
    expect(page.locator("tr.mapping-row .map-attribute")).to_have_count(2)
    expect(page.locator("tr.mapping-row .map-attribute").first).to_have_value("Subject")
    rows = page.locator("tr.mapping-row")
    rows.nth(1).locator(".map-attribute").fill("email")
    rows.nth(1).locator(".map-source").fill("${user:email}")
    rows.nth(1).locator(".map-format").select_option("basic")
    page.click("#add-mapping")
    expect(rows).to_have_count(3)
    expect(rows.nth(1).locator(".map-source")).to_have_value("${user:email}")
    expect(page.locator("#name")).to_have_value("MyApp")
    rows.nth(2).locator(".map-attribute").fill("department")
    rows.nth(2).locator(".map-source").fill("${user:nosuch}")
    c.shot("application-configure-custom")
    page.click("#save-configuration")
    expect(page.locator("#error")).to_contain_text("nosuch")
    assert gh.get_application_attribute_mappings(ApplicationArn=arn)["AttributeMappings"] == [
        {"Attribute": "Subject", "Source": "${user:subject}", "Format": "persistent"}], "nothing saved with a bad row"
    rows.nth(2).locator(".map-source").fill("Engineering <R&D>")
    page.click("#save-configuration")
    expect(page.locator("#notice")).to_contain_text("The application was added.")
    expect(page.locator("#app-title")).to_have_text("MyApp")
    expect(page.locator("#app-kind")).to_have_text("Custom SAML 2.0 application")
    expect(page.locator("#app-acs-url")).to_have_text("https://myapp.example.test/saml/acs")
    saml = gh.describe_application_saml_configuration(ApplicationArn=arn)
    assert (saml["AcsUrl"], saml["Audience"]) == ("https://myapp.example.test/saml/acs", "https://myapp.example.test/saml/metadata")
    assert gh.get_application_attribute_mappings(ApplicationArn=arn)["AttributeMappings"] == [
        {"Attribute": "Subject", "Source": "${user:subject}", "Format": "persistent"},
        {"Attribute": "email", "Source": "${user:email}", "Format": "basic"},
        {"Attribute": "department", "Source": "Engineering <R&D>", "Format": "unspecified"}]

    # To map application attributes to attributes in AWS SSO: the Attribute mappings tab.
    page.click("#tab-attribute-mappings")
    expect(rows).to_have_count(4)
    expect(rows.nth(2).locator(".map-source")).to_have_value("Engineering <R&D>")
    c.shot("application-attribute-mappings")
    rows.nth(0).locator(".map-source").fill("${user:email}")
    rows.nth(0).locator(".map-format").select_option("emailAddress")
    rows.nth(2).locator(".map-attribute").fill("")
    rows.nth(2).locator(".map-source").fill("")
    # A cleared row goes; Add new attribute mapping gives an empty row to fill in.
    page.click("#add-mapping")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".map-format")).to_have_value("emailAddress")
    rows.nth(2).locator(".map-attribute").fill("groups")
    rows.nth(2).locator(".map-source").fill("${user:groups}")
    page.click("#save-mappings")
    expect(page.locator("#notice")).to_have_text("The attribute mappings were saved.")
    assert gh.get_application_attribute_mappings(ApplicationArn=arn)["AttributeMappings"] == [
        {"Attribute": "Subject", "Source": "${user:email}", "Format": "emailAddress"},
        {"Attribute": "email", "Source": "${user:email}", "Format": "basic"},
        {"Attribute": "groups", "Source": "${user:groups}", "Format": "unspecified"}]
    # The same attribute twice is refused, and the rows stay as typed.
    rows.nth(3).locator(".map-attribute").fill("email")
    rows.nth(3).locator(".map-source").fill("${user:name}")
    page.click("#save-mappings")
    expect(page.locator("#error")).to_contain_text("'email' is mapped twice")
    expect(rows.nth(3).locator(".map-source")).to_have_value("${user:name}")
    assert len(gh.get_application_attribute_mappings(ApplicationArn=arn)["AttributeMappings"]) == 3
    c.ctx.close()


def test_to_rotate_a_certificate_generate_set_active_and_delete_the_old_one(server, browser):
    arn, app_id = new_app(server, name="Rotating <app>")
    gh = server.client("gatehouse")
    (old,) = gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
    c = Console(server, browser, backend_of(server))
    page = c.page

    page.goto(f"{base(server)}/console/applications/{app_id}")
    expect(page.locator("tr.certificate")).to_have_count(1)
    page.click("#manage-certificate")
    expect(page.locator("#cert-app-name")).to_have_text("Rotating <app>")
    rows = page.locator("tr.certificate")
    expect(rows.locator(".certificate-status")).to_have_text(["Active"])
    expect(rows.locator(".expiry")).to_have_class([re.compile(r"\bgreen\b")])
    expect(page.locator(".delete-certificate")).to_have_count(0)

    # Step 1: Generate a new certificate (validity, algorithm, key size). One that expires within
    # 90 days is shown yellow.
    page.select_option("#validity_months", "1")
    page.select_option("#algorithm", "SHA1")
    page.select_option("#key_size", "1024")
    page.click("#generate-submit")
    expect(page.locator("#notice")).to_contain_text("A new certificate was generated.")
    expect(rows).to_have_count(2)
    new = next(x for x in gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
               if x["CertificateId"] != old["CertificateId"])
    assert (new["Status"], new["KeySize"], new["SignatureAlgorithm"], new["ExpiryStatus"]) == (
        "INACTIVE", 1024, "SHA1", "EXPIRING_SOON")
    new_row = page.locator(f"#certificate-{new['CertificateId']}")
    expect(new_row.locator(".certificate-status")).to_have_text("Inactive")
    expect(new_row.locator(".expiry")).to_have_class(re.compile(r"\byellow\b"))
    c.shot("application-certificates")
    # Two at most.
    expect(page.locator("#certificates-full")).to_be_visible()
    page.click("#generate-submit")
    expect(page.locator("#error")).to_contain_text("at most 2 certificates")

    # Step 3: Set the new certificate to active, through the Make active dialog.
    new_row.locator(".activate-certificate").click()
    expect(page.locator("#activate-certificate")).to_have_text(new["CertificateId"])
    c.shot("application-certificate-activate")
    page.check("#understood")
    page.click("#make-active")
    expect(page.locator("#notice")).to_contain_text("The certificate is active")
    expect(new_row.locator(".certificate-status")).to_have_text("Active")
    status = {x["CertificateId"]: x["Status"] for x in gh.list_application_certificates(ApplicationArn=arn)["Certificates"]}
    assert status == {old["CertificateId"]: "INACTIVE", new["CertificateId"]: "ACTIVE"}
    page.goto(f"{base(server)}/console/applications/{app_id}")
    assert der(download(page, "#download-certificate")) == der(new["CertificatePem"])

    # Step 4: Delete the old certificate: the dialog wants DELETE typed.
    page.click("#manage-certificate")
    expect(page.locator(".delete-certificate")).to_have_count(1)
    page.locator(f"#certificate-{old['CertificateId']} .delete-certificate").click()
    expect(page.locator("#confirm-title")).to_have_text("Delete certificate")
    c.shot("application-certificate-delete")
    page.fill("#confirmation", "delete")
    page.click("#confirm-submit")
    expect(page.locator("#error")).to_contain_text("Type DELETE to confirm")
    assert len(gh.list_application_certificates(ApplicationArn=arn)["Certificates"]) == 2
    page.fill("#confirmation", "DELETE")
    page.click("#confirm-submit")
    expect(page.locator("#notice")).to_have_text("The certificate was deleted.")
    expect(rows).to_have_count(1)
    expect(page.locator(".delete-certificate")).to_have_count(0)
    (left,) = gh.list_application_certificates(ApplicationArn=arn)["Certificates"]
    assert left["CertificateId"] == new["CertificateId"]
    c.ctx.close()


def test_to_assign_and_remove_user_access_to_an_application(server, browser, ids):
    client, store_id = ids
    arn, app_id = new_app(server, name="Wiki")
    dana = client.create_user(IdentityStoreId=store_id, UserName="dana", DisplayName="Dana <Ops>",
                              Name={"GivenName": "Dana", "FamilyName": "Ops"})["UserId"]
    client.create_user(IdentityStoreId=store_id, UserName="erin", DisplayName="Erin", Name={"GivenName": "Erin", "FamilyName": "E"})
    sales = client.create_group(IdentityStoreId=store_id, DisplayName="Sales <team>")["GroupId"]
    admin = server.client("sso-admin")
    c = Console(server, browser, backend_of(server))
    page = c.page

    # To assign access to users or groups: Assigned users → Assign users → search → tick → Assign users.
    page.goto(f"{base(server)}/console/applications/{app_id}")
    page.click("#tab-assigned-users")
    expect(page.locator("#no-assignments")).to_be_visible()
    page.click("#assign-users")
    page.click("#assign-submit")
    expect(page.locator("#error")).to_have_text("Select at least one user or group.")
    page.fill("#q", "dan")
    page.click("#search-submit")
    expect(page.locator("#users-choice .choose-principal")).to_have_count(1)
    expect(page.locator("#groups-choice .choose-principal")).to_have_count(0)
    page.fill("#q", "")
    page.click("#search-submit")
    c.shot("application-assign-users")
    page.locator("input.choose-principal[data-name='dana']").check()
    page.locator("input.choose-principal[data-name='Sales <team>']").check()
    page.click("#assign-submit")
    expect(page.locator("#notice")).to_have_text("Assigned 2 user(s) or group(s).")
    expect(page.locator("tr.assignment .principal-name")).to_have_text(["Sales <team>", "dana"])
    expect(page.locator("tr.assignment .principal-type")).to_have_text(["Group", "User"])
    c.shot("application-assigned-users")
    listed = admin.list_application_assignments(ApplicationArn=arn)["ApplicationAssignments"]
    assert sorted((a["PrincipalType"], a["PrincipalId"]) for a in listed) == sorted([("USER", dana), ("GROUP", sales)])
    # Those assigned already are marked, not offered again.
    page.click("#assign-users")
    expect(page.locator("input.choose-principal[data-name='dana']")).to_have_count(0)
    expect(page.locator(".assigned-already")).to_have_count(2)
    page.locator("input.choose-principal[data-name='erin']").check()
    page.click("#assign-submit")
    expect(page.locator("tr.assignment .principal-name")).to_have_text(["Sales <team>", "dana", "erin"])

    # To remove user access from an application: Remove → the dialog names the user → Remove access.
    page.locator("tr.assignment", has_text="dana").locator(".remove-access").click()
    expect(page.locator("#remove-name")).to_have_text("dana")
    c.shot("application-remove-access")
    page.click("#remove-submit")
    expect(page.locator("#notice")).to_have_text("Access for dana was removed.")
    expect(page.locator("tr.assignment .principal-name")).to_have_text(["Sales <team>", "erin"])
    listed = admin.list_application_assignments(ApplicationArn=arn)["ApplicationAssignments"]
    assert ("USER", dana) not in [(a["PrincipalType"], a["PrincipalId"]) for a in listed] and len(listed) == 2
    c.ctx.close()
