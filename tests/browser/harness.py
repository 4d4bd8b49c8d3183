"""What the browser tests share: the real identityd binary (and nginx) on loopback, a tenant set up through
the admin API, an app's callback server, headless Chromium driven through Debian's chromedriver, and PKCE/TOTP
helpers. Nothing here downloads anything: Selenium is pointed at /usr/bin/chromedriver and /usr/bin/chromium."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.environ.get("IDENTITY_TEST_OUTPUT", os.path.join(REPO, ".build", "test-output", "browser"))
CI = os.environ.get("CI") == "true"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary():
    return os.environ.get("IDENTITYD_BINARY") or os.path.join(REPO, ".build", "debug", "identityd")


def browser_available():
    """Whether headless Chromium can run here. Under CI=true a missing browser is a failure, not a skip."""
    present = os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)
    if not present and CI:
        raise AssertionError("CI=true but chromium or chromium-driver is missing (apt-get install chromium chromium-driver)")
    return present


def wait_until_healthy(base, process, describe, seconds=20):
    """Waits until `base`/healthz answers 200 (through nginx: a node behind it does); fails if `process` exits."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {describe()}")
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"did not come up: {describe()}")


def end(process, timeout=15):
    """Stops a server process: SIGTERM, SIGKILL when it outlasts `timeout` seconds, then reaps it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Server:
    """One identityd process (`identityd serve`) on a free port with its own data directory."""

    def __init__(self, env=None, admin_token=None, port=None):
        self.port = port or free_port()
        self.metrics_port = free_port()
        self.data = tempfile.mkdtemp(prefix="identityd-browser-")
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
        environment.update({
            "IDENTITY_PORT": str(self.port), "IDENTITY_DATA_DIR": self.data, "IDENTITY_LOG_LEVEL": "info",
            # The management listener on a port of its own (the default 9464 would be shared by every server).
            "IDENTITY_METRICS_PORT": str(self.metrics_port),
            # Cheap password hashes: the tests log in often, and the hash's cost is the benchmark's business.
            "IDENTITY_PASSWORD_HASH_MEMORY": "1024", "IDENTITY_PASSWORD_HASH_ITERATIONS": "1",
        })
        if admin_token:
            environment["IDENTITY_ADMIN_TOKEN"] = admin_token
        environment.update(env or {})
        self.log_path = os.path.join(self.data, "server.log")
        self.environment = environment
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([binary(), "serve"], env=self.environment, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.wait_until_ready()

    def restart(self, kill=False):
        """Stops the process (SIGTERM, or SIGKILL with `kill`) and starts it again on the same port and data directory."""
        self.process.kill() if kill else self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()
        self.start()

    def wait_until_ready(self):
        wait_until_healthy(self.base, self.process, lambda: f"identityd:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def admin_token(self):
        with open(os.path.join(self.data, "admin-token")) as f:
            return f.read().strip()

    def stop(self):
        end(self.process)
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


class Nginx:
    """nginx in front of nodes, with `config` (a template with @PREFIX@ and @LISTEN@) on `port`."""

    def __init__(self, config, port):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.prefix = tempfile.mkdtemp(prefix="identityd-nginx-")
        for folder in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]:
            os.makedirs(os.path.join(self.prefix, folder))
        for root, dirs, _ in os.walk(self.prefix):
            for d in [root] + [os.path.join(root, x) for x in dirs]:
                os.chmod(d, 0o777)  # nginx's workers run as an unprivileged user
        path = os.path.join(self.prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(config.replace("@PREFIX@", self.prefix).replace("@LISTEN@", f"127.0.0.1:{port}"))
        self.process = subprocess.Popen(["/usr/sbin/nginx", "-p", self.prefix, "-c", path, "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until_healthy(self.base, self.process, lambda: "nginx")

    def access_log(self):
        with open(os.path.join(self.prefix, "access.log")) as f:
            return f.read().splitlines()

    def stop(self):
        end(self.process, timeout=10)
        shutil.rmtree(self.prefix, ignore_errors=True)


class Callback:
    """The app's redirect URI: a tiny HTTP server that records every request and shows a plain page."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                body = f"<!doctype html><title>app</title><h1>The app got</h1><pre>{self.path}</pre>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls(self):
        """The requests to the redirect URIs (not the browser's own, like /favicon.ico)."""
        return [path for path in self.requests if path.startswith(("/callback", "/signed-out"))]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Tenant:
    """A tenant `shop` on `base` (through `admin_base`, default the same): a public client `spa` that needs
    consent, with this callback as redirect URI; a user alice with TOTP; a step-up rule on `payments`."""

    def __init__(self, base, operator_token, callback, tenant="shop", admin_base=None):
        self.base, self.tenant, self.callback = base, tenant, callback
        self.issuer = f"{base}/t/{tenant}"
        admin = (admin_base or base) + "/admin/v1"
        headers = {"Authorization": f"Bearer {operator_token}"}
        created = requests.post(f"{admin}/tenants", headers=headers, json={
            "id": tenant, "name": "Shop & Co",
            "policy": {"step_up": [{"scope": "payments", "acr": "mfa", "max_age": 300}], "login_session_ttl": 3600}})
        assert created.status_code == 201, created.text
        self.key = created.json()["admin_key"]
        headers = {"Authorization": f"Bearer {self.key}"}
        client = requests.post(f"{admin}/tenants/{tenant}/clients", headers=headers, json={
            "client_id": "spa", "name": "Shop app", "type": "public", "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [callback.base + "/callback"], "post_logout_redirect_uris": [callback.base + "/signed-out"],
            "scopes": ["openid", "profile", "email", "offline_access", "payments"], "require_consent": True})
        assert client.status_code == 201, client.text
        user = requests.post(f"{admin}/tenants/{tenant}/users", headers=headers,
                             json={"username": "alice", "password": "correct horse battery", "email": "alice@example.com"})
        assert user.status_code == 201, user.text
        self.user_id = user.json()["id"]
        totp = requests.post(f"{admin}/tenants/{tenant}/users/{self.user_id}/totp", headers=headers)
        assert totp.status_code == 201, totp.text
        self.totp_secret = base64.b32decode(totp.json()["secret"] + "=" * (-len(totp.json()["secret"]) % 8))
        self.admin, self.headers = admin, headers
        self.last_step = None

    def totp(self):
        """The current TOTP code; waits for the next 30-second step if this one was used (codes are single-use)."""
        step = int(time.time() // 30)
        if step == self.last_step:
            time.sleep(30 - time.time() % 30 + 0.2)
            step = int(time.time() // 30)
        self.last_step = step
        digest = hmac.new(self.totp_secret, struct.pack(">Q", step), hashlib.sha1).digest()
        offset = digest[-1] & 15
        return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(tenant, challenge, scope="openid offline_access", state=None, nonce=None, **extra):
    parameters = {"response_type": "code", "client_id": "spa", "redirect_uri": tenant.callback.base + "/callback", "scope": scope,
                  "state": state or secrets.token_urlsafe(8), "nonce": nonce or secrets.token_urlsafe(8),
                  "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return f"{tenant.issuer}/oauth/authorize?" + urllib.parse.urlencode(parameters)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def exchange(tenant, code, verifier, base=None):
    return requests.post(f"{base or tenant.base}/t/{tenant.tenant}/oauth/token", data={
        "grant_type": "authorization_code", "client_id": "spa", "code": code, "code_verifier": verifier,
        "redirect_uri": tenant.callback.base + "/callback"})


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def chromium():
    """Headless Chromium through Debian's chromedriver, with a profile of its own (its own cookies)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=420,900",
                     "--no-first-run", "--disable-extensions", "--password-store=basic"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    # A click on a form's button does not always wait for the next page to arrive (seen on a loaded
    # machine: the next find_element ran against the page in between); look again for up to 5 s.
    driver.implicitly_wait(5)
    return driver


def click(driver, by, value):
    """Clicks a form's button and waits for the next page: a click does not always wait for the navigation
    it starts, and the next lookup would read the old page (or a stale element of it)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("tag name", "html")
    driver.find_element(by, value).click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))


def screenshot(driver, name):
    os.makedirs(OUTPUT, exist_ok=True)
    path = os.path.join(OUTPUT, name + ".png")
    driver.save_screenshot(path)
    return path


def wait_for(condition, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class SignInTestCase:
    """A mixin for unittest.TestCase classes: one identityd (SQLite), one app callback and the `shop` tenant
    for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.callback = Callback()
        cls.tenant = Tenant(cls.server.base, cls.server.admin_token, cls.callback)

    @classmethod
    def tearDownClass(cls):
        cls.callback.stop()
        cls.server.stop()
