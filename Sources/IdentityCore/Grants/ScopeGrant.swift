import Foundation

/// Which scopes a token may carry (DESIGN.md "Step-up on sensitive scopes"). Pure: the grants record the
/// step-up event and refuse.
public enum ScopeGrant {
    public enum Outcome: Sendable, Equatable {
        case granted([String])
        /// A requested sensitive scope whose rule the authentication does not meet.
        case stepUpRequired(StepUpRule)
    }

    /// Explicitly requested scopes must be among `allowed` (else `invalid_scope`), and a requested sensitive
    /// scope must have its rule met; when nothing is requested, `allowed` minus the sensitive scopes whose
    /// rule is not met is granted quietly.
    public static func resolve(requested: [String]?, allowed: [String], level: AuthenticationLevel, authTime: Date, now: Date,
                               policy: TenantPolicy) throws -> Outcome {
        func unmet(_ scope: String) -> StepUpRule? {
            guard let rule = policy.stepUpRule(for: scope) else { return nil }
            return level >= rule.acr && now.timeIntervalSince(authTime) <= TimeInterval(rule.maxAge) ? nil : rule
        }
        guard let requested else { return .granted(allowed.filter { unmet($0) == nil }) }
        guard requested.allSatisfy(allowed.contains) else { throw OAuthError.invalidScope(description: "scope not allowed") }
        if let rule = requested.lazy.compactMap(unmet).first { return .stepUpRequired(rule) }
        return .granted(requested)
    }
}

/// Turns a step-up outcome into scopes, or into the `step_up_required` event and
/// `insufficient_user_authentication` (RFC 9470).
struct StepUpGate: Sendable {
    let audit: AuditLog
    let clock: any IdentityClock

    func scopes(_ outcome: ScopeGrant.Outcome, tenantID: String, origin: RequestOrigin, user: String, client: String,
                session: String? = nil) throws -> [String] {
        switch outcome {
        case .granted(let scopes):
            return scopes
        case .stepUpRequired(let rule):
            audit.record(.stepUpRequired, tenantID: tenantID, at: clock.now(), origin: origin, user: user, client: client, session: session,
                         detail: "scope=\(rule.scope)")
            throw OAuthError.insufficientUserAuthentication(acr: rule.acr.rawValue, maxAge: rule.maxAge)
        }
    }
}
