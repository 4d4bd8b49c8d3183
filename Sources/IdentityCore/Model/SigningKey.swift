import Foundation

/// A tenant's signing key. Private parts are sealed under the master key and never leave the process.
///
/// Life cycle: a new tenant gets an `active` key and a `pending` one; both are published in the JWKS.
/// A rotation promotes the pending key (published since the previous rotation, so relying parties that
/// cache the JWKS already know it), retires the active one and creates a new pending key. A retired key
/// stays in the JWKS until `verifyUntil`, when every token it signed has expired.
public struct SigningKey: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable { case pending, active, retired }

    public var tenantID: String
    public var kid: String
    public var algorithm: SigningAlgorithm
    public var state: State
    /// The public key as a JWK (JSON text), with `kid`, `alg` and `use`.
    public var publicJWK: String
    /// The private key (PEM) sealed with AES-GCM under the master key, base64.
    public var sealedPrivateKey: String
    public var createdAt: Date
    public var activatedAt: Date?
    public var retiredAt: Date?
    /// After this instant a retired key verifies nothing and leaves the JWKS.
    public var verifyUntil: Date?

    public init(tenantID: String, kid: String, algorithm: SigningAlgorithm, state: State, publicJWK: String,
                sealedPrivateKey: String, createdAt: Date, activatedAt: Date? = nil, retiredAt: Date? = nil, verifyUntil: Date? = nil) {
        self.tenantID = tenantID
        self.kid = kid
        self.algorithm = algorithm
        self.state = state
        self.publicJWK = publicJWK
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.retiredAt = retiredAt
        self.verifyUntil = verifyUntil
    }

    /// Whether the key belongs in the JWKS at `now`.
    public func isPublished(at now: Date) -> Bool {
        state != .retired || (verifyUntil.map { now < $0 } ?? false)
    }
}
