import Crypto
import Foundation
import Synchronization

/// Checks one DPoP proof (RFC 9449 §4.3) without any I/O: the JOSE header (`typ: dpop+jwt`, an asymmetric
/// `alg` identityd knows, a public `jwk` that matches it, no `crit`), the signature by that key, and the
/// claims — `htm`, `htu` against the endpoint's URL under the public URL (scheme, host, port and path; the
/// query and fragment left out), `iat` within `window` of now either way, a `jti`, `ath` when an access
/// token comes with it, and `nonce` when `nonce` is asked for. The replay of a `jti` is `DPoPGate`'s to
/// check (it needs the shared cache). Whatever the bytes, the answer is a proof or a `Fault`.
public struct DPoPProofValidator: Sendable {
    /// How far `iat` may be from now, either way (seconds).
    public var window: Int64 = 60
    /// The longest proof read.
    static let maxLength = 8192

    /// Headers already read, by their base64url text: a client signs every proof with one key, so its
    /// header repeats, and reading it (JSON, the key's point, the thumbprint) was most of a proof's cost.
    /// The signature is checked every time.
    private let headers = HeaderCache()

    public init(window: Int64 = 60) { self.window = window }

    /// A checked header: its algorithm and key.
    struct Header: Sendable {
        let algorithm: SigningAlgorithm
        let key: DPoPKey
    }

    /// Bounded (`capacity` headers; emptied when full), so that proofs with ever new keys cannot grow it.
    final class HeaderCache: Sendable {
        let capacity: Int
        private let entries = Mutex<[String: Header]>([:])
        init(capacity: Int = 4096) { self.capacity = capacity }

        func header(_ encoded: String, read: () throws(DPoPProof.Fault) -> Header) throws(DPoPProof.Fault) -> Header {
            if let header = entries.withLock({ $0[encoded] }) { return header }
            let header = try read()
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[encoded] = header
            }
            return header
        }
    }

    /// What the proof must match.
    public struct Expectation: Sendable {
        /// The request's method (`POST`, `GET`).
        public var method: String
        /// The endpoint's URL as published under the public URL (`https://id.example/t/acme/oauth/token`).
        public var url: String
        /// At a resource (userinfo): the access token the proof must name in `ath`.
        public var accessToken: String?
        /// Whether `nonce` must be present; `acceptsNonce` then decides whether it is current.
        public var nonceRequired: Bool

        public init(method: String, url: String, accessToken: String? = nil, nonceRequired: Bool = false) {
            self.method = method
            self.url = url
            self.accessToken = accessToken
            self.nonceRequired = nonceRequired
        }
    }

    struct Claims {
        var jti: String?
        var htm: String?
        var htu: String?
        var iat: Double?
        var ath: String?
        var nonce: String?

        /// The claims this validator reads; one present with another type is a malformed proof.
        init(_ object: [String: JSONValue]) throws(DPoPProof.Fault) {
            func string(_ name: String) throws(DPoPProof.Fault) -> String? {
                switch object[name] {
                case nil, .null?: return nil
                case .string(let value)?: return value
                default: throw DPoPProof.Fault.malformed
                }
            }
            jti = try string("jti")
            htm = try string("htm")
            htu = try string("htu")
            ath = try string("ath")
            nonce = try string("nonce")
            switch object["iat"] {
            case nil, .null?: iat = nil
            case .number(let value)?: iat = value
            default: throw DPoPProof.Fault.malformed
            }
        }
    }

    /// The checked proof, or the first fault found. `acceptsNonce` is asked only when a nonce is required;
    /// a missing or refused nonce is `NonceRefusal` (the client is to retry with a fresh one), not a fault.
    public func validate(_ proof: String, _ expected: Expectation, now: Date, acceptsNonce: (String) -> Bool = { _ in false }) throws
        -> DPoPProof
    {
        guard proof.utf8.count <= Self.maxLength else { throw DPoPProof.Fault.malformed }
        let parts = proof.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payloadBytes = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]) else {
            throw DPoPProof.Fault.malformed
        }
        let key = try headers.header(String(parts[0])) { () throws(DPoPProof.Fault) -> Header in
            guard let headerBytes = Base64URL.decode(parts[0]), case .object(let header)? = try? JSONParser.parse(headerBytes) else {
                throw DPoPProof.Fault.malformed
            }
            guard case .string(let typ)? = header["typ"], typ.lowercased() == "dpop+jwt" else { throw DPoPProof.Fault.wrongType }
            guard case .string(let alg)? = header["alg"], let algorithm = SigningAlgorithm(rawValue: alg) else {
                throw DPoPProof.Fault.unsupportedAlgorithm
            }
            guard header["crit"] == nil else { throw DPoPProof.Fault.criticalHeader }
            guard case .object(let jwk)? = header["jwk"] else { throw DPoPProof.Fault.badKey }
            let key = try DPoPKey(jwk: jwk)
            guard key.algorithm == algorithm else { throw DPoPProof.Fault.algorithmDoesNotMatchKey }
            return Header(algorithm: algorithm, key: key)
        }.key
        let signingInput = Array(proof.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard key.isValid(signature, for: signingInput) else { throw DPoPProof.Fault.badSignature }

        guard case .object(let object)? = try? JSONParser.parse(payloadBytes) else { throw DPoPProof.Fault.malformed }
        let claims = try Claims(object)
        guard let jti = claims.jti, !jti.isEmpty, jti.utf8.count <= 512 else { throw DPoPProof.Fault.missingClaim("jti") }
        guard let htm = claims.htm else { throw DPoPProof.Fault.missingClaim("htm") }
        guard htm == expected.method else { throw DPoPProof.Fault.wrongMethod }
        guard let htu = claims.htu else { throw DPoPProof.Fault.missingClaim("htu") }
        guard let given = Self.normalized(htu), given == Self.normalized(expected.url) else { throw DPoPProof.Fault.wrongURL }
        guard let iat = claims.iat, iat.isFinite, abs(iat) < 1e12 else { throw DPoPProof.Fault.missingClaim("iat") }
        let issuedAt = Int64(iat.rounded(.down)), nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        guard issuedAt <= nowSeconds + window else { throw DPoPProof.Fault.issuedInTheFuture }
        guard issuedAt >= nowSeconds - window else { throw DPoPProof.Fault.expired }
        if let accessToken = expected.accessToken {
            guard let ath = claims.ath else { throw DPoPProof.Fault.missingClaim("ath") }
            let digest = Base64URL.encode(SHA256.hash(data: Array(accessToken.utf8)))
            guard ConstantTime.equal(Array(ath.utf8), Array(digest.utf8)) else { throw DPoPProof.Fault.wrongAccessTokenHash }
        }
        if expected.nonceRequired {
            guard let nonce = claims.nonce, acceptsNonce(nonce) else { throw NonceRefusal() }
        }
        return DPoPProof(jkt: key.thumbprint, jti: jti, issuedAt: issuedAt)
    }

    /// The RFC 7638 SHA-256 thumbprint of a public JWK, as tokens bound to it carry it (`cnf.jkt`).
    public static func thumbprint(of jwk: [String: JSONValue]) throws -> String { try DPoPKey(jwk: jwk).thumbprint }

    /// A proof without the server's current nonce (RFC 9449 §8): answered `use_dpop_nonce` with a fresh one.
    public struct NonceRefusal: Error, Sendable, Equatable {}

    /// `scheme://host[:port]/path` of a URL, scheme and host lower-cased, the default port left out, an empty
    /// path as `/`; nil when it is not an absolute http(s) URL.
    static func normalized(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = components.host?.lowercased(), !host.isEmpty else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = components.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return "\(scheme)://\(host)\(port)\(path)"
    }
}
