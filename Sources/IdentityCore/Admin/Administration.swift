import Foundation

/// Who is calling the admin API.
public enum AdminPrincipal: Sendable, Equatable {
    /// The operator key: every tenant.
    case `operator`
    /// A tenant admin key: that tenant only.
    case tenant(String)
}

/// The admin API's operations (DESIGN.md "Admin API"). Takes parsed JSON, enforces who may do what, validates
/// naming the bad field, and returns views; the HTTP layer only routes and renders.
public struct Administration: Sendable {
    public let runtime: IdentityRuntime
    private let operatorKeyDigest: [UInt8]

    public init(runtime: IdentityRuntime, operatorKey: String) {
        self.runtime = runtime
        self.operatorKeyDigest = Array(TokenDigest.hex(operatorKey).utf8)
    }

    var store: any IdentityStore { runtime.store }
    var now: Date { runtime.clock.now() }

    /// The principal a bearer key stands for; `unauthorized` when it is none.
    public func principal(bearer: String?) async throws -> AdminPrincipal {
        guard let bearer, !bearer.isEmpty, bearer.utf8.count <= 512 else { throw AdminError.unauthorized }
        let digest = TokenDigest.hex(bearer)
        if ConstantTime.equal(Array(digest.utf8), operatorKeyDigest) { return .operator }
        guard let tenantID = try await store.tenantID(adminKeyHash: digest) else { throw AdminError.unauthorized }
        return .tenant(tenantID)
    }

    /// Fails unless `principal` may manage `tenantID`, and returns the tenant.
    func authorize(_ principal: AdminPrincipal, _ tenantID: String) async throws -> Tenant {
        if case .tenant(let own) = principal, own != tenantID { throw AdminError.forbidden }
        guard let tenant = try await store.tenant(id: tenantID) else { throw AdminError.notFound("tenant") }
        return tenant
    }

    func requireOperator(_ principal: AdminPrincipal) throws {
        guard principal == .operator else { throw AdminError.forbidden }
    }

    func record(_ tenantID: String, _ kind: AuditEvent.Kind, user: String? = nil, client: String? = nil, detail: String? = nil) {
        runtime.audit.record(AuditEvent(tenantID: tenantID, kind: kind, time: now, userID: user, clientID: client, detail: detail))
    }

    // MARK: tenants

    /// `POST /tenants`: the tenant with its first keys, and its admin key (shown this once).
    public func createTenant(_ body: JSONValue, by principal: AdminPrincipal) async throws -> AdminView.CreatedTenant {
        try requireOperator(principal)
        let reader = try JSONObjectReader(body)
        try reader.rejectUnknown(["id", "name", "policy"])
        let id = try reader.requiredString("id")
        guard Tenant.isValidID(id) else { throw AdminError.invalidField("id", "must match [a-z0-9-]{3,40}") }
        let name = try validName(reader.requiredString("name"), field: "name")
        let policy = try reader.fields["policy"].map { try TenantPolicy(validating: $0) } ?? TenantPolicy()
        let now = self.now
        let tenant = Tenant(id: id, name: name, policy: policy, createdAt: now, updatedAt: now)
        let adminKey = "tak_" + runtime.random.token(bytes: 32)
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
    public func updateTenant(_ id: String, _ body: JSONValue, by principal: AdminPrincipal) async throws -> AdminView.TenantView {
        var tenant = try await authorize(principal, id)
        let reader = try JSONObjectReader(body)
        try reader.rejectUnknown(["name", "status"])
        if let name = try reader.string("name") { tenant.name = try validName(name, field: "name") }
        if let status = try reader.string("status") {
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

    // MARK: policy

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

    // MARK: keys

    public func keys(_ id: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.KeyView> {
        _ = try await authorize(principal, id)
        let now = self.now
        return .init(items: try await store.signingKeys(tenantID: id).map { AdminView.KeyView($0, now: now) })
    }

    /// `POST /tenants/{t}/keys/rotate` with optional `{alg}`: promotes the pending key (already published),
    /// retires the active one (kept in the JWKS while tokens it signed may live), and publishes a new pending
    /// key. An `alg` other than the policy's becomes the policy's `signing_alg`.
    public func rotateKeys(_ id: String, _ body: JSONValue?, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.KeyView> {
        var tenant = try await authorize(principal, id)
        var algorithm = tenant.policy.signingAlg
        if let body {
            let reader = try JSONObjectReader(body)
            try reader.rejectUnknown(["alg"])
            if let alg = try reader.string("alg") {
                guard let value = SigningAlgorithm(rawValue: alg) else { throw AdminError.invalidField("alg", "must be one of ES256, EdDSA, RS256") }
                algorithm = value
            }
        }
        if algorithm != tenant.policy.signingAlg {
            tenant.policy.signingAlg = algorithm
            tenant.updatedAt = now
            _ = try await store.updateTenant(tenant)
            record(id, .policyChanged, detail: "signing_alg=\(algorithm.rawValue)")
        }
        try await rotateKeys(of: tenant, to: algorithm)
        await runtime.invalidate(tenant: id)
        return try await keys(id, by: principal)
    }

    private func rotateKeys(of tenant: Tenant, to algorithm: SigningAlgorithm) async throws {
        let now = self.now, id = tenant.id
        let existing = try await store.signingKeys(tenantID: id)
        var changed: [SigningKey] = []
        let prepared = existing.first { $0.state == .pending && $0.algorithm == algorithm }
        for var key in existing where key.state != .retired && key.kid != prepared?.kid {
            key.state = .retired
            key.retiredAt = now
            // An active key may have signed tokens that are still alive; a pending one never signed anything.
            key.verifyUntil = key.activatedAt == nil ? now : now.addingTimeInterval(TimeInterval(tenant.policy.keyVerificationWindow))
            changed.append(key)
        }
        var promoted = try prepared ?? runtime.keys.make(algorithm, tenantID: id, state: .active, now: now)
        promoted.state = .active
        promoted.activatedAt = now
        changed.append(promoted)
        changed.append(try runtime.keys.make(algorithm, tenantID: id, state: .pending, now: now))
        try await store.saveSigningKeys(changed)
        record(id, .keyRotated, detail: "kid=\(promoted.kid) alg=\(algorithm.rawValue) prepublished=\(prepared != nil)")
    }

    // MARK: helpers

    func validName(_ name: String, field: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AdminError.invalidField(field, "must be 1 to 200 printable characters")
        }
        return trimmed
    }
}
