import Foundation

extension Administration {
    /// `POST /tenants`: the tenant with its first keys, and its admin key (shown this once).
    public func createTenant(_ input: AdminInput.NewTenant, by principal: AdminPrincipal) async throws -> AdminView.CreatedTenant {
        try requireOperator(principal)
        guard Tenant.isValidID(input.id) else { throw AdminError.invalidField("id", "must match [a-z0-9-]{3,40}") }
        let id = input.id
        let name = try validName(input.name, field: "name")
        let policy = try input.policy.map { try TenantPolicy(validating: $0) } ?? TenantPolicy()
        let now = self.now
        let tenant = Tenant(id: id, name: name, policy: policy, createdAt: now, updatedAt: now)
        let adminKey = newAdminKey()
        let keys = [try runtime.keys.make(policy.signingAlg, tenantID: id, state: .active, now: now),
                    try runtime.keys.make(policy.signingAlg, tenantID: id, state: .pending, now: now)]
        do {
            try await store.createTenant(tenant, adminKeyHash: TokenDigest.hex(adminKey), keys: keys)
        } catch StoreError.conflict {
            throw AdminError.conflict("a tenant with id \(id) exists")
        }
        await runtime.invalidate(tenant: id)
        record(id, .tenantCreated)
        return AdminView.CreatedTenant(tenant: .init(tenant), adminKey: adminKey)
    }

    public func listTenants(by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.TenantView> {
        try requireOperator(principal)
        return .init(items: try await store.tenants().map(AdminView.TenantView.init))
    }

    public func tenant(_ id: String, by principal: AdminPrincipal) async throws -> AdminView.TenantView {
        .init(try await authorize(principal, id))
    }

    /// `PATCH /tenants/{t}`: `name` (operator or tenant admin), `status` (operator only).
    public func updateTenant(_ id: String, _ input: AdminInput.TenantUpdate, by principal: AdminPrincipal) async throws -> AdminView.TenantView {
        var tenant = try await authorize(principal, id)
        if let name = input.name { tenant.name = try validName(name, field: "name") }
        if let status = input.status {
            guard let value = Tenant.Status(rawValue: status) else { throw AdminError.invalidField("status", "must be active or suspended") }
            try requireOperator(principal)
            tenant.status = value
        }
        tenant.updatedAt = now
        guard try await store.updateTenant(tenant) else { throw AdminError.notFound("tenant") }
        await runtime.invalidate(tenant: id)
        record(id, .tenantUpdated, detail: "status=\(tenant.status.rawValue)")
        return .init(tenant)
    }

    /// `DELETE /tenants/{t}` (operator only): the tenant and everything under it.
    public func deleteTenant(_ id: String, by principal: AdminPrincipal) async throws {
        try requireOperator(principal)
        guard try await store.deleteTenant(id: id) else { throw AdminError.notFound("tenant") }
        await runtime.invalidate(tenant: id)
    }

    /// `POST /tenants/{t}/admin-key/rotate` (operator, or the tenant's own key): a new tenant admin key, shown
    /// in this response only; the old one stops working at once.
    public func rotateAdminKey(_ id: String, by principal: AdminPrincipal) async throws -> AdminView.AdminKey {
        _ = try await authorize(principal, id)
        let adminKey = newAdminKey()
        guard try await store.replaceAdminKeyHash(tenantID: id, hash: TokenDigest.hex(adminKey)) else { throw AdminError.notFound("tenant") }
        record(id, .tenantUpdated, detail: "admin_key_rotated")
        return AdminView.AdminKey(adminKey: adminKey)
    }

    private func newAdminKey() -> String { "tak_" + runtime.random.token(bytes: 32) }
}
