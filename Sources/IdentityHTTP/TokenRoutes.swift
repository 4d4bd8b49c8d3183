import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore

/// The per-tenant OAuth 2.0 / OpenID Connect endpoints under `/t/{tenant}`. Thin: parse, call the core, render.
struct TokenRoutes: Sendable {
    let runtime: IdentityRuntime
    let trustForwardedFor: Bool

    func register(on router: Router<IdentityRequestContext>) {
        let tenant = router.group("t/:tenant")
        tenant.get(".well-known/openid-configuration") { _, context in await self.discovery(context) }
        tenant.get(".well-known/oauth-authorization-server") { _, context in await self.discovery(context) }
        tenant.get("jwks") { _, context in await self.jwks(context) }
        tenant.post("oauth/token") { request, context in await self.token(request, context) }
        tenant.post("oauth/revoke") { request, context in await self.revoke(request, context) }
        tenant.post("oauth/introspect") { request, context in await self.introspect(request, context) }
        tenant.post("oauth/logout") { request, context in await self.logout(request, context) }
        tenant.get("userinfo") { request, context in await self.userInfo(request, context) }
        tenant.post("userinfo") { request, context in await self.userInfo(request, context) }
    }

    private func tenantID(_ context: IdentityRequestContext) -> String { context.parameters.get("tenant") ?? "" }

    /// The tenant's context for a public document; 404 for an unknown tenant.
    private func publicContext(_ context: IdentityRequestContext) async throws -> TenantContext {
        let id = tenantID(context)
        guard Tenant.isValidID(id), let tenant = try await runtime.directory.context(for: id) else { throw AdminError.notFound("tenant") }
        return tenant
    }

    private func discovery(_ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.admin, logger: context.logger) {
            let tenant = try await publicContext(context)
            return try Rendering.json(Discovery.document(issuer: tenant.issuer, policy: tenant.policy), encoder: Rendering.jsonEncoder)
        }
    }

    private func jwks(_ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.admin, logger: context.logger) {
            let tenant = try await publicContext(context)
            var response = Rendering.body(Array(tenant.keyring.jwksJSON.utf8))
            response.headers[.contentType] = "application/jwk-set+json"
            response.headers[.cacheControl] = "public, max-age=60"
            response.headers[HTTPField.Name.pragma] = nil
            return response
        }
    }

    private func token(_ request: Request, _ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.oauth, logger: context.logger) {
            let form = try await FormBody.parameters(of: request)
            let credentials = try FormBody.clientCredentials(request, form: form)
            var parameters = form
            parameters["client_secret"] = nil
            let tokenRequest = TokenRequest(parameters: parameters, client: credentials, origin: context.origin(request, trustForwardedFor: trustForwardedFor))
            let response = try await runtime.token(tenantID: tenantID(context), request: tokenRequest)
            return Rendering.body(response.json)
        }
    }

    private func revoke(_ request: Request, _ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.oauth, logger: context.logger) {
            let form = try await FormBody.parameters(of: request)
            try await runtime.revoke(tenantID: tenantID(context), token: form["token"], client: try FormBody.clientCredentials(request, form: form),
                                     origin: context.origin(request, trustForwardedFor: trustForwardedFor))
            return Rendering.empty()
        }
    }

    private func introspect(_ request: Request, _ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.oauth, logger: context.logger) {
            let form = try await FormBody.parameters(of: request)
            let answer = try await runtime.introspect(tenantID: tenantID(context), token: form["token"],
                                                      client: try FormBody.clientCredentials(request, form: form),
                                                      origin: context.origin(request, trustForwardedFor: trustForwardedFor))
            return try Rendering.json(answer)
        }
    }

    private func logout(_ request: Request, _ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.oauth, logger: context.logger) {
            let form = try await FormBody.parameters(of: request)
            try await runtime.logout(tenantID: tenantID(context), refreshToken: form["refresh_token"],
                                     client: try FormBody.clientCredentials(request, form: form),
                                     origin: context.origin(request, trustForwardedFor: trustForwardedFor))
            return Rendering.empty()
        }
    }

    private func userInfo(_ request: Request, _ context: IdentityRequestContext) async -> Response {
        await Rendering.guarded(.oauth, logger: context.logger) {
            var token: String?
            if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
                token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            }
            return try Rendering.json(try await runtime.userInfo(tenantID: tenantID(context), accessToken: token))
        }
    }
}

/// The discovery document (OIDC Discovery 1.0 and RFC 8414; the same content at both addresses).
enum Discovery {
    struct Document: Encodable {
        var issuer: String
        var tokenEndpoint: String
        var jwksURI: String
        var revocationEndpoint: String
        var introspectionEndpoint: String
        var userinfoEndpoint: String
        var endSessionEndpoint: String
        var grantTypesSupported: [String]
        var responseTypesSupported: [String]
        var scopesSupported: [String]
        var subjectTypesSupported: [String]
        var tokenEndpointAuthMethodsSupported: [String]
        var revocationEndpointAuthMethodsSupported: [String]
        var introspectionEndpointAuthMethodsSupported: [String]
        var idTokenSigningAlgValuesSupported: [String]
        var tokenEndpointAuthSigningAlgValuesSupported: [String]?
        var acrValuesSupported: [String]
        var claimsSupported: [String]

        enum CodingKeys: String, CodingKey {
            case issuer
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
            case revocationEndpoint = "revocation_endpoint"
            case introspectionEndpoint = "introspection_endpoint"
            case userinfoEndpoint = "userinfo_endpoint"
            case endSessionEndpoint = "end_session_endpoint"
            case grantTypesSupported = "grant_types_supported"
            case responseTypesSupported = "response_types_supported"
            case scopesSupported = "scopes_supported"
            case subjectTypesSupported = "subject_types_supported"
            case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
            case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
            case introspectionEndpointAuthMethodsSupported = "introspection_endpoint_auth_methods_supported"
            case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
            case tokenEndpointAuthSigningAlgValuesSupported = "token_endpoint_auth_signing_alg_values_supported"
            case acrValuesSupported = "acr_values_supported"
            case claimsSupported = "claims_supported"
        }
    }

    static func document(issuer: String, policy: TenantPolicy) -> Document {
        let authMethods = ["client_secret_basic", "client_secret_post", "none"]
        return Document(
            issuer: issuer, tokenEndpoint: issuer + "/oauth/token", jwksURI: issuer + "/jwks",
            revocationEndpoint: issuer + "/oauth/revoke", introspectionEndpoint: issuer + "/oauth/introspect",
            userinfoEndpoint: issuer + "/userinfo", endSessionEndpoint: issuer + "/oauth/logout",
            grantTypesSupported: ["password", "client_credentials", "refresh_token"],
            responseTypesSupported: [], scopesSupported: ["openid", "profile", "email"] + policy.stepUp.map(\.scope),
            subjectTypesSupported: ["public"], tokenEndpointAuthMethodsSupported: authMethods,
            revocationEndpointAuthMethodsSupported: authMethods, introspectionEndpointAuthMethodsSupported: authMethods,
            idTokenSigningAlgValuesSupported: SigningAlgorithm.allCases.map(\.rawValue), tokenEndpointAuthSigningAlgValuesSupported: nil,
            acrValuesSupported: AuthenticationLevel.allCases.map(\.rawValue),
            claimsSupported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "sid", "preferred_username", "email"])
    }
}
