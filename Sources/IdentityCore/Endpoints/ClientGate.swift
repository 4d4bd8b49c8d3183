import Foundation

/// The front door of every endpoint a client authenticates at (token, introspection, revocation, logout):
/// room in the audit log, an active tenant, the per-IP count, the client's authentication, the per-client
/// count — in that order, once per request.
public struct ClientGate: Sendable {
    let audit: AuditLog
    let directory: TenantDirectory
    let limiter: RequestLimiter
    let authenticator: ClientAuthenticator

    public init(audit: AuditLog, directory: TenantDirectory, limiter: RequestLimiter, authenticator: ClientAuthenticator) {
        self.audit = audit
        self.directory = directory
        self.limiter = limiter
        self.authenticator = authenticator
    }

    /// The tenant and the authenticated client of a request, counted against the tenant's request limits.
    public func admit(tenantID: String, credentials: ClientCredentials?, origin: RequestOrigin) async throws -> (TenantContext, Client) {
        let context = try await activeTenant(tenantID)
        let limits = context.policy.rateLimit
        try await limiter.count(.ip(origin.limitKey), policy: limits, tenantID: tenantID)
        let client = try await authenticator.authenticate(credentials, in: context, origin: origin)
        try await limiter.count(.client(client.id), policy: limits, tenantID: tenantID)
        return (context, client)
    }

    /// The context of an active tenant, once the audit log has room for the events the request may record
    /// (see `AuditLog.admit()`).
    func activeTenant(_ tenantID: String) async throws -> TenantContext {
        try await audit.admit()
        guard let context = try await directory.context(for: tenantID) else {
            throw OAuthError.invalidClient(reason: "unknown_tenant")
        }
        guard context.tenant.status == .active else { throw OAuthError.invalidClient(reason: "tenant_suspended") }
        return context
    }
}
