import Foundation

/// A DPoP proof (RFC 9449 §4) that passed every check: the thumbprint of the key that signed it, which a
/// token is then bound to (`cnf.jkt`, the session's `dpop_jkt`).
public struct DPoPProof: Sendable, Equatable {
    /// RFC 7638 SHA-256 thumbprint of the proof's `jwk`, base64url.
    public var jkt: String
    public var jti: String
    public var issuedAt: Int64

    public init(jkt: String, jti: String, issuedAt: Int64) {
        self.jkt = jkt
        self.jti = jti
        self.issuedAt = issuedAt
    }

    /// Why a proof was refused: each is `invalid_dpop_proof` to the client, the reason goes to the audit log.
    public enum Fault: Error, Sendable, Equatable {
        case missing
        case multipleProofs
        case malformed
        case wrongType
        case unsupportedAlgorithm
        case privateKeyInHeader
        case badKey
        case algorithmDoesNotMatchKey
        case badSignature
        case missingClaim(String)
        case wrongMethod
        case wrongURL
        case issuedInTheFuture
        case expired
        case replayed
        case wrongAccessTokenHash
        case wrongKey
        case criticalHeader

        /// The audit log's word for it.
        public var reason: String {
            switch self {
            case .missing: "dpop_proof_missing"
            case .multipleProofs: "dpop_multiple_proofs"
            case .malformed: "dpop_malformed"
            case .wrongType: "dpop_wrong_typ"
            case .unsupportedAlgorithm: "dpop_unsupported_alg"
            case .privateKeyInHeader: "dpop_private_key_in_jwk"
            case .badKey: "dpop_bad_jwk"
            case .algorithmDoesNotMatchKey: "dpop_alg_key_mismatch"
            case .badSignature: "dpop_bad_signature"
            case .missingClaim(let name): "dpop_missing_\(name)"
            case .wrongMethod: "dpop_wrong_htm"
            case .wrongURL: "dpop_wrong_htu"
            case .issuedInTheFuture: "dpop_iat_in_future"
            case .expired: "dpop_iat_too_old"
            case .replayed: "dpop_jti_replayed"
            case .wrongAccessTokenHash: "dpop_wrong_ath"
            case .wrongKey: "dpop_key_not_bound"
            case .criticalHeader: "dpop_crit_header"
            }
        }

        /// The error the endpoints answer with.
        public var oauthError: OAuthError { .invalidDPoPProof(reason: reason) }
    }
}
