"""The browser sign-in in a real headless Chromium against the real identityd binary (SQLite): authorize →
login → TOTP → consent → redirect, the code exchanged with its verifier; single sign-on without a form;
prompt=none; logout. A screenshot of every page goes to the test output (.build/test-output/browser)."""

import unittest

import requests
from selenium.webdriver.common.by import By

import harness
from harness import authorize_url, exchange, pkce, query, screenshot, wait_for


@unittest.skipUnless(harness.browser_available(), "chromium and chromium-driver are not installed")
class BrowserSignInTests(harness.SignInTestCase, unittest.TestCase):
    def setUp(self):
        self.driver = harness.chromium()
        self.addCleanup(self.driver.quit)

    def arrived(self):
        """The app's callback URL the browser ended on."""
        return wait_for(lambda: self.driver.current_url if self.driver.current_url.startswith(self.callback.base) else None,
                        what="the redirect to the app")

    def fill(self, element_id, value):
        field = self.driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)

    def submit(self):
        harness.click(self.driver, By.CSS_SELECTOR, "button[type=submit]")

    def heading(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def sign_in(self, scope="openid offline_access", name=None, **extra):
        """Login (and TOTP and consent when asked) in this browser; returns (callback query, verifier)."""
        verifier, challenge = pkce()
        self.driver.get(authorize_url(self.tenant, challenge, scope=scope, state="st-1", nonce="nonce-1", **extra))
        if self.heading() == "Sign in":
            if name:
                screenshot(self.driver, f"{name}-login")
            self.fill("username", "alice")
            self.fill("password", "correct horse battery")
            self.submit()
        if self.driver.current_url.startswith(self.tenant.issuer) and self.heading() == "Two-step verification":
            if name:
                screenshot(self.driver, f"{name}-otp")
            self.fill("otp", self.tenant.totp())
            self.submit()
        if self.driver.current_url.startswith(self.tenant.issuer) and self.heading() == "Allow access?":
            if name:
                screenshot(self.driver, f"{name}-consent")
            harness.click(self.driver, By.NAME, "approve")
        return query(self.arrived()), verifier

    def test_1_password_totp_consent_then_the_code_is_exchanged_with_its_verifier(self):
        verifier, challenge = pkce()
        self.driver.get(authorize_url(self.tenant, challenge, scope="openid profile offline_access payments", state="s-full",
                                      nonce="n-full"))
        self.assertEqual(self.heading(), "Sign in")
        self.assertIn("Shop & Co", self.driver.title)
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("id"), "username", "the username field has focus")
        screenshot(self.driver, "01-login")
        # A wrong password: the page says so, in the same words as for an unknown user.
        self.fill("username", "alice")
        self.fill("password", "not the password")
        self.submit()
        error = self.driver.find_element(By.ID, "error")
        self.assertEqual(error.text, "The username or password is wrong.")
        self.assertEqual(error.get_attribute("role"), "alert")
        screenshot(self.driver, "02-login-wrong-password")
        self.fill("password", "correct horse battery")
        self.submit()
        # payments is a step-up scope (mfa): the TOTP page.
        self.assertEqual(self.heading(), "Two-step verification")
        self.assertEqual(self.driver.find_element(By.ID, "otp").get_attribute("autocomplete"), "one-time-code")
        screenshot(self.driver, "03-totp")
        self.fill("otp", self.tenant.totp())
        self.submit()
        self.assertEqual(self.heading(), "Allow access?")
        listed = [item.text for item in self.driver.find_elements(By.CSS_SELECTOR, "ul.scopes li")]
        self.assertEqual(len(listed), 4)
        self.assertIn("See your username", listed[1])
        screenshot(self.driver, "04-consent")
        harness.click(self.driver, By.NAME, "approve")
        arrived = query(self.arrived())
        screenshot(self.driver, "05-app-got-the-code")
        self.assertEqual(arrived["state"], "s-full")
        self.assertEqual(arrived["iss"], self.tenant.issuer)
        self.assertIn(f"/callback?code={arrived['code']}", self.callback.calls()[-1], "the app itself received it")
        tokens = exchange(self.tenant, arrived["code"], verifier)
        self.assertEqual(tokens.status_code, 200, tokens.text)
        body = tokens.json()
        claims = harness.jwt_claims(body["id_token"])
        self.assertEqual((claims["nonce"], claims["aud"], claims["acr"]), ("n-full", "spa", "mfa"))
        self.assertTrue(body["refresh_token"])
        # The code is single-use.
        again = exchange(self.tenant, arrived["code"], verifier)
        self.assertEqual((again.status_code, again.json()["error"]), (400, "invalid_grant"))

    def test_2_a_second_authorize_signs_in_without_a_form(self):
        first, verifier = self.sign_in()
        self.assertEqual(exchange(self.tenant, first["code"], verifier).status_code, 200)
        verifier, challenge = pkce()
        pages_before = len(self.callback.calls())
        self.driver.get(authorize_url(self.tenant, challenge, state="st-sso"))
        second = query(self.arrived())
        self.assertEqual(second["state"], "st-sso")
        self.assertEqual(len(self.callback.calls()), pages_before + 1)
        tokens = exchange(self.tenant, second["code"], verifier)
        self.assertEqual(tokens.status_code, 200)
        self.assertEqual(harness.jwt_claims(tokens.json()["id_token"])["sid"] != "", True)

    def test_3_prompt_none_answers_by_redirect(self):
        _, challenge = pkce()
        self.driver.get(authorize_url(self.tenant, challenge, prompt="none", state="st-none"))
        silent = query(self.arrived())
        self.assertEqual((silent["error"], silent["state"]), ("login_required", "st-none"))
        self.sign_in()
        self.driver.get(authorize_url(self.tenant, challenge, prompt="none"))
        self.assertIn("code", query(self.arrived()))
        self.driver.get(authorize_url(self.tenant, challenge, prompt="none", acr_values="mfa"))
        self.assertEqual(query(self.arrived())["error"], "interaction_required")

    def test_4_logout_ends_the_browser_session_and_its_tokens(self):
        arrived, verifier = self.sign_in()
        tokens = exchange(self.tenant, arrived["code"], verifier).json()
        self.driver.get(f"{self.tenant.issuer}/oauth/end_session?post_logout_redirect_uri={self.callback.base}/signed-out"
                        f"&state=bye&id_token_hint={tokens['id_token']}")
        landed = self.arrived()
        self.assertTrue(landed.startswith(self.callback.base + "/signed-out?state=bye"), landed)
        _, challenge = pkce()
        self.driver.get(authorize_url(self.tenant, challenge, prompt="none"))
        self.assertEqual(query(self.arrived())["error"], "login_required")
        refresh = requests.post(f"{self.tenant.issuer}/oauth/token",
                                data={"grant_type": "refresh_token", "client_id": "spa", "refresh_token": tokens["refresh_token"]})
        self.assertEqual(refresh.json().get("error"), "invalid_grant", "the token family started in the browser session ended")

    def test_5_logout_without_a_hint_asks_first(self):
        self.sign_in()
        self.driver.get(f"{self.tenant.issuer}/oauth/end_session")
        self.assertEqual(self.heading(), "Sign out")
        screenshot(self.driver, "06-logout-confirm")
        harness.click(self.driver, By.NAME, "confirm")
        self.assertEqual(self.heading(), "Signed out")
        screenshot(self.driver, "07-signed-out")
        _, challenge = pkce()
        self.driver.get(authorize_url(self.tenant, challenge, prompt="none"))
        self.assertEqual(query(self.arrived())["error"], "login_required")

    def test_6_an_unknown_client_or_redirect_is_an_error_page_never_a_redirect(self):
        _, challenge = pkce()
        self.driver.get(f"{self.tenant.issuer}/oauth/authorize?response_type=code&client_id=spa&redirect_uri=https://evil.example/cb"
                        f"&code_challenge={challenge}&code_challenge_method=S256")
        self.assertTrue(self.driver.current_url.startswith(self.tenant.issuer))
        self.assertEqual(self.heading(), "Something went wrong")
        self.assertIn("not registered", self.driver.find_element(By.TAG_NAME, "main").text)
        screenshot(self.driver, "08-error-unregistered-redirect")

    def test_7_a_phone_sized_page_needs_no_horizontal_scrolling(self):
        _, challenge = pkce()
        self.driver.set_window_size(360, 740)
        self.driver.get(authorize_url(self.tenant, challenge, prompt="login"))
        width = self.driver.execute_script("return document.documentElement.scrollWidth")
        viewport = self.driver.execute_script("return window.innerWidth")
        self.assertLessEqual(width, viewport)
        screenshot(self.driver, "09-login-phone")


if __name__ == "__main__":
    unittest.main()
