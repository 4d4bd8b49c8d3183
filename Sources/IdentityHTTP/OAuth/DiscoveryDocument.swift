import Foundation
import IdentityCore

/// The discovery document (OIDC Discovery 1.0 and RFC 8414; the same content at both addresses).
enum DiscoveryDocument {
    struct Document: Encodable {
        var issuer: String
        var authorizationEndpoint: String
        var pushedAuthorizationRequestEndpoint: String
        var requirePushedAuthorizationRequests: Bool
        var tokenEndpoint: String
        var jwksURI: String
        var revocationEndpoint: String
        var introspectionEndpoint: String
        var userinfoEndpoint: String
        var endSessionEndpoint: String
        var grantTypesSupported: [String]
        var responseTypesSupported: [String]
        var responseModesSupported: [String]
        var codeChallengeMethodsSupported: [String]
        var authorizationResponseIssParameterSupported: Bool
        var promptValuesSupported: [String]
        var claimsParameterSupported: Bool
        var requestParameterSupported: Bool
        var requestURIParameterSupported: Bool
        var scopesSupported: [String]
        var subjectTypesSupported: [String]
        var tokenEndpointAuthMethodsSupported: [String]
        var revocationEndpointAuthMethodsSupported: [String]
        var introspectionEndpointAuthMethodsSupported: [String]
        var idTokenSigningAlgValuesSupported: [String]
        var tokenEndpointAuthSigningAlgValuesSupported: [String]?
        var dpopSigningAlgValuesSupported: [String]
        var acrValuesSupported: [String]
        var claimsSupported: [String]

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case pushedAuthorizationRequestEndpoint = "pushed_authorization_request_endpoint"
            case requirePushedAuthorizationRequests = "require_pushed_authorization_requests"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
            case revocationEndpoint = "revocation_endpoint"
            case introspectionEndpoint = "introspection_endpoint"
            case userinfoEndpoint = "userinfo_endpoint"
            case endSessionEndpoint = "end_session_endpoint"
            case grantTypesSupported = "grant_types_supported"
            case responseTypesSupported = "response_types_supported"
            case responseModesSupported = "response_modes_supported"
            case codeChallengeMethodsSupported = "code_challenge_methods_supported"
            case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
            case promptValuesSupported = "prompt_values_supported"
            case claimsParameterSupported = "claims_parameter_supported"
            case requestParameterSupported = "request_parameter_supported"
            case requestURIParameterSupported = "request_uri_parameter_supported"
            case scopesSupported = "scopes_supported"
            case subjectTypesSupported = "subject_types_supported"
            case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
            case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
            case introspectionEndpointAuthMethodsSupported = "introspection_endpoint_auth_methods_supported"
            case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
            case tokenEndpointAuthSigningAlgValuesSupported = "token_endpoint_auth_signing_alg_values_supported"
            case dpopSigningAlgValuesSupported = "dpop_signing_alg_values_supported"
            case acrValuesSupported = "acr_values_supported"
            case claimsSupported = "claims_supported"
        }
    }

    static func document(issuer: String, policy: TenantPolicy) -> Document {
        let authMethods = ["client_secret_basic", "client_secret_post", "none"]
        return Document(
            issuer: issuer, authorizationEndpoint: issuer + "/oauth/authorize", pushedAuthorizationRequestEndpoint: issuer + "/oauth/par",
            requirePushedAuthorizationRequests: policy.requirePAR, tokenEndpoint: issuer + "/oauth/token", jwksURI: issuer + "/jwks",
            revocationEndpoint: issuer + "/oauth/revoke", introspectionEndpoint: issuer + "/oauth/introspect",
            userinfoEndpoint: issuer + "/userinfo", endSessionEndpoint: issuer + "/oauth/end_session",
            grantTypesSupported: ["authorization_code", "password", "client_credentials", "refresh_token"],
            responseTypesSupported: ["code"], responseModesSupported: ["query"], codeChallengeMethodsSupported: ["S256"],
            authorizationResponseIssParameterSupported: true, promptValuesSupported: AuthorizationRequest.Prompt.allCases.map(\.rawValue),
            claimsParameterSupported: false, requestParameterSupported: false, requestURIParameterSupported: true,
            scopesSupported: ["openid", "profile", "email", "offline_access"] + policy.stepUp.map(\.scope),
            subjectTypesSupported: ["public"], tokenEndpointAuthMethodsSupported: authMethods,
            revocationEndpointAuthMethodsSupported: authMethods, introspectionEndpointAuthMethodsSupported: authMethods,
            idTokenSigningAlgValuesSupported: SigningAlgorithm.allCases.map(\.rawValue), tokenEndpointAuthSigningAlgValuesSupported: nil,
            dpopSigningAlgValuesSupported: SigningAlgorithm.allCases.map(\.rawValue),
            acrValuesSupported: AuthenticationLevel.allCases.map(\.rawValue),
            claimsSupported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "sid", "nonce", "at_hash", "preferred_username", "email"])
    }
}
