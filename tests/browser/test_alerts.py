"""Security alerts end to end against the real binary: a reuse raises a `security_alert` and a webhook POST
signed with the tenant's secret (checked here as a receiver would, with hmac), delivered although the
receiver was down for the first attempts and the node was killed (SIGKILL) and restarted in between; a
webhook URL that points at identityd itself is refused. The metrics count the attempts."""

import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

import requests

import harness
from harness import wait_for


class Receiver:
    """The tenant's webhook endpoint, started when asked: records each POST's headers and body."""

    def __init__(self, port):
        self.port, self.requests = port, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def verify(headers, body, secret, tolerance=300):
    """What a receiver does: recompute the HMAC of "<timestamp>.<body>" and compare in constant time."""
    timestamp = headers["X-Identityd-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Identityd-Signature"]) and abs(time.time() - int(timestamp)) <= tolerance


class AlertWebhookTests(unittest.TestCase):
    def setUp(self):
        self.server = harness.Server()
        self.addCleanup(self.server.stop)
        self.operator = {"Authorization": f"Bearer {self.server.admin_token}"}

    def tenant(self, name, webhook):
        admin = f"{self.server.base}/admin/v1"
        created = requests.post(f"{admin}/tenants", headers=self.operator, json={"id": name, "name": name, "policy": {
            "refresh_reuse_grace": 0, "alerts": {"webhook_url": webhook}}})
        self.assertEqual(created.status_code, 201, created.text)
        headers = {"Authorization": f"Bearer {created.json()['admin_key']}"}
        client = requests.post(f"{admin}/tenants/{name}/clients", headers=headers, json={
            "client_id": "web", "name": "Web", "type": "confidential", "grant_types": ["password", "refresh_token"], "scopes": ["openid"]})
        self.assertEqual(client.status_code, 201, client.text)
        user = requests.post(f"{admin}/tenants/{name}/users", headers=headers, json={"username": "alice", "password": "correct horse battery"})
        self.assertEqual(user.status_code, 201, user.text)
        secret = requests.post(f"{admin}/tenants/{name}/alerts/secret", headers=headers)
        self.assertEqual(secret.status_code, 201, secret.text)
        return ("web", client.json()["client_secret"]), secret.json()["secret"], headers

    def reuse(self, name, client):
        token = f"{self.server.base}/t/{name}/oauth/token"
        login = requests.post(token, auth=client, data={"grant_type": "password", "username": "alice", "password": "correct horse battery"}).json()
        first = requests.post(token, auth=client, data={"grant_type": "refresh_token", "refresh_token": login["refresh_token"]})
        self.assertEqual(first.status_code, 200, first.text)
        again = requests.post(token, auth=client, data={"grant_type": "refresh_token", "refresh_token": login["refresh_token"]})
        self.assertEqual(again.json()["error"], "invalid_grant", again.text)

    def metric(self, name, **labels):
        text = requests.get(f"http://127.0.0.1:{self.server.metrics_port}/metrics").text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def test_a_reuse_alert_reaches_a_webhook_that_was_down_across_a_killed_node(self):
        port = harness.free_port()
        client, secret, _ = self.tenant("hooked", f"http://127.0.0.1:{port}/hook")
        self.reuse("hooked", client)
        # The receiver is down: the first attempt fails (and is recorded for a retry in the store).
        wait_for(lambda: self.metric("identityd_webhook_deliveries_total", result="failed") >= 1, timeout=15, what="a failed attempt")
        self.server.restart(kill=True)
        receiver = Receiver(port)
        self.addCleanup(receiver.stop)
        wait_for(lambda: receiver.requests, timeout=30, what="the webhook")
        headers, body = receiver.requests[0]
        self.assertTrue(verify(headers, body, secret), "the signature does not verify")
        self.assertFalse(verify(headers, body + b" ", secret), "a changed body must not verify")
        self.assertFalse(verify(headers, body, secret + "x"), "another secret must not verify")
        alert = json.loads(body)
        self.assertEqual((alert["type"], alert["rule"], alert["tenant"]), ("security_alert", "reuse_detected", "hooked"))
        self.assertEqual(alert["figures"], {"response": "family", "sessions_revoked": "1"})
        self.assertEqual(alert["id"], headers["X-Identityd-Delivery"])
        time.sleep(2.5)
        self.assertEqual(len(receiver.requests), 1, "delivered once it was answered 2xx")
        self.assertNotIn(secret, self.server.read_log())

    def test_a_webhook_pointing_at_identityd_itself_is_refused(self):
        client, _, headers = self.tenant("selfish", f"{self.server.base}/admin/v1/tenants")
        self.reuse("selfish", client)
        wait_for(lambda: "points at identityd itself" in self.server.read_log(), timeout=15, what="the refusal in the log")
        events = requests.get(f"{self.server.base}/admin/v1/tenants/selfish/events?type=security_alert", headers=headers).json()["items"]
        self.assertEqual([e["detail"] for e in events], ["reuse_detected response=family sessions_revoked=1"])


if __name__ == "__main__":
    unittest.main()
