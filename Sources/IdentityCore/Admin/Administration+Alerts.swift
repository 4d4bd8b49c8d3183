import Foundation

extension Administration {
    /// A new secret for the tenant's alert webhooks (`X-Identityd-Signature`), replacing the old one at once;
    /// shown once, kept sealed under the master key.
    public func rotateAlertSecret(_ tenantID: String, by principal: AdminPrincipal) async throws -> AdminView.AlertSecret {
        _ = try await authorize(principal, tenantID)
        guard try await store.tenant(id: tenantID) != nil else { throw AdminError.notFound("tenant") }
        let secret = "whsec_" + runtime.random.token(bytes: 32)
        try await store.replaceSetting(WebhookDispatcher.secretSetting(tenantID),
                                       value: try runtime.box.seal(Array(secret.utf8), context: SealContext.alertSecret(tenantID: tenantID)))
        record(tenantID, .policyChanged, detail: "alert_secret_rotated")
        return AdminView.AlertSecret(secret: secret, createdAt: now)
    }
}
