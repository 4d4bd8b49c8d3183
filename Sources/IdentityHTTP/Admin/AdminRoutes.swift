import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore

/// The admin API under `/admin/v1` (DESIGN.md "Admin API"; described in `docs/openapi.yaml`, served at
/// `/admin/v1/openapi.yaml`). The group authenticates the bearer key once (`AdminAuthenticationMiddleware`)
/// and renders errors as admin JSON; each route decodes its typed input and calls `Administration`.
struct AdminRoutes: Sendable {
    let admin: Administration
    let openAPI: [UInt8]

    func register(on router: Router<IdentityRequestContext>) {
        router.get("admin/v1/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: self.openAPI)))
        }
        let v1 = router.group("admin/v1", context: AdminRequestContext.self)
            .add(middleware: ErrorRenderingMiddleware<AdminRequestContext, AdminErrorResponse>())
            .add(middleware: AdminAuthenticationMiddleware(admin: admin))

        v1.post("tenants") { r, c in try created(await admin.createTenant(.init(json: try await body(r)), by: c.caller)) }
        v1.get("tenants") { _, c in try ok(await admin.listTenants(by: c.caller)) }
        v1.get("tenants/:t") { _, c in try ok(await admin.tenant(tenant(c), by: c.caller)) }
        v1.patch("tenants/:t") { r, c in try ok(await admin.updateTenant(tenant(c), .init(json: try await body(r)), by: c.caller)) }
        v1.delete("tenants/:t") { _, c in
            try await admin.deleteTenant(tenant(c), by: c.caller)
            return Responses.empty(status: .noContent)
        }
        v1.post("tenants/:t/admin-key/rotate") { _, c in try ok(await admin.rotateAdminKey(tenant(c), by: c.caller)) }
        v1.post("tenants/:t/alerts/secret") { _, c in try created(await admin.rotateAlertSecret(tenant(c), by: c.caller)) }
        v1.get("tenants/:t/policy") { _, c in try ok(await admin.policy(tenant(c), by: c.caller)) }
        v1.put("tenants/:t/policy") { r, c in try ok(await admin.replacePolicy(tenant(c), try await body(r), by: c.caller)) }
        v1.get("tenants/:t/keys") { _, c in try ok(await admin.keys(tenant(c), by: c.caller)) }
        v1.post("tenants/:t/keys/rotate") { r, c in
            try ok(await admin.rotateKeys(tenant(c), .init(json: try await optionalBody(r)), by: c.caller))
        }
        v1.post("tenants/:t/clients") { r, c in try created(await admin.createClient(tenant(c), .init(json: try await body(r)), by: c.caller)) }
        v1.get("tenants/:t/clients") { _, c in try ok(await admin.clients(tenant(c), by: c.caller)) }
        v1.get("tenants/:t/clients/:id") { _, c in try ok(await admin.client(tenant(c), id(c), by: c.caller)) }
        v1.patch("tenants/:t/clients/:id") { r, c in
            try ok(await admin.updateClient(tenant(c), id(c), .init(json: try await body(r)), by: c.caller))
        }
        v1.delete("tenants/:t/clients/:id") { _, c in
            try await admin.deleteClient(tenant(c), id(c), by: c.caller)
            return Responses.empty(status: .noContent)
        }
        v1.post("tenants/:t/users") { r, c in try created(await admin.createUser(tenant(c), .init(json: try await body(r)), by: c.caller)) }
        v1.get("tenants/:t/users") { _, c in try ok(await admin.users(tenant(c), by: c.caller)) }
        v1.get("tenants/:t/users/:id") { _, c in try ok(await admin.user(tenant(c), id(c), by: c.caller)) }
        v1.patch("tenants/:t/users/:id") { r, c in
            try ok(await admin.updateUser(tenant(c), id(c), .init(json: try await body(r)), by: c.caller))
        }
        v1.delete("tenants/:t/users/:id") { _, c in
            try await admin.deleteUser(tenant(c), id(c), by: c.caller)
            return Responses.empty(status: .noContent)
        }
        v1.post("tenants/:t/users/:id/totp") { _, c in try created(await admin.enrollTOTP(tenant(c), id(c), by: c.caller)) }
        v1.post("tenants/:t/sessions/revoke") { r, c in try ok(await admin.revokeSessionsInBulk(tenant(c), try await body(r), by: c.caller)) }
        v1.get("tenants/:t/users/:id/sessions") { _, c in try ok(await admin.sessions(tenant(c), user: id(c), by: c.caller)) }
        v1.delete("tenants/:t/users/:id/sessions") { _, c in try ok(await admin.revokeSessions(tenant(c), user: id(c), by: c.caller)) }
        v1.delete("tenants/:t/sessions/:id") { _, c in try ok(await admin.revokeSession(tenant(c), sid: id(c), by: c.caller)) }
        v1.get("tenants/:t/users/:id/browser-sessions") { _, c in try ok(await admin.browserSessions(tenant(c), user: id(c), by: c.caller)) }
        v1.delete("tenants/:t/users/:id/browser-sessions") { _, c in
            try ok(await admin.revokeBrowserSessions(tenant(c), user: id(c), by: c.caller))
        }
        v1.delete("tenants/:t/browser-sessions/:id") { _, c in try ok(await admin.revokeBrowserSession(tenant(c), id: id(c), by: c.caller)) }
        v1.get("tenants/:t/users/:id/consents") { _, c in try ok(await admin.consents(tenant(c), user: id(c), by: c.caller)) }
        v1.delete("tenants/:t/users/:id/consents") { _, c in
            try ok(await admin.revokeConsents(tenant(c), user: id(c), client: nil, by: c.caller))
        }
        v1.delete("tenants/:t/users/:id/consents/:client") { _, c in
            try ok(await admin.revokeConsents(tenant(c), user: id(c), client: c.parameters.get("client") ?? "", by: c.caller))
        }
        v1.get("tenants/:t/events") { r, c in
            let query = r.uri.queryParameters
            let input = try AdminInput.EventQuery(type: query["type"].map(String.init), after: query["after"].map(String.init),
                                                  limit: query["limit"].map(String.init))
            return try ok(await admin.events(tenant(c), input, by: c.caller))
        }
    }

    private func ok(_ value: some Encodable) throws -> Response { try Responses.json(value, encoder: Responses.adminEncoder) }
    private func created(_ value: some Encodable) throws -> Response { try Responses.json(value, status: .created, encoder: Responses.adminEncoder) }
    private func tenant(_ context: AdminRequestContext) -> String { context.parameters.get("t") ?? "" }
    private func id(_ context: AdminRequestContext) -> String { context.parameters.get("id") ?? "" }

    /// The JSON body; `invalid_request` when it is missing, not JSON, or larger than 1 MiB.
    private func body(_ request: Request) async throws -> JSONValue {
        guard let value = try await optionalBody(request) else { throw AdminError.invalidBody("a JSON body is required") }
        return value
    }

    private func optionalBody(_ request: Request) async throws -> JSONValue? {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 1 << 20)
        } catch {
            throw BodyTooLarge()
        }
        guard buffer.readableBytes > 0 else { return nil }
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw AdminError.invalidBody("the body must be application/json")
        }
        return try JSONValue.parse(Array(buffer.readableBytesView))
    }
}
