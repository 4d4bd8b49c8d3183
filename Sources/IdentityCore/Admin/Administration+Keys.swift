import Foundation

extension Administration {
    public func keys(_ id: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.KeyView> {
        _ = try await authorize(principal, id)
        let now = self.now
        return .init(items: try await store.signingKeys(tenantID: id).map { AdminView.KeyView($0, now: now) })
    }

    /// `POST /tenants/{t}/keys/rotate` with optional `{alg}`: promotes the pending key (already published),
    /// retires the active one (kept in the JWKS while tokens it signed may live), and publishes a new pending
    /// key. An `alg` other than the policy's becomes the policy's `signing_alg`.
    public func rotateKeys(_ id: String, _ input: AdminInput.KeyRotation, by principal: AdminPrincipal) async throws
        -> AdminView.List<AdminView.KeyView>
    {
        var tenant = try await authorize(principal, id)
        var algorithm = tenant.policy.signingAlg
        if let alg = input.alg {
            guard let value = SigningAlgorithm(rawValue: alg) else { throw AdminError.invalidField("alg", "must be one of ES256, EdDSA, RS256") }
            algorithm = value
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

    func rotateKeys(of tenant: Tenant, to algorithm: SigningAlgorithm) async throws {
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
}
