import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore

/// The per-tenant OAuth 2.0 / OpenID Connect endpoints under `/t/{tenant}`. Thin: parse, call the core,
/// render; errors are rendered as RFC 6749 JSON by the group's middleware.
struct TokenRoutes: Sendable {
    let runtime: IdentityRuntime

    func register(on router: Router<IdentityRequestContext>) {
        let documents = router.group("t/:tenant")
            .add(middleware: ErrorRenderingMiddleware<IdentityRequestContext, AdminErrorResponse>())
        documents.get(".well-known/openid-configuration") { _, context in try await self.discovery(context) }
        documents.get(".well-known/oauth-authorization-server") { _, context in try await self.discovery(context) }
        documents.get("jwks") { _, context in try await self.jwks(context) }

        // What a public client in a browser calls, with CORS around the error rendering (errors are readable too).
        let crossOrigin = router.group("t/:tenant")
            .add(middleware: CrossOriginMiddleware(directory: runtime.directory))
            .add(middleware: ErrorRenderingMiddleware<IdentityRequestContext, OAuthErrorResponse>())
        crossOrigin.post("oauth/token") { request, context in try await self.token(request, context) }
        crossOrigin.post("oauth/revoke") { request, context in try await self.revoke(request, context) }
        let resource = router.group("t/:tenant")
            .add(middleware: CrossOriginMiddleware(directory: runtime.directory))
            .add(middleware: ErrorRenderingMiddleware<IdentityRequestContext, ResourceErrorResponse>())
        resource.get("userinfo") { request, context in try await self.userInfo(request, context) }
        resource.post("userinfo") { request, context in try await self.userInfo(request, context) }
        for path in ["oauth/token", "oauth/revoke", "userinfo"] {
            // Answered by the middleware; what reaches here is a plain OPTIONS without an Origin.
            crossOrigin.on(RouterPath(path), method: .options) { _, _ in Response(status: .noContent, headers: [.allow: "GET, POST, OPTIONS"]) }
        }

        let oauth = router.group("t/:tenant")
            .add(middleware: ErrorRenderingMiddleware<IdentityRequestContext, OAuthErrorResponse>())
        oauth.post("oauth/introspect") { request, context in try await self.introspect(request, context) }
        oauth.post("oauth/logout") { request, context in try await self.logout(request, context) }
        oauth.post("oauth/par") { request, context in try await self.pushAuthorizationRequest(request, context) }
    }

    private func tenantID(_ context: IdentityRequestContext) -> String { context.parameters.get("tenant") ?? "" }

    /// The tenant's context for a public document; 404 for an unknown tenant.
    private func publicContext(_ context: IdentityRequestContext) async throws -> TenantContext {
        let id = tenantID(context)
        guard Tenant.isValidID(id), let tenant = try await runtime.directory.context(for: id) else { throw AdminError.notFound("tenant") }
        return tenant
    }

    private func discovery(_ context: IdentityRequestContext) async throws -> Response {
        let tenant = try await publicContext(context)
        return try Responses.json(DiscoveryDocument.document(issuer: tenant.issuer, policy: tenant.policy))
    }

    private func jwks(_ context: IdentityRequestContext) async throws -> Response {
        let tenant = try await publicContext(context)
        var response = Responses.body(Array(tenant.keyring.jwksJSON.utf8))
        response.headers[.contentType] = "application/jwk-set+json"
        response.headers[.cacheControl] = "public, max-age=60"
        response.headers[.pragma] = nil
        return response
    }

    private func token(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        let form = try await FormBody.parameters(of: request)
        let credentials = try FormBody.clientCredentials(request, form: form)
        var parameters = form
        parameters["client_secret"] = nil
        let tokenRequest = TokenRequest(parameters: parameters, client: credentials, origin: context.origin,
                                        dpop: evidence(request, context, path: "/oauth/token"))
        let response = try await runtime.tokenEndpoint.respond(tenantID: tenantID(context), request: tokenRequest)
        return Responses.body(response.json, extraHeaders: response.dpopNonce.map { [.dpopNonce: $0] } ?? [:])
    }

    private func revoke(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        let form = try await FormBody.parameters(of: request)
        try await runtime.revocation.revoke(tenantID: tenantID(context), token: form["token"],
                                            client: try FormBody.clientCredentials(request, form: form),
                                            dpop: evidence(request, context, path: "/oauth/revoke"), origin: context.origin)
        return Responses.empty()
    }

    private func introspect(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        let form = try await FormBody.parameters(of: request)
        let answer = try await runtime.introspection.introspect(tenantID: tenantID(context), token: form["token"],
                                                                client: try FormBody.clientCredentials(request, form: form), origin: context.origin)
        return try Responses.json(answer)
    }

    private func logout(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        let form = try await FormBody.parameters(of: request)
        try await runtime.logout.logout(tenantID: tenantID(context), refreshToken: form["refresh_token"],
                                        client: try FormBody.clientCredentials(request, form: form), origin: context.origin)
        return Responses.empty()
    }

    /// RFC 9126 §2.2: 201 with the `request_uri`.
    private func pushAuthorizationRequest(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        let form = try await FormBody.parameters(of: request)
        let credentials = try FormBody.clientCredentials(request, form: form)
        let pushed = try await runtime.pushedAuthorization.push(tenantID: tenantID(context), parameters: form, client: credentials,
                                                                dpop: evidence(request, context, path: "/oauth/par"), origin: context.origin)
        let body: [String: JSONValue] = ["request_uri": .string(pushed.requestURI), "expires_in": .number(Double(pushed.expiresIn))]
        return try Responses.json(JSONValue.object(body), status: .created)
    }

    private func userInfo(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        try Responses.json(try await runtime.userInfo.userInfo(tenantID: tenantID(context), presented: request.headers.accessToken,
                                                               dpop: evidence(request, context, path: "/userinfo"), origin: context.origin))
    }

    /// The request's `DPoP` headers with its method and the endpoint's URL under the public URL (never the
    /// `Host` header: the proof names the URL the client was given); nil without any.
    private func evidence(_ request: Request, _ context: IdentityRequestContext, path: String) -> DPoPGate.Evidence? {
        let proofs = request.headers[values: .dpop]
        guard !proofs.isEmpty else { return nil }
        return DPoPGate.Evidence(proofs: proofs, method: request.method.rawValue, url: runtime.directory.issuer(of: tenantID(context)) + path)
    }
}
