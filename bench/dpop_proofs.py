"""DPoP proofs for the benchmark, signed ahead of the run (wrk's Lua cannot sign): one P-256 key per session,
as many fresh proofs (each its own jti, iat now) as the run can use. Uses `cryptography` (in .venv)."""
import base64, json, time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ProofKey:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.key.public_key().public_numbers()
        x, y = b64(numbers.x.to_bytes(32, "big")), b64(numbers.y.to_bytes(32, "big"))
        jwk = {"crv": "P-256", "kty": "EC", "x": x, "y": y}  # RFC 7638: required members, sorted, no spaces
        digest = hashes.Hash(hashes.SHA256())
        digest.update(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode())
        self.thumbprint = b64(digest.finalize())
        self.header = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, separators=(",", ":")).encode())

    def proof(self, method, url, jti, iat=None):
        payload = b64(json.dumps({"jti": jti, "htm": method, "htu": url, "iat": int(iat or time.time())}, separators=(",", ":")).encode())
        signing_input = f"{self.header}.{payload}".encode()
        r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{self.header}.{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def proofs(self, method, url, count, prefix):
        # 30 s ahead: the server takes iat within 60 s either way, so these stay good from 30 s ago to 90 s on,
        # longer than the wait for an idle server and the run.
        iat = time.time() + 30
        return [self.proof(method, url, f"{prefix}-{i}", iat) for i in range(count)]
