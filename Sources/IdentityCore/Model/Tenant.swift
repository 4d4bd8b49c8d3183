import Foundation

/// A B2B customer: its own issuer, keys, policy, clients and users. Everything stored is keyed by tenant.
public struct Tenant: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable { case active, suspended }

    /// A slug `[a-z0-9-]{3,40}`, part of the issuer URL.
    public var id: String
    public var name: String
    public var status: Status
    public var policy: TenantPolicy
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, status: Status = .active, policy: TenantPolicy = .init(), createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.status = status
        self.policy = policy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether `id` is a valid tenant slug.
    public static func isValidID(_ id: String) -> Bool {
        (3...40).contains(id.utf8.count) && id.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}
