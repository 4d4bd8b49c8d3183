import Foundation

/// Seals again, with their context, the secrets sealed before contexts existed (signing keys, TOTP seeds),
/// then records that it is done: from then on a value sealed without a context is refused (one moved from
/// another row could otherwise still open). Safe on every start and on several nodes at once.
public enum SealedSecretMigration {
    static let setting = "sealed_secrets_with_context"

    /// Whether the migration has run (values without a context are then refused).
    public static func isDone(_ store: any SettingsStore) async throws -> Bool {
        try await store.setting(setting) == "1"
    }

    /// Seals every legacy value again; returns how many.
    @discardableResult
    public static func run(_ store: any TenantStore & KeyStore & UserStore & SettingsStore, box: SecretBox, now: Date) async throws -> Int {
        guard try await !isDone(store) else { return 0 }
        let legacy = box.accepting(legacy: true)
        var count = 0
        for tenant in try await store.tenants() {
            var keys: [SigningKey] = []
            for var key in try await store.signingKeys(tenantID: tenant.id) where SecretBox.isLegacy(key.sealedPrivateKey) {
                let context = SealContext.signingKey(tenantID: tenant.id, kid: key.kid)
                guard let plaintext = try? legacy.open(key.sealedPrivateKey, context: context) else { continue }
                key.sealedPrivateKey = try legacy.seal(plaintext, context: context)
                keys.append(key)
            }
            if !keys.isEmpty { try await store.saveSigningKeys(keys) }
            count += keys.count
            for var user in try await store.users(tenantID: tenant.id) {
                guard let sealed = user.sealedTOTPSecret, SecretBox.isLegacy(sealed) else { continue }
                let context = SealContext.totp(tenantID: tenant.id, userID: user.id)
                guard let plaintext = try? legacy.open(sealed, context: context) else { continue }
                user.sealedTOTPSecret = try legacy.seal(plaintext, context: context)
                user.updatedAt = now
                _ = try await store.updateUser(user)
                count += 1
            }
        }
        try await store.replaceSetting(setting, value: "1")
        return count
    }
}
