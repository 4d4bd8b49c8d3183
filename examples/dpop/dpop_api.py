"""An API (a resource server) that accepts identityd's DPoP-bound access tokens, as docs/dpop.md describes.

Run it:   python examples/dpop/dpop_api.py --issuer http://127.0.0.1:8080/t/demo --port 9000
Call it:  GET http://127.0.0.1:9000/me with `Authorization: DPoP <access token>` and `DPoP: <proof>`, the proof
          signed by the key the token is bound to, with `htm` GET, `htu` this URL and `ath` the token's hash.

What it checks, in order (RFC 9449 §7.1 and §4.3):
 1. the access token is a JWT (`typ: at+jwt`) signed by a key in the issuer's JWKS, from this issuer, for
    this audience, not expired;
 2. it is bound: `cnf.jkt` is present (a bound token sent as `Bearer` is refused, as identityd's userinfo does);
 3. exactly one `DPoP` header, a JWS with `typ: dpop+jwt`, an asymmetric `alg`, and a public `jwk` in the
    header whose signature checks out;
 4. the proof is for this request (`htm`, `htu` without query or fragment) and this token (`ath`), recent
    (`iat` within 60 s either way), and not seen before (`jti`, remembered as long as `iat` can pass);
 5. the RFC 7638 thumbprint of the proof's key is the token's `cnf.jkt`.
Any failure is 401 with `WWW-Authenticate: DPoP error="invalid_token"` or `error="invalid_dpop_proof"`.

Needs joserfc (pip install joserfc). Tokens that may have been revoked before they expire need introspection
(`POST {issuer}/oauth/introspect`, which returns `cnf` too); this example trusts the signature and `exp`.
"""

import argparse
import base64
import hashlib
import json
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

PROOF_ALGORITHMS = {"ES256": ECKey, "EdDSA": OKPKey, "RS256": RSAKey}
TOKEN_ALGORITHMS = ["ES256", "EdDSA", "RS256"]
WINDOW = 60  # seconds of clock difference accepted either way, as identityd does


class Refused(Exception):
    """A request the API refuses: `error` goes into WWW-Authenticate."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error, self.description = error, description

    def challenge(self):
        return f'DPoP error="{self.error}", error_description="{self.description}", algs="{" ".join(PROOF_ALGORITHMS)}"'


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_segment(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def normalized_url(url):
    """`htu` is compared without query and fragment, with the scheme and host in lower case (RFC 9449 §4.3)."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port
    netloc = (parts.hostname or "").lower()
    if port and not ((parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)):
        netloc += f":{port}"
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", "", ""))


class DPoPVerifier:
    def __init__(self, issuer, audience=None, jwks=None):
        self.issuer = issuer
        self.audience = audience or issuer
        self._jwks = KeySet.import_key_set(jwks) if jwks else None
        self._seen = {}  # jti -> when it may be forgotten
        self._lock = threading.Lock()

    def keys(self, refresh=False):
        if self._jwks is None or refresh:
            with urllib.request.urlopen(self.issuer + "/jwks") as answer:
                self._jwks = KeySet.import_key_set(json.load(answer))
        return self._jwks

    def access_token(self, token):
        try:
            header = decode_segment(token.split(".")[0])
        except (ValueError, IndexError):
            raise Refused("invalid_token", "not a JWT")
        if header.get("typ") != "at+jwt":
            raise Refused("invalid_token", "not an access token")
        try:
            try:
                decoded = jwt.decode(token, self.keys(), algorithms=TOKEN_ALGORITHMS)
            except JoseError:
                decoded = jwt.decode(token, self.keys(refresh=True), algorithms=TOKEN_ALGORITHMS)  # a new signing key
        except (JoseError, ValueError) as error:
            raise Refused("invalid_token", f"signature: {error.__class__.__name__}")
        claims = decoded.claims
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != self.issuer or self.audience not in audiences:
            raise Refused("invalid_token", "another issuer or audience")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
            raise Refused("invalid_token", "expired")
        return claims

    def proof(self, proof, method, url, token, now=None):
        now = time.time() if now is None else now
        try:
            header = decode_segment(proof.split(".")[0])
        except (ValueError, IndexError):
            raise Refused("invalid_dpop_proof", "not a JWS")
        if header.get("typ") != "dpop+jwt" or header.get("alg") not in PROOF_ALGORITHMS or not isinstance(header.get("jwk"), dict):
            raise Refused("invalid_dpop_proof", "typ, alg or jwk")
        jwk = header["jwk"]
        if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
            raise Refused("invalid_dpop_proof", "a private key in the proof")
        try:
            key = PROOF_ALGORITHMS[header["alg"]].import_key(jwk)
            claims = json.loads(jws.deserialize_compact(proof, key, algorithms=[header["alg"]]).payload)
        except (JoseError, ValueError, TypeError) as error:
            raise Refused("invalid_dpop_proof", f"signature: {error.__class__.__name__}")
        if claims.get("htm") != method or not isinstance(claims.get("htu"), str) or normalized_url(claims["htu"]) != normalized_url(url):
            raise Refused("invalid_dpop_proof", "the proof is for another request")
        if not isinstance(claims.get("iat"), (int, float)) or abs(claims["iat"] - now) > WINDOW:
            raise Refused("invalid_dpop_proof", "iat outside the window")
        if claims.get("ath") != b64url(hashlib.sha256(token.encode()).digest()):
            raise Refused("invalid_dpop_proof", "ath is not this token's hash")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise Refused("invalid_dpop_proof", "no jti")
        with self._lock:
            self._seen = {k: v for k, v in self._seen.items() if v > now} if len(self._seen) > 10_000 else self._seen
            if self._seen.get(jti, 0) > now:
                raise Refused("invalid_dpop_proof", "replayed")
            self._seen[jti] = now + 2 * WINDOW
        return key.thumbprint()

    def verify(self, method, url, headers):
        """`headers`: a list of (name, value). Returns the access token's claims or raises Refused."""
        authorization = [v for n, v in headers if n.lower() == "authorization"]
        proofs = [v for n, v in headers if n.lower() == "dpop"]
        if len(authorization) != 1:
            raise Refused("invalid_token", "no access token")
        scheme, _, token = authorization[0].partition(" ")
        claims = self.access_token(token.strip())
        jkt = (claims.get("cnf") or {}).get("jkt")
        if scheme.lower() != "dpop" or not jkt:
            raise Refused("invalid_token", "a DPoP-bound token must be sent with the DPoP scheme" if jkt else "the token is not DPoP-bound")
        if len(proofs) != 1:
            raise Refused("invalid_dpop_proof", "exactly one DPoP header is needed")
        if self.proof(proofs[0], method, url, token.strip()) != jkt:
            raise Refused("invalid_dpop_proof", "the proof's key is not the token's")
        return claims


def serve(verifier, host, port, public_url=None):
    """A ThreadingHTTPServer with GET /me: the token's subject, client and scope for a valid request."""
    public = public_url or f"http://{host}:{port}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                claims = verifier.verify("GET", public + self.path, list(self.headers.items()))
                status, body, extra = 200, {"sub": claims.get("sub"), "client_id": claims.get("client_id"), "scope": claims.get("scope")}, {}
            except Refused as refused:
                status, body, extra = 401, {"error": refused.error}, {"WWW-Authenticate": refused.challenge()}
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **extra}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer((host, port), Handler)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issuer", required=True, help="the tenant's issuer, e.g. http://127.0.0.1:8080/t/demo")
    parser.add_argument("--audience", help="the audience the API expects (default: the issuer)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    arguments = parser.parse_args()
    print(f"serving GET http://{arguments.host}:{arguments.port}/me for {arguments.issuer}")
    serve(DPoPVerifier(arguments.issuer, arguments.audience), arguments.host, arguments.port).serve_forever()
