import Foundation

/// The admin API's operations (DESIGN.md "Admin API"): takes typed inputs, enforces who may do what,
/// validates values naming the bad field, and returns views. The HTTP layer decodes and renders; the
/// operations are split by resource (`Administration+Clients.swift`, ...).
public struct Administration: Sendable {
    public let runtime: IdentityRuntime
    /// The SHA-256 of the operator key; nil when no key may act as the operator (the command line acts as
    /// the operator without one).
    private let operatorKeyDigest: [UInt8]?

    public init(runtime: IdentityRuntime, operatorKey: String?) {
        self.runtime = runtime
        self.operatorKeyDigest = operatorKey.map { Array(TokenDigest.hex($0).utf8) }
    }

    var store: any IdentityStore { runtime.store }
    var now: Date { runtime.clock.now() }

    /// The principal a bearer key stands for; `unauthorized` when it is none, `forbidden` for the admin key
    /// of a suspended tenant (only the operator manages a suspended tenant).
    public func principal(bearer: String?) async throws -> AdminPrincipal {
        guard let bearer, !bearer.isEmpty, bearer.utf8.count <= 512 else { throw AdminError.unauthorized }
        let digest = TokenDigest.hex(bearer)
        if let operatorKeyDigest, ConstantTime.equal(Array(digest.utf8), operatorKeyDigest) { return .operator }
        guard let tenantID = try await store.tenantID(adminKeyHash: digest) else { throw AdminError.unauthorized }
        guard try await store.tenant(id: tenantID)?.status == .active else { throw AdminError.forbidden }
        return .tenant(tenantID)
    }

    /// Fails unless `principal` may manage `tenantID`, and returns the tenant.
    func authorize(_ principal: AdminPrincipal, _ tenantID: String) async throws -> Tenant {
        if case .tenant(let own) = principal, own != tenantID { throw AdminError.forbidden }
        guard Tenant.isValidID(tenantID) else { throw AdminError.notFound("tenant") }
        guard let tenant = try await store.tenant(id: tenantID) else { throw AdminError.notFound("tenant") }
        return tenant
    }

    func requireOperator(_ principal: AdminPrincipal) throws {
        guard principal == .operator else { throw AdminError.forbidden }
    }

    func record(_ tenantID: String, _ kind: AuditEvent.Kind, user: String? = nil, client: String? = nil, detail: String? = nil) {
        runtime.audit.record(kind, tenantID: tenantID, at: now, user: user, client: client, detail: detail)
    }

    func validName(_ name: String, field: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AdminError.invalidField(field, "must be 1 to 200 printable characters")
        }
        return trimmed
    }
}
