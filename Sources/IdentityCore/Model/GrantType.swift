import Foundation

/// The grant types of the token endpoint.
public enum GrantType: String, Sendable, Codable, CaseIterable {
    case password
    case clientCredentials = "client_credentials"
    case refreshToken = "refresh_token"
    case authorizationCode = "authorization_code"
}
