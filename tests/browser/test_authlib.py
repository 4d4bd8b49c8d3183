"""authlib's OAuth2Session runs the whole code flow against the real binary, as an app using it would: the
discovery document, an authorization URL with PKCE (S256) and a nonce, the sign-in in headless Chromium, the
token fetch from the redirect URL, the ID token verified against the JWKS with authlib's CodeIDToken rules
(iss, aud, exp, nonce, at_hash), userinfo, and a refresh that rotates."""

import unittest

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from selenium.webdriver.common.by import By

import harness
from harness import wait_for


@unittest.skipUnless(harness.browser_available(), "chromium and chromium-driver are not installed")
class AuthlibCodeFlowTests(harness.SignInTestCase, unittest.TestCase):
    def test_the_code_flow_with_pkce_and_a_validated_id_token(self):
        metadata = requests.get(self.tenant.issuer + "/.well-known/openid-configuration").json()
        self.assertEqual(metadata["code_challenge_methods_supported"], ["S256"])
        session = OAuth2Session("spa", redirect_uri=self.callback.base + "/callback", scope="openid profile email offline_access",
                                code_challenge_method="S256", token_endpoint_auth_method="none")
        verifier = harness.pkce()[0]
        nonce = "authlib-nonce-42"
        url, state = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        driver = harness.chromium()
        try:
            driver.get(url)
            driver.find_element(By.ID, "username").send_keys("alice")
            driver.find_element(By.ID, "password").send_keys("correct horse battery")
            harness.click(driver, By.CSS_SELECTOR, "button[type=submit]")
            harness.click(driver, By.NAME, "approve")
            redirected = wait_for(lambda: driver.current_url if driver.current_url.startswith(self.callback.base) else None,
                                  what="the redirect")
        finally:
            driver.quit()
        token = session.fetch_token(metadata["token_endpoint"], authorization_response=redirected, code_verifier=verifier, state=state)
        self.assertEqual(token["token_type"], "Bearer")
        self.assertIn("refresh_token", token)

        jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"]).json())
        claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                            claims_options={"iss": {"essential": True, "value": metadata["issuer"]}, "aud": {"essential": True, "value": "spa"}},
                            claims_params={"nonce": nonce, "client_id": "spa", "access_token": token["access_token"]})
        claims.validate()  # exp, iat, nonce, azp and at_hash against the access token
        self.assertEqual(claims["nonce"], nonce)
        self.assertIn("at_hash", claims)
        self.assertTrue(claims["sid"] and claims["auth_time"] and claims["amr"] == ["pwd"])
        # A wrong nonce or access token fails the same validation: the check is real.
        for params in [{"nonce": "other", "client_id": "spa", "access_token": token["access_token"]},
                       {"nonce": nonce, "client_id": "spa", "access_token": token["access_token"] + "x"}]:
            forged = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken, claims_params=params)
            with self.assertRaises(Exception):
                forged.validate()

        userinfo = session.get(metadata["userinfo_endpoint"])
        self.assertEqual(userinfo.json()["sub"], self.tenant.user_id)
        refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertNotEqual(refreshed["refresh_token"], token["refresh_token"], "a public client's refresh tokens rotate")


if __name__ == "__main__":
    unittest.main()
