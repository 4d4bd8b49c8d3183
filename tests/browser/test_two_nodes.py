"""Two identityd nodes on one PostgreSQL and one Redis behind nginx, which sends every GET to node A and every
POST to node B: the sign-in starts on A (the authorize request and its login page), continues on B (the
login form, the consent form) and the code is exchanged on B. The interaction travels sealed in the pages."""

import os
import unittest

from selenium.webdriver.common.by import By

import harness
from harness import authorize_url, exchange, pkce, query, wait_for

POSTGRES = os.environ.get("IDENTITY_TEST_POSTGRES_URL")
REDIS = os.environ.get("IDENTITY_TEST_REDIS_URL")
if harness.CI and not (POSTGRES and REDIS):
    raise AssertionError("CI=true but no PostgreSQL or Redis (run under scripts/with-services.sh)")

CONFIG = """
worker_processes 1;
pid @PREFIX@/nginx.pid;
error_log @PREFIX@/error.log warn;
events { worker_connections 256; }
http {
    log_format routed '$request_method $uri $upstream_addr $status';
    access_log @PREFIX@/access.log routed;
    client_body_temp_path @PREFIX@/client_body;
    proxy_temp_path @PREFIX@/proxy;
    fastcgi_temp_path @PREFIX@/fastcgi;
    uwsgi_temp_path @PREFIX@/uwsgi;
    scgi_temp_path @PREFIX@/scgi;
    upstream node_a { server 127.0.0.1:PORT_A; }
    upstream node_b { server 127.0.0.1:PORT_B; }
    map $request_method $node { default node_a; POST node_b; }
    server {
        listen @LISTEN@;
        location / {
            proxy_pass http://$node;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
}
"""


@unittest.skipUnless(harness.browser_available() and POSTGRES and REDIS, "needs chromium, PostgreSQL and Redis")
class TwoNodeSignInTests(unittest.TestCase):
    def test_a_login_started_on_one_node_finishes_on_the_other(self):
        port = harness.free_port()
        public = f"http://127.0.0.1:{port}"
        shared = {"IDENTITY_STORE": POSTGRES, "IDENTITY_CACHE": REDIS, "IDENTITY_PUBLIC_URL": public,
                  "IDENTITY_MASTER_KEY": "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=", "IDENTITY_TRUSTED_PROXIES": "127.0.0.1/32"}
        a = harness.Server(shared)
        self.addCleanup(a.stop)
        b = harness.Server(shared, admin_token=a.admin_token)
        self.addCleanup(b.stop)
        nginx = harness.Nginx(CONFIG.replace("PORT_A", str(a.port)).replace("PORT_B", str(b.port)), port)
        self.addCleanup(nginx.stop)
        callback = harness.Callback()
        self.addCleanup(callback.stop)
        tenant = harness.Tenant(public, a.admin_token, callback, tenant="twonodes", admin_base=b.base)

        driver = harness.chromium()
        self.addCleanup(driver.quit)
        verifier, challenge = pkce()
        driver.get(authorize_url(tenant, challenge, state="two"))
        driver.find_element(By.ID, "username").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys("correct horse battery")
        harness.click(driver, By.CSS_SELECTOR, "button[type=submit]")
        harness.click(driver, By.NAME, "approve")
        arrived = query(wait_for(lambda: driver.current_url if driver.current_url.startswith(callback.base) else None, what="the redirect"))
        self.assertEqual(arrived["state"], "two")
        tokens = exchange(tenant, arrived["code"], verifier)
        self.assertEqual(tokens.status_code, 200, tokens.text)

        # nginx writes a request's log line once it is done with it, which may be just after the answer arrived.
        wait_for(lambda: any("/t/twonodes/oauth/token" in line for line in nginx.access_log()), what="the token request in nginx's log")
        routed = [line.split() for line in nginx.access_log()]
        served = {(method, uri): upstream for method, uri, upstream, _ in routed}
        self.assertEqual(served[("GET", "/t/twonodes/oauth/authorize")], f"127.0.0.1:{a.port}")
        self.assertEqual(served[("POST", "/t/twonodes/signin")], f"127.0.0.1:{b.port}")
        self.assertEqual(served[("POST", "/t/twonodes/oauth/token")], f"127.0.0.1:{b.port}")
        logins = [line for line in routed if line[1] == "/t/twonodes/signin"]
        self.assertEqual(len(logins), 2, "the login form and the consent form, both on node B")


if __name__ == "__main__":
    unittest.main()
