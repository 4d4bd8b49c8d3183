import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore

/// The admin API under `/admin/v1` (DESIGN.md "Admin API"; described in `docs/openapi.yaml`, served at
/// `/admin/v1/openapi.yaml`). Every route authenticates the bearer key, parses JSON, calls `Administration`.
struct AdminRoutes: Sendable {
    let admin: Administration
    let openAPI: [UInt8]

    typealias Handler = @Sendable (Request, IdentityRequestContext, AdminPrincipal) async throws -> Response

    func register(on router: Router<IdentityRequestContext>) {
        let v1 = router.group("admin/v1")
        v1.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: self.openAPI)))
        }
        v1.post("tenants", use: handle { request, _, who in
            try Rendering.json(try await admin.createTenant(try await body(request), by: who), status: .created, encoder: Rendering.adminEncoder)
        })
        v1.get("tenants", use: handle { _, _, who in try render(try await admin.listTenants(by: who)) })
        v1.get("tenants/:t", use: handle { _, c, who in try render(try await admin.tenant(t(c), by: who)) })
        v1.patch("tenants/:t", use: handle { r, c, who in try render(try await admin.updateTenant(t(c), try await body(r), by: who)) })
        v1.delete("tenants/:t", use: handle { _, c, who in
            try await admin.deleteTenant(t(c), by: who)
            return Rendering.empty(status: .noContent)
        })
        v1.get("tenants/:t/policy", use: handle { _, c, who in try render(try await admin.policy(t(c), by: who)) })
        v1.put("tenants/:t/policy", use: handle { r, c, who in try render(try await admin.replacePolicy(t(c), try await body(r), by: who)) })
        v1.get("tenants/:t/keys", use: handle { _, c, who in try render(try await admin.keys(t(c), by: who)) })
        v1.post("tenants/:t/keys/rotate", use: handle { r, c, who in
            try render(try await admin.rotateKeys(t(c), try await optionalBody(r), by: who))
        })
        v1.post("tenants/:t/clients", use: handle { r, c, who in
            try Rendering.json(try await admin.createClient(t(c), try await body(r), by: who), status: .created, encoder: Rendering.adminEncoder)
        })
        v1.get("tenants/:t/clients", use: handle { _, c, who in try render(try await admin.clients(t(c), by: who)) })
        v1.get("tenants/:t/clients/:id", use: handle { _, c, who in try render(try await admin.client(t(c), id(c), by: who)) })
        v1.patch("tenants/:t/clients/:id", use: handle { r, c, who in
            try render(try await admin.updateClient(t(c), id(c), try await body(r), by: who))
        })
        v1.delete("tenants/:t/clients/:id", use: handle { _, c, who in
            try await admin.deleteClient(t(c), id(c), by: who)
            return Rendering.empty(status: .noContent)
        })
        v1.post("tenants/:t/users", use: handle { r, c, who in
            try Rendering.json(try await admin.createUser(t(c), try await body(r), by: who), status: .created, encoder: Rendering.adminEncoder)
        })
        v1.get("tenants/:t/users", use: handle { _, c, who in try render(try await admin.users(t(c), by: who)) })
        v1.get("tenants/:t/users/:id", use: handle { _, c, who in try render(try await admin.user(t(c), id(c), by: who)) })
        v1.patch("tenants/:t/users/:id", use: handle { r, c, who in
            try render(try await admin.updateUser(t(c), id(c), try await body(r), by: who))
        })
        v1.delete("tenants/:t/users/:id", use: handle { _, c, who in
            try await admin.deleteUser(t(c), id(c), by: who)
            return Rendering.empty(status: .noContent)
        })
        v1.post("tenants/:t/users/:id/totp", use: handle { _, c, who in
            try Rendering.json(try await admin.enrollTOTP(t(c), id(c), by: who), status: .created, encoder: Rendering.adminEncoder)
        })
        v1.get("tenants/:t/users/:id/sessions", use: handle { _, c, who in try render(try await admin.sessions(t(c), user: id(c), by: who)) })
        v1.delete("tenants/:t/users/:id/sessions", use: handle { _, c, who in
            try render(try await admin.revokeSessions(t(c), user: id(c), by: who))
        })
        v1.delete("tenants/:t/sessions/:id", use: handle { _, c, who in try render(try await admin.revokeSession(t(c), sid: id(c), by: who)) })
        v1.get("tenants/:t/events", use: handle { r, c, who in
            let query = r.uri.queryParameters
            return try render(try await admin.events(t(c), type: query["type"].map(String.init), after: query["after"].map(String.init),
                                                     limit: query["limit"].map(String.init), by: who))
        })
    }

    /// Wraps a handler with bearer authentication and the admin error rendering.
    private func handle(_ handler: @escaping Handler) -> @Sendable (Request, IdentityRequestContext) async throws -> Response {
        { request, context in
            await Rendering.guarded(.admin, logger: context.logger) {
                var bearer: String?
                if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
                    bearer = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
                }
                let principal = try await admin.principal(bearer: bearer)
                return try await handler(request, context, principal)
            }
        }
    }

    private func render(_ value: some Encodable) throws -> Response { try Rendering.json(value, encoder: Rendering.adminEncoder) }
    private func t(_ context: IdentityRequestContext) -> String { context.parameters.get("t") ?? "" }
    private func id(_ context: IdentityRequestContext) -> String { context.parameters.get("id") ?? "" }

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
