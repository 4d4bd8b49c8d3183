import Foundation
import IdentityCore
import MemoryStore
import SQLiteStore
import Testing

/// Every store plugin the conformance suite runs against. Each test gets a fresh, empty store.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    func make() async throws -> any IdentityStore {
        let store: any IdentityStore
        switch self {
        case .memory:
            store = MemoryStore()
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("identityd-conformance-\(UUID().uuidString).db").path
            store = try await SQLiteStore.open(path: path)
        }
        try await store.migrate()
        try await store.migrate()  // migrations are idempotent
        return store
    }
}

/// Builders for the records the suite stores.
enum Fixture {
    static let t0 = Date(millisecondsSince1970: 1_800_000_000_000)

    static func tenant(_ id: String = "acme") -> Tenant {
        var policy = TenantPolicy()
        policy.stepUp = [StepUpRule(scope: "payments", acr: .mfa, maxAge: 300)]
        return Tenant(id: id, name: "Tenant \(id)", policy: policy, createdAt: t0, updatedAt: t0)
    }

    static func key(_ tenant: String = "acme", kid: String, state: SigningKey.State, at offset: TimeInterval = 0) -> SigningKey {
        SigningKey(tenantID: tenant, kid: kid, algorithm: .es256, state: state, publicJWK: #"{"kid":"\#(kid)"}"#, sealedPrivateKey: "sealed-\(kid)",
                   createdAt: t0 + offset, activatedAt: state == .active ? t0 + offset : nil)
    }

    static func client(_ tenant: String = "acme", id: String = "web") -> Client {
        Client(tenantID: tenant, id: id, name: "Web", kind: .confidential, secretHash: "$scrypt$x", grantTypes: [.password, .refreshToken],
               redirectURIs: ["https://app.test/cb"], scopes: ["openid", "api"], createdAt: t0, updatedAt: t0)
    }

    static func user(_ tenant: String = "acme", id: String = "usr_1", username: String = "alice") -> User {
        User(tenantID: tenant, id: id, username: username, email: "\(username)@example.com", passwordHash: "$scrypt$y",
             sealedTOTPSecret: nil, createdAt: t0, updatedAt: t0)
    }

    static func session(_ tenant: String = "acme", id: String = "sid_1", user: String = "usr_1", client: String = "web",
                        idle: TimeInterval = 100, absolute: TimeInterval = 1000) -> Session {
        Session(tenantID: tenant, id: id, userID: user, clientID: client, scopes: ["openid", "api"], acr: .mfa, amr: ["pwd", "otp", "mfa"],
                authTime: t0, createdAt: t0, lastUsedAt: t0, idleExpiresAt: t0 + idle, absoluteExpiresAt: t0 + absolute,
                accessExpiresAt: t0 + 60, dpopJKT: "jkt", ip: "127.0.0.1", userAgent: "curl/8")
    }

    static func token(_ tenant: String = "acme", key: String, session: String = "sid_1", client: String = "web", parent: String? = nil,
                      at offset: TimeInterval = 0) -> RefreshTokenRecord {
        RefreshTokenRecord(tenantID: tenant, lookupKey: key, sessionID: session, clientID: client, createdAt: t0 + offset, parentKey: parent)
    }

    static func rotation(of key: String, to successor: String?, at offset: TimeInterval, expect: RefreshTokenRecord.State = .active,
                         leave: RefreshTokenRecord.State = .rotated, session: String = "sid_1", tenant: String = "acme") -> RefreshWrite {
        RefreshWrite(tenantID: tenant, presentedKey: key, expectedState: expect, newState: leave, now: t0 + offset,
                     successor: successor.map { token(tenant, key: $0, session: session, parent: key, at: offset) }, sessionID: session,
                     lastUsedAt: t0 + offset, idleExpiresAt: t0 + offset + 100, accessExpiresAt: t0 + offset + 60)
    }
}
