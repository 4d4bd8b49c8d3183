import Crypto
import Foundation

/// Authenticates the client of a request: confidential clients by their secret (hashed at rest; a secret
/// that passed the hash once is remembered per node), public clients by their id alone. Every failure is a
/// `client_auth_failed` event and `invalid_client`.
public struct ClientAuthenticator: Sendable {
    let directory: TenantDirectory
    let hasher: PasswordHasher
    let throttle: LoginThrottle
    let audit: AuditLog
    let clock: any IdentityClock
    let verifiedSecrets = VerifiedSecretCache()

    public init(directory: TenantDirectory, hasher: PasswordHasher, throttle: LoginThrottle, audit: AuditLog, clock: any IdentityClock) {
        self.directory = directory
        self.hasher = hasher
        self.throttle = throttle
        self.audit = audit
        self.clock = clock
    }

    /// The client of `context` that `credentials` authenticate, or `invalid_client`.
    public func authenticate(_ credentials: ClientCredentials?, in context: TenantContext, origin: RequestOrigin) async throws -> Client {
        guard let credentials else { throw OAuthError.invalidClient(reason: "no_client_authentication") }
        let tenantID = context.tenant.id
        func fail(_ reason: String, known: Bool = true) -> OAuthError {
            // An id that names no client is whatever the caller sent (a secret swapped into it, control
            // characters, 64 KiB): the log and the store get a digest of it, never the bytes.
            let client = known ? credentials.clientID : nil
            let detail = known ? reason : "\(reason) client_id_sha256=\(TokenDigest.prefix(credentials.clientID))"
            audit.record(.clientAuthFailed, tenantID: tenantID, at: clock.now(), origin: origin, client: client, detail: detail)
            return OAuthError.invalidClient(reason: reason)
        }
        guard Client.isValidID(credentials.clientID), let client = try await directory.client(tenantID: tenantID, id: credentials.clientID) else {
            throw fail("unknown_client", known: false)
        }
        switch client.kind {
        case .public:
            guard credentials.secret == nil else { throw fail("public_client_sent_secret") }
        case .confidential:
            guard let secret = credentials.secret, let storedHash = client.secretHash else { throw fail("missing_secret") }
            let digest = Array(SHA256.hash(data: Array(secret.utf8)))
            if verifiedSecrets.isKnown(storedHash: storedHash, secretDigest: digest) { return client }
            // Only a secret that must be hashed is throttled: an address that failed too often for this client
            // is refused before the hash.
            let guess = LoginThrottle.Secret.clientSecret(clientID: client.id), limits = context.policy.rateLimit
            do {
                try await throttle.admit(guess, tenantID: tenantID, address: origin.limitKey, policy: limits)
            } catch {
                _ = fail("locked_out")
                throw error
            }
            let verified = try await verifiedSecrets.verify(storedHash: storedHash, secretDigest: digest) { [hasher] in
                try await hasher.verify(secret, against: storedHash, tenant: tenantID)
            }
            guard verified else {
                await throttle.failed(guess, tenantID: tenantID, address: origin.limitKey, policy: limits)
                throw fail("wrong_secret")
            }
            await throttle.succeeded(guess, tenantID: tenantID, address: origin.limitKey, policy: limits)
        }
        return client
    }
}
