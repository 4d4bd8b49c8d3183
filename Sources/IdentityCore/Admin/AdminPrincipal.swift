import Foundation

/// Who is calling the admin API.
public enum AdminPrincipal: Sendable, Equatable {
    /// The operator key: every tenant.
    case `operator`
    /// A tenant admin key: that tenant only.
    case tenant(String)
}
