import Foundation

/// A sensitive scope: granted only when the session's `acr` is at least `acr` and it authenticated at most
/// `maxAge` seconds ago.
public struct StepUpRule: Sendable, Equatable, Codable {
    public var scope: String
    public var acr: AuthenticationLevel
    public var maxAge: Int

    public init(scope: String, acr: AuthenticationLevel, maxAge: Int) {
        self.scope = scope
        self.acr = acr
        self.maxAge = maxAge
    }

    enum CodingKeys: String, CodingKey {
        case scope, acr
        case maxAge = "max_age"
    }

    init(validating body: JSONObjectReader) throws {
        try body.rejectUnknown(["scope", "acr", "max_age"])
        let scope = try body.requiredString("scope")
        guard Scope.isValidToken(scope) else { throw AdminError.invalidField(body.name("scope"), "is not a valid scope") }
        guard let acrText = try body.string("acr") else { throw AdminError.invalidField(body.name("acr"), "is required") }
        guard let acr = AuthenticationLevel(rawValue: acrText) else {
            throw AdminError.invalidField(body.name("acr"), "must be one of pwd, mfa")
        }
        guard let maxAge = try body.integer("max_age", in: 1...TenantPolicy.maxDuration) else {
            throw AdminError.invalidField(body.name("max_age"), "is required")
        }
        self.init(scope: scope, acr: acr, maxAge: maxAge)
    }
}
