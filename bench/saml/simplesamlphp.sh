#!/usr/bin/env bash
# The peer for bench/saml: SimpleSAMLphp (Debian's `simplesamlphp`) as the IdP, driven by the same
# load generator: 8 browsers of one signed-in user asking for an IdP-initiated response
# (`/saml2/idp/SSOService.php?spentityid=…`), assertion signed with RSA-2048/SHA-256, the same
# attributes as Gatehouse's bench application. PHP's built-in server, one worker per core, OPcache on.
#   bench/saml/simplesamlphp.sh [SECONDS] [CONCURRENCY]      (defaults 20 8)
# Needs: apt-get install simplesamlphp php-cli php-xml php-mbstring
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}; conc=${2:-8}
command -v php >/dev/null && [ -d /usr/share/simplesamlphp/www ] || {
  echo "SimpleSAMLphp is not installed (apt-get install simplesamlphp php-cli php-xml php-mbstring)" >&2; exit 1; }
cargo build --release --locked -q -p gatehouse-bench-api
work=$(mktemp -d /tmp/gatehouse-bench-ssp.XXXXXX)
pid=
# PHP's server forks its workers: stop them with it.
cleanup() { [ -n "$pid" ] && { pkill -P "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; }; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sp=https://sp.example.com/saml/metadata
mkdir -p "$work/config" "$work/metadata" "$work/cert" "$work/sessions" "$work/tmp" "$work/log"
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 365 -subj "/CN=ssp-bench" \
  -keyout "$work/cert/idp.key" -out "$work/cert/idp.crt" 2>/dev/null
cat > "$work/config/config.php" <<PHP
<?php
require '/etc/simplesamlphp/config.php';
\$config['baseurlpath'] = 'http://127.0.0.1:$port/';
\$config['certdir'] = '$work/cert/';
\$config['tempdir'] = '$work/tmp';
\$config['loggingdir'] = '$work/log/';
\$config['logging.handler'] = 'errorlog';
\$config['logging.level'] = SimpleSAML\Logger::ERR;
\$config['enable.saml20-idp'] = true;
\$config['module.enable']['exampleauth'] = true;
\$config['metadata.sources'] = [['type' => 'flatfile', 'directory' => '$work/metadata']];
\$config['store.type'] = 'phpsession';
\$config['session.phpsession.savepath'] = '$work/sessions';
\$config['session.cookie.secure'] = false;
\$config['session.cookie.samesite'] = null;
\$config['timezone'] = 'UTC';
PHP
cat > "$work/config/authsources.php" <<'PHP'
<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'bench' => ['exampleauth:UserPass',
        'bench:Bench-Passw0rd!' => ['email' => ['bench@example.com'], 'givenName' => ['Bench'], 'sn' => ['User'],
                                    'name' => ['Bench User'], 'groups' => []]],
];
PHP
cat > "$work/metadata/saml20-idp-hosted.php" <<'PHP'
<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'bench',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'simplesaml.nameidattribute' => 'email',
];
PHP
cat > "$work/metadata/saml20-sp-remote.php" <<PHP
<?php
\$metadata['$sp'] = [
    'AssertionConsumerService' => 'https://sp.example.com/saml/acs',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'simplesaml.nameidattribute' => 'email',
    'attributes' => ['email', 'name', 'groups'],
];
PHP
SIMPLESAMLPHP_CONFIG_DIR="$work/config" PHP_CLI_SERVER_WORKERS=$(nproc) \
  php -d opcache.enable_cli=1 -d session.save_path="$work/sessions" -S "127.0.0.1:$port" -t /usr/share/simplesamlphp/www > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
path="/saml2/idp/SSOService.php?spentityid=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$sp")"
# Sign in once through SimpleSAMLphp's own login form; the load reuses its session cookies.
cookie=$(python3 - "http://127.0.0.1:$port" "$path" <<'PY'
import re, sys, urllib.parse, urllib.request, http.cookiejar
base, path = sys.argv[1], sys.argv[2]
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = web.open(base + path)
state = re.search(r'name="AuthState" value="([^"]+)"', page.read().decode()).group(1)
form = urllib.parse.urlencode({"username": "bench", "password": "Bench-Passw0rd!", "AuthState": state.replace("&amp;", "&")}).encode()
answer = web.open(page.geturl().split("?")[0], form).read().decode()
assert "SAMLResponse" in answer, answer[:2000]
print("; ".join(f"{c.name}={c.value}" for c in jar))
PY
)
target/release/bench-saml --endpoint "127.0.0.1:$port" --peer-path "$path" --peer-cookie "$cookie" --label simplesamlphp \
  --seconds "$seconds" --concurrency "$conc"
