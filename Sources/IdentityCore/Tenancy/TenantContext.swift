import Foundation

/// A tenant as the token endpoints need it: its record, policy and loaded keys.
public struct TenantContext: Sendable {
    public let tenant: Tenant
    public let keyring: TenantKeyring
    /// `{public URL}/t/{id}`.
    public let issuer: String
    public var policy: TenantPolicy { tenant.policy }
}
