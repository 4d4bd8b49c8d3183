import Crypto
import Foundation

/// The DPoP checks of one request, around the pure `DPoPProofValidator`: at most one `DPoP` header, the
/// tenant's policy (`dpop`: whether a proof is required of this client; `dpop_nonce`: whether proofs must
/// carry a current server nonce), and the replay cache (a `jti` is accepted once per key while its proof
/// could be accepted). Every refusal is audited (`dpop_proof_refused`) and answered `invalid_dpop_proof`,
/// or `use_dpop_nonce` with a fresh nonce.
public struct DPoPGate: Sendable {
    let validator: DPoPProofValidator
    let nonces: DPoPNonces
    let replays: any DPoPReplayCache
    let audit: AuditLog
    let clock: any IdentityClock

    public init(validator: DPoPProofValidator = DPoPProofValidator(), nonces: DPoPNonces, replays: any DPoPReplayCache, audit: AuditLog,
                clock: any IdentityClock) {
        self.validator = validator
        self.nonces = nonces
        self.replays = replays
        self.audit = audit
        self.clock = clock
    }

    /// What a request brings for DPoP: its `DPoP` headers (each one), its method and the endpoint's URL under
    /// the public URL.
    public struct Evidence: Sendable, Equatable {
        public var proofs: [String]
        public var method: String
        public var url: String

        public init(proofs: [String], method: String, url: String) {
            self.proofs = proofs
            self.method = method
            self.url = url
        }
    }

    /// Whether the tenant's policy requires a proof of this client.
    public static func requiresProof(_ policy: TenantPolicy, client: Client?) -> Bool {
        switch policy.dpop {
        case .optional: false
        case .requiredForPublicClients: client?.kind == .public
        case .required: true
        }
    }

    /// The request's proof, checked; nil when it has none and none is required (`required`, or else the
    /// policy's rule for `client`). `accessToken`: at a resource, the token the proof must name (`ath`).
    public func check(_ evidence: Evidence?, in context: TenantContext, client: Client?, accessToken: String? = nil, required: Bool? = nil,
                      origin: RequestOrigin) async throws -> DPoPProof? {
        let tenantID = context.tenant.id, now = clock.now()
        func refuse(_ fault: DPoPProof.Fault) -> OAuthError {
            audit.record(.dpopProofRefused, tenantID: tenantID, at: now, origin: origin, client: client?.id, detail: fault.reason)
            return fault.oauthError
        }
        let proofs = evidence?.proofs ?? []
        guard proofs.count <= 1 else { throw refuse(.multipleProofs) }
        guard let proof = proofs.first, let evidence else {
            if required ?? Self.requiresProof(context.policy, client: client) { throw refuse(.missing) }
            return nil
        }
        let expectation = DPoPProofValidator.Expectation(method: evidence.method, url: evidence.url, accessToken: accessToken,
                                                         nonceRequired: context.policy.dpopNonce)
        let checked: DPoPProof
        do {
            checked = try validator.validate(proof, expectation, now: now) { nonces.accepts($0, tenantID: tenantID, now: now) }
        } catch let fault as DPoPProof.Fault {
            throw refuse(fault)
        } catch is DPoPProofValidator.NonceRefusal {
            throw OAuthError.useDPoPNonce(nonce: nonces.current(tenantID: tenantID, now: now))
        }
        // The jti per tenant and key, hashed (it is the client's string), kept while the proof's iat is in the window.
        let digest = SHA256.hash(data: Array("\(tenantID)\u{1F}\(checked.jkt)\u{1F}\(checked.jti)".utf8))
        let key = "dpop:" + Array(Array(digest).prefix(16)).hexString
        guard try await replays.firstUse(key, ttl: .seconds(2 * validator.window + 5)) else { throw refuse(.replayed) }
        return checked
    }

    /// The nonce to hand out with an answer, when the tenant asks for nonces.
    public func nonce(for context: TenantContext) -> String? {
        context.policy.dpopNonce ? nonces.current(tenantID: context.tenant.id, now: clock.now()) : nil
    }
}
