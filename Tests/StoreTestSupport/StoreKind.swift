import Foundation
import IdentityCore
import MemoryStore
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing
import TestServices

/// Every store plugin the conformance suite runs against. Each test gets a fresh, empty store.
///
/// PostgreSQL runs when `IDENTITY_TEST_POSTGRES_URL` names a server (as `make test` arranges) and always
/// when `CI=true`: there a missing server fails the suite instead of skipping it.
public enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    public static var allCases: [StoreKind] {
        TestServers.postgresURL != nil || TestServers.isCI ? [.memory, .sqlite, .postgres] : [.memory, .sqlite]
    }

    public func make() async throws -> any IdentityStore {
        let store: any IdentityStore
        switch self {
        case .memory:
            store = MemoryStore()
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("identityd-conformance-\(UUID().uuidString).db").path
            store = try await SQLiteStore.open(path: path)
        case .postgres:
            // 8 connections (not the default 16, all opened at start): the suites run in parallel, and every
            // connection counts against the cluster's max_connections.
            store = try PostgresStore.connect(url: try TestPostgres.freshDatabase() + "?pool_size=8")
        }
        try await store.migrate()
        try await store.migrate()  // migrations are idempotent
        return store
    }
}

/// Builders for the records the suite stores.
public enum Fixture {
    public static let t0 = Date(millisecondsSince1970: 1_800_000_000_000)

    public static func tenant(_ id: String = "acme") -> Tenant {
        var policy = TenantPolicy()
        policy.stepUp = [StepUpRule(scope: "payments", acr: .mfa, maxAge: 300)]
        return Tenant(id: id, name: "Tenant \(id)", policy: policy, createdAt: t0, updatedAt: t0)
    }

    public static func key(_ tenant: String = "acme", kid: String, state: SigningKey.State, at offset: TimeInterval = 0) -> SigningKey {
        SigningKey(tenantID: tenant, kid: kid, algorithm: .es256, state: state, publicJWK: #"{"kid":"\#(kid)"}"#, sealedPrivateKey: "sealed-\(kid)",
                   createdAt: t0 + offset, activatedAt: state == .active ? t0 + offset : nil)
    }

    public static func client(_ tenant: String = "acme", id: String = "web") -> Client {
        Client(tenantID: tenant, id: id, name: "Web", kind: .confidential, secretHash: "$scrypt$x", grantTypes: [.password, .refreshToken],
               redirectURIs: ["https://app.test/cb"], scopes: ["openid", "api"], createdAt: t0, updatedAt: t0)
    }

    public static func user(_ tenant: String = "acme", id: String = "usr_1", username: String = "alice") -> User {
        User(tenantID: tenant, id: id, username: username, email: "\(username)@example.com", passwordHash: "$scrypt$y",
             sealedTOTPSecret: nil, createdAt: t0, updatedAt: t0)
    }

    public static func session(_ tenant: String = "acme", id: String = "sid_1", user: String = "usr_1", client: String = "web",
                        idle: TimeInterval = 100, absolute: TimeInterval = 1000) -> Session {
        Session(tenantID: tenant, id: id, userID: user, clientID: client, scopes: ["openid", "api"], acr: .mfa, amr: ["pwd", "otp", "mfa"],
                authTime: t0, createdAt: t0, lastUsedAt: t0, idleExpiresAt: t0 + idle, absoluteExpiresAt: t0 + absolute,
                accessExpiresAt: t0 + 60, dpopJKT: "jkt", ip: "127.0.0.1", userAgent: "curl/8")
    }

    public static func token(_ tenant: String = "acme", key: String, session: String = "sid_1", client: String = "web", parent: String? = nil,
                      at offset: TimeInterval = 0) -> RefreshTokenRecord {
        RefreshTokenRecord(tenantID: tenant, lookupKey: key, sessionID: session, clientID: client, createdAt: t0 + offset, parentKey: parent)
    }

    public static func rotation(of key: String, to successor: String?, at offset: TimeInterval, expect: RefreshTokenRecord.State = .active,
                         leave: RefreshTokenRecord.State = .rotated, session: String = "sid_1", tenant: String = "acme") -> RefreshWrite {
        RefreshWrite(tenantID: tenant, presentedKey: key, expectedState: expect, newState: leave, now: t0 + offset,
                     successor: successor.map { token(tenant, key: $0, session: session, parent: key, at: offset) }, sessionID: session,
                     lastUsedAt: t0 + offset, idleExpiresAt: t0 + offset + 100, accessExpiresAt: t0 + offset + 60)
    }
}

/// The real servers `scripts/with-services.sh` started for this run.
public enum TestServers {
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    public static let postgresURL = ProcessInfo.processInfo.environment["IDENTITY_TEST_POSTGRES_URL"]

    /// Runs `body` with a client connected to `url`, then shuts the client down.
    public static func withPostgres<T: Sendable>(_ url: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let components = URLComponents(string: url)!
        let client = PostgresClient(configuration: .init(host: components.host!, port: components.port ?? 5432, username: components.user!,
                                                         password: components.password, database: String(components.path.dropFirst()),
                                                         tls: .disable), backgroundLogger: .init(label: "test"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

public struct TestServerMissing: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

extension EventStore {
    /// Appends the events in order, as a batch of their own.
    public func appendEvents(_ events: [AuditEvent]) async throws {
        try await appendEvents(events, batch: UUID().uuidString)
    }
}
