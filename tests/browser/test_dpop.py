"""DPoP (RFC 9449) against the real binary, with an independent client (joserfc, examples/dpop/dpop_client.py)
and the example API (examples/dpop/dpop_api.py): every grant with a proof, refreshes with no proof, another
key's proof and a replayed proof that rotate nothing, `dpop: required`, server nonces, userinfo and an API
with DPoP; on SQLite, and on two nodes sharing PostgreSQL and Redis (one proof sent to both: one accepted)."""

import os
import sys
import threading
import time
import unittest
import warnings

import requests
from selenium.webdriver.common.by import By

import harness
from harness import authorize_url, jwt_claims, pkce, query, wait_for

sys.path.insert(0, os.path.join(harness.REPO, "examples", "dpop"))
from dpop_api import DPoPVerifier, serve  # noqa: E402
from dpop_client import DPoPKey  # noqa: E402

warnings.filterwarnings("ignore", message="EdDSA is deprecated")  # joserfc on RFC 9864; identityd still takes EdDSA
POSTGRES = os.environ.get("IDENTITY_TEST_POSTGRES_URL")
REDIS = os.environ.get("IDENTITY_TEST_REDIS_URL")
if harness.CI and not (POSTGRES and REDIS):
    raise AssertionError("CI=true but no PostgreSQL or Redis (run under scripts/with-services.sh)")


class Tenant:
    """A tenant with a confidential client `api` (password, refresh_token, client_credentials), a public client
    `app` (password, refresh_token) and a user alice, set up through the admin API on `admin`."""

    def __init__(self, admin, operator_token, name, policy):
        created = requests.post(f"{admin}/admin/v1/tenants", headers={"Authorization": f"Bearer {operator_token}"},
                                json={"id": name, "name": name, "policy": policy})
        assert created.status_code == 201, created.text
        self.key = created.json()["admin_key"]
        self.admin = f"{admin}/admin/v1/tenants/{name}"
        self.headers = {"Authorization": f"Bearer {self.key}"}
        client = requests.post(self.admin + "/clients", headers=self.headers, json={
            "client_id": "api", "name": "API", "type": "confidential", "grant_types": ["password", "refresh_token", "client_credentials"],
            "scopes": ["openid", "profile", "offline_access", "api"]})
        assert client.status_code == 201, client.text
        self.secret = client.json()["client_secret"]
        public = requests.post(self.admin + "/clients", headers=self.headers, json={
            "client_id": "app", "name": "App", "type": "public", "grant_types": ["password", "refresh_token"], "scopes": ["openid", "offline_access"]})
        assert public.status_code == 201, public.text
        user = requests.post(self.admin + "/users", headers=self.headers, json={"username": "alice", "password": "correct horse battery"})
        assert user.status_code == 201, user.text

    def policy(self, policy):
        answer = requests.put(self.admin + "/policy", headers=self.headers, json=policy)
        assert answer.status_code == 200, answer.text


class DPoPTestCase:
    """Token requests with and without proofs against `self.base` / tenant `self.name`."""

    def url(self, endpoint, base=None):
        path = "userinfo" if endpoint == "userinfo" else f"oauth/{endpoint}"
        return f"{base or self.public}/t/{self.name}/{path}"

    def token(self, key=None, proof=None, base=None, client="api", **form):
        headers = {}
        if proof is None and key is not None:
            proof = key.proof("POST", self.url("token"))
        if proof is not None:
            headers["DPoP"] = proof
        auth = ("api", self.tenant.secret) if client == "api" else None
        data = dict(form, client_id=client) if client != "api" else form
        return requests.post(self.url("token", base=(base or self.public)), data=data, auth=auth, headers=headers)

    def login(self, key=None, scope="openid offline_access api", **extra):
        return self.token(key, grant_type="password", username="alice", password="correct horse battery", scope=scope, **extra)

    def refresh(self, refresh_token, key=None, proof=None, base=None):
        return self.token(key, proof=proof, base=base, grant_type="refresh_token", refresh_token=refresh_token)

    def assertRefused(self, answer, error="invalid_dpop_proof"):
        self.assertEqual(answer.status_code, 400, answer.text)
        self.assertEqual(answer.json()["error"], error, answer.text)


class DPoPOnSQLiteTests(DPoPTestCase, unittest.TestCase):
    name = "dpop"

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server()
        cls.public = cls.server.base
        # No grace: a refresh token used twice is reuse, so "still refreshes" proves that nothing rotated.
        cls.tenant = Tenant(cls.public, cls.server.admin_token, cls.name, {"refresh_reuse_grace": 0})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_discovery_lists_the_proof_algorithms(self):
        metadata = requests.get(f"{self.public}/t/{self.name}/.well-known/openid-configuration").json()
        self.assertEqual(set(metadata["dpop_signing_alg_values_supported"]), {"ES256", "EdDSA", "RS256"})

    def test_a_password_login_with_a_proof_binds_every_token_to_the_key(self):
        for alg in ["ES256", "EdDSA", "RS256"]:
            key = DPoPKey(alg)
            answer = self.login(key)
            self.assertEqual(answer.status_code, 200, answer.text)
            tokens = answer.json()
            self.assertEqual(tokens["token_type"], "DPoP")
            self.assertEqual(jwt_claims(tokens["access_token"])["cnf"], {"jkt": key.thumbprint}, alg)
            introspected = requests.post(self.url("introspect"), auth=("api", self.tenant.secret), data={"token": tokens["access_token"]}).json()
            self.assertTrue(introspected["active"])
            self.assertEqual(introspected["cnf"], {"jkt": key.thumbprint})
            self.assertEqual(introspected["token_type"], "DPoP")
            refreshed = self.refresh(tokens["refresh_token"], key)
            self.assertEqual(refreshed.status_code, 200, refreshed.text)
            self.assertEqual(jwt_claims(refreshed.json()["access_token"])["cnf"], {"jkt": key.thumbprint})

    def test_a_refused_refresh_rotates_nothing(self):
        key, thief = DPoPKey(), DPoPKey()
        tokens = self.login(key).json()
        stolen = tokens["refresh_token"]
        self.assertRefused(self.refresh(stolen))  # no proof
        self.assertRefused(self.refresh(stolen, thief))  # another key's proof
        self.assertRefused(self.refresh(stolen, proof=key.proof("POST", self.url("userinfo"))))  # for another endpoint
        self.assertRefused(self.refresh(stolen, proof=key.proof("POST", self.url("token"), iat=time.time() - 300)))  # stale
        replayed = key.proof("POST", self.url("token"))
        first = self.refresh(stolen, proof=replayed)
        self.assertEqual(first.status_code, 200, first.text)
        # The same proof again, with the new refresh token: refused as a replay, and the new token still works.
        self.assertRefused(self.refresh(first.json()["refresh_token"], proof=replayed))
        again = self.refresh(first.json()["refresh_token"], key)
        self.assertEqual(again.status_code, 200, again.text)
        # Nothing the refusals did counted as reuse: the family is alive and the events name the refusals.
        sid = jwt_claims(tokens["access_token"])["sid"]

        def refusals():
            items = requests.get(self.tenant.admin + "/events?type=dpop_proof_refused&limit=100", headers=self.tenant.headers).json()["items"]
            return [e["detail"] for e in items if e.get("session_id") == sid] if len(items) >= 5 else None
        # (The audit log is written in batches: wait for it.) The binding refusals name the session.
        self.assertEqual(sorted(wait_for(refusals, what="the audit events")), ["dpop_key_not_bound", "dpop_proof_missing"])
        self.assertEqual(requests.get(self.tenant.admin + "/events?type=refresh_token_reused", headers=self.tenant.headers).json()["items"], [])

    def test_an_unbound_session_is_not_bound_later(self):
        plain = self.login().json()
        self.assertEqual(plain["token_type"], "Bearer")
        key = DPoPKey()
        refreshed = self.refresh(plain["refresh_token"], key)
        self.assertEqual(refreshed.status_code, 200, refreshed.text)
        # The access token is bound to the proof's key, the session is not: the next refresh needs no proof.
        self.assertEqual(jwt_claims(refreshed.json()["access_token"])["cnf"], {"jkt": key.thumbprint})
        self.assertEqual(self.refresh(refreshed.json()["refresh_token"]).status_code, 200)

    def test_client_credentials_with_a_proof(self):
        key = DPoPKey("EdDSA")
        answer = self.token(key, grant_type="client_credentials", scope="api")
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.json()["token_type"], "DPoP")
        self.assertEqual(jwt_claims(answer.json()["access_token"])["cnf"], {"jkt": key.thumbprint})

    def test_userinfo_takes_a_bound_token_only_with_a_proof_of_its_key(self):
        key = DPoPKey()
        access = self.login(key).json()["access_token"]
        url = self.url("userinfo")
        good = requests.get(url, headers={"Authorization": f"DPoP {access}", "DPoP": key.proof("GET", url, access_token=access)})
        self.assertEqual(good.status_code, 200, good.text)
        self.assertIn("sub", good.json())
        as_bearer = requests.get(url, headers={"Authorization": f"Bearer {access}"})
        self.assertEqual(as_bearer.status_code, 401)
        self.assertIn("DPoP", as_bearer.headers["WWW-Authenticate"])
        for proof in [None, key.proof("GET", url), key.proof("POST", url, access_token=access), DPoPKey().proof("GET", url, access_token=access)]:
            headers = {"Authorization": f"DPoP {access}"} | ({"DPoP": proof} if proof else {})
            refused = requests.get(url, headers=headers)
            self.assertEqual(refused.status_code, 401, refused.text)
            self.assertIn('DPoP error="invalid_dpop_proof"', refused.headers["WWW-Authenticate"])

    def test_the_example_api_accepts_a_bound_token_with_its_proof_and_nothing_else(self):
        api = serve(DPoPVerifier(f"{self.public}/t/{self.name}"), "127.0.0.1", harness.free_port())
        threading.Thread(target=api.serve_forever, daemon=True).start()
        self.addCleanup(api.server_close)
        self.addCleanup(api.shutdown)
        me = f"http://127.0.0.1:{api.server_address[1]}/me"
        key = DPoPKey()
        access = self.login(key).json()["access_token"]
        proof = key.proof("GET", me, access_token=access)
        good = requests.get(me, headers={"Authorization": f"DPoP {access}", "DPoP": proof})
        self.assertEqual(good.status_code, 200, good.text)
        self.assertEqual(good.json()["client_id"], "api")
        cases = {
            "replayed": {"Authorization": f"DPoP {access}", "DPoP": proof},
            "as bearer": {"Authorization": f"Bearer {access}"},
            "another key": {"Authorization": f"DPoP {access}", "DPoP": DPoPKey().proof("GET", me, access_token=access)},
            "no ath": {"Authorization": f"DPoP {access}", "DPoP": key.proof("GET", me)},
            "another url": {"Authorization": f"DPoP {access}", "DPoP": key.proof("GET", me + "x", access_token=access)},
            "unbound token": {"Authorization": f"DPoP {self.login().json()['access_token']}", "DPoP": key.proof("GET", me, access_token=access)},
            "forged token": {"Authorization": f"DPoP {access[:-4]}AAAA", "DPoP": key.proof("GET", me, access_token=access[:-4] + "AAAA")},
        }
        for case, headers in cases.items():
            refused = requests.get(me, headers=headers)
            self.assertEqual(refused.status_code, 401, case)
            self.assertTrue(refused.headers["WWW-Authenticate"].startswith("DPoP error="), case)

    def test_dpop_required_and_nonces(self):
        strict = Tenant(self.public, self.server.admin_token, "dpopstrict", {"dpop": "required", "dpop_nonce": True})
        saved, self.tenant, self.name = (self.tenant, self.name), strict, "dpopstrict"
        try:
            self.assertRefused(self.login())  # no proof: nothing is issued
            self.assertRefused(self.token(grant_type="client_credentials"))
            key = DPoPKey()
            first = self.login(key)
            self.assertRefused(first, "use_dpop_nonce")
            nonce = first.headers["DPoP-Nonce"]
            self.assertRefused(self.login(proof=key.proof("POST", self.url("token"), nonce="made-up")), "use_dpop_nonce")
            answer = self.login(proof=key.proof("POST", self.url("token"), nonce=nonce))
            self.assertEqual(answer.status_code, 200, answer.text)
            self.assertEqual(answer.json()["token_type"], "DPoP")
            self.assertTrue(answer.headers.get("DPoP-Nonce"))
            refreshed = self.refresh(answer.json()["refresh_token"], proof=key.proof("POST", self.url("token"), nonce=answer.headers["DPoP-Nonce"]))
            self.assertEqual(refreshed.status_code, 200, refreshed.text)

            # required_for_public_clients: a confidential client goes without, a public one does not.
            strict.policy({"dpop": "required_for_public_clients"})
            self.assertEqual(self.token(grant_type="client_credentials").status_code, 200)
            self.assertRefused(self.login(client="app", scope="openid offline_access"))
            public = self.login(DPoPKey(), client="app", scope="openid offline_access")
            self.assertEqual(public.status_code, 200, public.text)
            self.assertEqual(public.json()["token_type"], "DPoP")
        finally:
            self.tenant, self.name = saved


@unittest.skipUnless(harness.browser_available(), "chromium and chromium-driver are not installed")
class DPoPCodeFlowTests(harness.SignInTestCase, unittest.TestCase):
    def test_dpop_jkt_binds_the_code_to_the_key(self):
        key, thief = DPoPKey(), DPoPKey()
        token_url = f"{self.tenant.issuer}/oauth/token"
        driver = harness.chromium()
        self.addCleanup(driver.quit)
        codes = []
        for n in range(2):
            verifier, challenge = pkce()
            driver.get(authorize_url(self.tenant, challenge, state=f"dpop{n}", dpop_jkt=key.thumbprint))
            if n == 0:
                driver.find_element(By.ID, "username").send_keys("alice")
                driver.find_element(By.ID, "password").send_keys("correct horse battery")
                harness.click(driver, By.CSS_SELECTOR, "button[type=submit]")
                harness.click(driver, By.NAME, "approve")
            arrived = query(wait_for(lambda: driver.current_url if f"state=dpop{n}" in driver.current_url else None, what="the redirect"))
            codes.append((arrived["code"], verifier))

        def exchange(code, verifier, proof):
            return requests.post(token_url, headers={"DPoP": proof} if proof else {}, data={
                "grant_type": "authorization_code", "client_id": "spa", "code": code, "code_verifier": verifier,
                "redirect_uri": self.callback.base + "/callback"})

        # Without a proof, or with another key's, the code is refused (and, being single-use, spent).
        for (code, verifier), proof in zip(codes, [None, thief.proof("POST", token_url)]):
            refused = exchange(code, verifier, proof)
            self.assertEqual(refused.status_code, 400, refused.text)
            self.assertEqual(refused.json()["error"], "invalid_dpop_proof", refused.text)
        # A fresh sign-in's code with the right key: bound tokens, and a refresh that needs the key.
        verifier, challenge = pkce()
        driver.get(authorize_url(self.tenant, challenge, state="dpop-ok", dpop_jkt=key.thumbprint))
        arrived = query(wait_for(lambda: driver.current_url if "state=dpop-ok" in driver.current_url else None, what="the redirect"))
        answer = exchange(arrived["code"], verifier, key.proof("POST", token_url))
        self.assertEqual(answer.status_code, 200, answer.text)
        tokens = answer.json()
        self.assertEqual(tokens["token_type"], "DPoP")
        self.assertEqual(jwt_claims(tokens["access_token"])["cnf"], {"jkt": key.thumbprint})
        no_proof = requests.post(token_url, data={"grant_type": "refresh_token", "client_id": "spa", "refresh_token": tokens["refresh_token"]})
        self.assertEqual(no_proof.json().get("error"), "invalid_dpop_proof", no_proof.text)
        refreshed = requests.post(token_url, headers={"DPoP": key.proof("POST", token_url)},
                                  data={"grant_type": "refresh_token", "client_id": "spa", "refresh_token": tokens["refresh_token"]})
        self.assertEqual(refreshed.status_code, 200, refreshed.text)


@unittest.skipUnless(POSTGRES and REDIS, "needs PostgreSQL and Redis")
class DPoPOnTwoNodesTests(DPoPTestCase, unittest.TestCase):
    """Two nodes on one PostgreSQL and one Redis with one public URL (the load balancer's, here node A's):
    a proof is accepted by one of them only, and a nonce one node issued is good on the other."""

    name = "dpopnodes"

    @classmethod
    def setUpClass(cls):
        port = harness.free_port()
        cls.public = f"http://127.0.0.1:{port}"
        shared = {"IDENTITY_STORE": POSTGRES, "IDENTITY_CACHE": REDIS, "IDENTITY_PUBLIC_URL": cls.public,
                  "IDENTITY_MASTER_KEY": "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="}
        cls.a = harness.Server(shared, port=port)
        cls.b = harness.Server(shared, admin_token=cls.a.admin_token)
        cls.tenant = Tenant(cls.public, cls.a.admin_token, cls.name, {"dpop_nonce": True})

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()
        cls.a.stop()

    def test_one_proof_sent_to_both_nodes_is_accepted_once(self):
        key = DPoPKey()
        nonce = self.login(key).headers["DPoP-Nonce"]  # issued by node A
        tokens = self.login(proof=key.proof("POST", self.url("token"), nonce=nonce), base=self.b.base)  # accepted by B
        self.assertEqual(tokens.status_code, 200, tokens.text)
        nonce = tokens.headers["DPoP-Nonce"]
        for _ in range(3):
            proof = key.proof("POST", self.url("token"), nonce=nonce)
            results = [None, None]

            def send(i, base):
                results[i] = self.refresh(tokens.json()["refresh_token"], proof=proof, base=base)

            threads = [threading.Thread(target=send, args=(i, base)) for i, base in enumerate([self.public, self.b.base])]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            statuses = sorted(r.status_code for r in results)
            self.assertEqual(statuses, [200, 400], [r.text for r in results])
            refused = next(r for r in results if r.status_code == 400)
            self.assertEqual(refused.json()["error"], "invalid_dpop_proof", refused.text)
            tokens = next(r for r in results if r.status_code == 200)


if __name__ == "__main__":
    unittest.main()
