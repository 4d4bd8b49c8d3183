#!/usr/bin/env python3
"""How long one full browser sign-in takes: headless Chromium from the authorize request to the redirect that
carries the code (login page, username + password, consent page), against the release binary on SQLite with
the production password hash (Argon2id, 19 MiB, t = 2). Prints each run and the median, plus the median of a
second sign-in of the same browser (single sign-on: no form) and of the code exchange.

    .venv/bin/python bench/browser_login.py [--runs 15]

Needs chromium and chromium-driver (Debian) and the test requirements (.venv, scripts/python-env.sh)."""
import argparse, os, statistics, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
os.environ.setdefault("IDENTITYD_BINARY", os.path.join(ROOT, ".build", "release", "identityd"))
import harness  # noqa: E402
import requests  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # The production hash, not the tests' cheap one.
    server = harness.Server({"IDENTITY_PASSWORD_HASH_MEMORY": "19456", "IDENTITY_PASSWORD_HASH_ITERATIONS": "2"})
    callback = harness.Callback()
    tenant = harness.Tenant(server.base, server.admin_token, callback)
    full, sso, exchange = [], [], []
    try:
        for run in range(args.runs + 1):  # the first run warms up Chromium and the server; not counted
            driver = harness.chromium()
            try:
                verifier, challenge = harness.pkce()
                started = time.perf_counter()
                driver.get(harness.authorize_url(tenant, challenge, state=f"run{run}"))
                driver.find_element(By.ID, "username").send_keys("alice")
                driver.find_element(By.ID, "password").send_keys("correct horse battery")
                harness.click(driver, By.CSS_SELECTOR, "button[type=submit]")
                harness.click(driver, By.NAME, "approve")
                url = harness.wait_for(lambda: driver.current_url if f"state=run{run}" in driver.current_url else None, what="the code")
                elapsed = time.perf_counter() - started
                code = harness.query(url)["code"]
                began = time.perf_counter()
                answer = harness.exchange(tenant, code, verifier)
                exchanged = time.perf_counter() - began
                assert answer.status_code == 200, answer.text
                verifier, challenge = harness.pkce()
                began = time.perf_counter()
                driver.get(harness.authorize_url(tenant, challenge, state=f"sso{run}"))
                harness.wait_for(lambda: driver.current_url if f"state=sso{run}" in driver.current_url else None, what="the SSO code")
                again = time.perf_counter() - began
            finally:
                driver.quit()
            # Forget the consent, so that every run shows the consent page.
            forgot = requests.delete(f"{tenant.admin}/tenants/{tenant.tenant}/users/{tenant.user_id}/consents/spa", headers=tenant.headers)
            assert forgot.status_code == 200, forgot.text
            if run > 0:
                full.append(elapsed * 1000)
                sso.append(again * 1000)
                exchange.append(exchanged * 1000)
                print(f"run {run:2}: sign-in {elapsed * 1000:7.1f} ms   SSO {again * 1000:6.1f} ms   code exchange {exchanged * 1000:5.1f} ms", flush=True)
        # The server's own share, from its metrics: mean time per request of each route of the sign-in.
        metrics = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics").text
        server_side = {}
        for line in metrics.splitlines():
            if line.startswith("identityd_http_request_duration_seconds_") and not line.startswith("identityd_http_request_duration_seconds_bucket"):
                series, value = line.rsplit(" ", 1)
                kind = "sum" if "_sum{" in series else "count"
                route = series.split('route="')[1].split('"')[0] + " " + series.split('method="')[1].split('"')[0]
                server_side.setdefault(route, {})[kind] = float(value)
    finally:
        callback.stop()
        server.stop()
    for route, figures in sorted(server_side.items()):
        if figures.get("count"):
            print(f"server: {route:32} {figures['count']:4.0f} requests, mean {figures['sum'] / figures['count'] * 1000:6.1f} ms")
    print(f"median over {args.runs}: sign-in (authorize → login → consent → code) {statistics.median(full):.0f} ms, "
          f"SSO (authorize → code) {statistics.median(sso):.0f} ms, code exchange {statistics.median(exchange):.1f} ms")


if __name__ == "__main__":
    main()
