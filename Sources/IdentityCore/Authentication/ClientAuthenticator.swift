import Crypto
import Foundation

/// Authenticates the client of a request: confidential clients by their secret (hashed at rest; a secret
/// that passed the hash once is remembered per node), public clients by their id alone. Every failure is a
/// `client_auth_failed` event and `invalid_client`.
public struct ClientAuthenticator: Sendable {
    let directory: TenantDirectory
    let hasher: PasswordHasher
    let audit: AuditLog
    let clock: any IdentityClock
    let verifiedSecrets = VerifiedSecretCache()

    public init(directory: TenantDirectory, hasher: PasswordHasher, audit: AuditLog, clock: any IdentityClock) {
        self.directory = directory
        self.hasher = hasher
        self.audit = audit
        self.clock = clock
    }

    /// The client of `context` that `credentials` authenticate, or `invalid_client`.
    public func authenticate(_ credentials: ClientCredentials?, in context: TenantContext, origin: RequestOrigin) async throws -> Client {
        guard let credentials else { throw OAuthError.invalidClient(reason: "no_client_authentication") }
        let tenantID = context.tenant.id
        func fail(_ reason: String) -> OAuthError {
            audit.record(.clientAuthFailed, tenantID: tenantID, at: clock.now(), origin: origin, client: credentials.clientID, detail: reason)
            return OAuthError.invalidClient(reason: reason)
        }
        guard Client.isValidID(credentials.clientID), let client = try await directory.client(tenantID: tenantID, id: credentials.clientID) else {
            throw fail("unknown_client")
        }
        switch client.kind {
        case .public:
            guard credentials.secret == nil else { throw fail("public_client_sent_secret") }
        case .confidential:
            guard let secret = credentials.secret, let storedHash = client.secretHash else { throw fail("missing_secret") }
            let digest = Array(SHA256.hash(data: Array(secret.utf8)))
            let verified = try await verifiedSecrets.verify(storedHash: storedHash, secretDigest: digest) { [hasher] in
                await hasher.verify(secret, against: storedHash)
            }
            guard verified else { throw fail("wrong_secret") }
        }
        return client
    }
}
