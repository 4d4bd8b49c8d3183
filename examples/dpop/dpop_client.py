"""The client side of DPoP (RFC 9449 §4): a key pair held by the app, and a fresh proof per request.

    key = DPoPKey()                                   # ES256; DPoPKey("EdDSA") or DPoPKey("RS256") also work
    requests.post(token_url, data=..., headers={"DPoP": key.proof("POST", token_url)})
    requests.get(api_url, headers={"Authorization": f"DPoP {at}", "DPoP": key.proof("GET", api_url, access_token=at)})

When the server answers `use_dpop_nonce` with a `DPoP-Nonce` header, sign again with `nonce=` that value.
Needs joserfc (pip install joserfc).
"""

import base64
import hashlib
import json
import time
import uuid

from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey


class DPoPKey:
    def __init__(self, alg="ES256"):
        self.alg = alg
        self.key = {"ES256": lambda: ECKey.generate_key("P-256"), "EdDSA": lambda: OKPKey.generate_key("Ed25519"),
                    "RS256": lambda: RSAKey.generate_key(2048)}[alg]()
        self.jwk = self.key.as_dict(private=False)
        for member in ("kid", "use", "alg", "key_ops"):
            self.jwk.pop(member, None)

    @property
    def thumbprint(self):
        """RFC 7638: the value of `cnf.jkt` in the tokens bound to this key, and of `dpop_jkt` on authorize."""
        return self.key.thumbprint()

    def proof(self, method, url, access_token=None, nonce=None, iat=None, jti=None, **claims):
        payload = {"jti": jti or str(uuid.uuid4()), "htm": method, "htu": url, "iat": int(time.time() if iat is None else iat)}
        if access_token is not None:
            payload["ath"] = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims)
        header = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk}
        return jws.serialize_compact(header, json.dumps(payload, separators=(",", ":")), self.key, algorithms=[self.alg])
