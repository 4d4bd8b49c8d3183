import Crypto
import Foundation

/// What a request presented to authenticate its client (RFC 6749 §2.3).
public struct ClientCredentials: Sendable, Equatable {
    public enum Method: String, Sendable { case basic = "client_secret_basic", post = "client_secret_post", none }
    public var clientID: String
    public var secret: String?
    public var method: Method

    public init(clientID: String, secret: String?, method: Method) {
        self.clientID = clientID
        self.secret = secret
        self.method = method
    }
}

extension IdentityRuntime {
    /// The client of `context` that `credentials` authenticate, or `invalid_client` (recorded as an event).
    /// Confidential clients must present their secret; public clients must present none.
    func authenticateClient(_ credentials: ClientCredentials?, in context: TenantContext, origin: RequestOrigin) async throws -> Client {
        guard let credentials else { throw OAuthError.invalidClient(reason: "no_client_authentication") }
        let tenantID = context.tenant.id
        func fail(_ reason: String) -> OAuthError {
            audit.record(AuditEvent(tenantID: tenantID, kind: .clientAuthFailed, time: clock.now(), clientID: credentials.clientID,
                                    ip: origin.ip, userAgent: origin.userAgent, detail: reason))
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
            let verified = await verifiedSecrets.verify(storedHash: storedHash, secretDigest: digest) { [hasher] in
                await hasher.verify(secret, against: storedHash)
            }
            guard verified else { throw fail("wrong_secret") }
        }
        return client
    }
}
