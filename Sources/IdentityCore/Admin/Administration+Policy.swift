import Foundation

extension Administration {
    public func policy(_ id: String, by principal: AdminPrincipal) async throws -> TenantPolicy {
        try await authorize(principal, id).policy
    }

    /// `PUT /tenants/{t}/policy`: replaces the whole policy. A new `signing_alg` rotates to a key of that
    /// algorithm at once. Takes effect on every node with the invalidation.
    public func replacePolicy(_ id: String, _ body: JSONValue, by principal: AdminPrincipal) async throws -> TenantPolicy {
        var tenant = try await authorize(principal, id)
        let policy = try TenantPolicy(validating: body)
        let algorithmChanged = policy.signingAlg != tenant.policy.signingAlg
        tenant.policy = policy
        tenant.updatedAt = now
        guard try await store.updateTenant(tenant) else { throw AdminError.notFound("tenant") }
        record(id, .policyChanged)
        if algorithmChanged { try await rotateKeys(of: tenant, to: policy.signingAlg) }
        await runtime.invalidate(tenant: id)
        return policy
    }
}
