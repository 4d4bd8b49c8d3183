import Foundation
import Testing

/// Malformed, oversized and hostile requests get the right 4xx with a useful error, never a 5xx, and leave
/// nothing half-written.
@Suite(.serialized) struct BadInputTests {
    struct Case: Sendable {
        let name: String
        let method: String
        let path: String
        var headers: [String: String] = [:]
        var body: Data?
        let status: Int
        var error: String?
        var field: String?
    }

    @Test func badInputGetsAClear4xxAndNeverA5xx() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let key = try await w.createTenant("acme")
        let secret = try await w.createClient("acme", id: "web", key: key)
        _ = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: key)
        let form = ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic("web", secret)]
        let json = ["Content-Type": "application/json", "Authorization": "Bearer \(server.adminToken)"]
        let big = Data(repeating: UInt8(ascii: "a"), count: (1 << 20) + 10)
        func bytes(_ text: String) -> Data { Data(text.utf8) }

        let cases: [Case] = [
            Case(name: "JSON body on the token endpoint", method: "POST", path: "/t/acme/oauth/token",
                 headers: ["Content-Type": "application/json", "Authorization": HTTP.basic("web", secret)],
                 body: bytes(#"{"grant_type":"client_credentials"}"#), status: 400, error: "invalid_request"),
            Case(name: "no body", method: "POST", path: "/t/acme/oauth/token", headers: form, status: 400, error: "invalid_request"),
            Case(name: "repeated parameter", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials&grant_type=password"), status: 400, error: "invalid_request"),
            Case(name: "unknown grant type", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=urn:magic"), status: 400, error: "unsupported_grant_type"),
            Case(name: "authorization_code for a client without that grant", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=authorization_code&code=x"), status: 400, error: "unauthorized_client"),
            Case(name: "authorize with a repeated parameter", method: "GET", path: "/t/acme/oauth/authorize?client_id=web&client_id=web",
                 headers: [:], status: 400),
            Case(name: "authorize with a NUL", method: "GET", path: "/t/acme/oauth/authorize?client_id=%00", headers: [:], status: 400),
            Case(name: "authorize with bad percent-encoding", method: "GET", path: "/t/acme/oauth/authorize?client_id=%zz", headers: [:],
                 status: 400),
            Case(name: "sign-in form without an interaction", method: "POST", path: "/t/acme/signin", headers: form,
                 body: bytes("step=login&username=alice&password=x"), status: 400),
            Case(name: "sign-in form that is not a form", method: "POST", path: "/t/acme/signin", headers: json, body: bytes("{}"),
                 status: 400),
            Case(name: "PAR without client authentication", method: "POST", path: "/t/acme/oauth/par",
                 headers: ["Content-Type": "application/x-www-form-urlencoded"],
                 body: bytes("response_type=code"), status: 401, error: "invalid_client"),
            Case(name: "end_session with a forged id_token_hint", method: "GET", path: "/t/acme/oauth/end_session?id_token_hint=a.b.c",
                 headers: [:], status: 400),
            Case(name: "1 MB form", method: "POST", path: "/t/acme/oauth/token", headers: form, body: big, status: 413, error: "invalid_request"),
            Case(name: "invalid UTF-8", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=password&username=%FF%FE&password=x"), status: 400, error: "invalid_request"),
            Case(name: "raw invalid UTF-8 bytes", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: Data([0x67, 0x3D, 0xC3, 0x28]), status: 400, error: "invalid_request"),
            Case(name: "bad percent escape", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=pass%G1word"), status: 400, error: "invalid_request"),
            Case(name: "truncated percent escape", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=password%2"), status: 400, error: "invalid_request"),
            Case(name: "wrong client secret", method: "POST", path: "/t/acme/oauth/token",
                 headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic("web", "nope")],
                 body: bytes("grant_type=client_credentials"), status: 401, error: "invalid_client"),
            Case(name: "malformed Basic header", method: "POST", path: "/t/acme/oauth/token",
                 headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic !!!"],
                 body: bytes("grant_type=client_credentials"), status: 401, error: "invalid_client"),
            Case(name: "two client authentication methods", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials&client_secret=\(secret)"), status: 400, error: "invalid_request"),
            Case(name: "no client authentication", method: "POST", path: "/t/acme/oauth/token",
                 headers: ["Content-Type": "application/x-www-form-urlencoded"], body: bytes("grant_type=client_credentials"),
                 status: 401, error: "invalid_client"),
            Case(name: "garbage refresh token", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=refresh_token&refresh_token=eyJ.garbage.x"), status: 400, error: "invalid_grant"),
            Case(name: "missing refresh token", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=refresh_token"), status: 400, error: "invalid_request"),
            Case(name: "missing password", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=password&username=alice"), status: 400, error: "invalid_request"),
            Case(name: "wrong password", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=password&username=alice&password=nope"), status: 400, error: "invalid_grant"),
            Case(name: "malformed scope", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials&scope=%22api%22%5C"), status: 400, error: "invalid_scope"),
            Case(name: "scope the client may not have", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials&scope=admin"), status: 400, error: "invalid_scope"),
            Case(name: "relative resource", method: "POST", path: "/t/acme/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials&resource=/api"), status: 400, error: "invalid_request"),
            Case(name: "unknown tenant", method: "POST", path: "/t/nobody/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials"), status: 401, error: "invalid_client"),
            Case(name: "tenant path with odd bytes", method: "POST", path: "/t/%00%FF/oauth/token", headers: form,
                 body: bytes("grant_type=client_credentials"), status: 401, error: "invalid_client"),
            Case(name: "introspection without a token", method: "POST", path: "/t/acme/oauth/introspect", headers: form,
                 body: bytes("token_type_hint=access_token"), status: 400, error: "invalid_request"),
            Case(name: "introspection of garbage", method: "POST", path: "/t/acme/oauth/introspect", headers: form,
                 body: bytes("token=not-a-token"), status: 200),
            Case(name: "revocation of garbage is not an error", method: "POST", path: "/t/acme/oauth/revoke", headers: form,
                 body: bytes("token=not-a-token"), status: 200),
            Case(name: "logout of an unknown session", method: "POST", path: "/t/acme/oauth/logout", headers: form,
                 body: bytes("refresh_token=rt_unknown"), status: 400, error: "invalid_grant"),
            Case(name: "userinfo without a token", method: "GET", path: "/t/acme/userinfo", status: 401, error: "invalid_token"),
            Case(name: "userinfo with garbage", method: "GET", path: "/t/acme/userinfo", headers: ["Authorization": "Bearer x.y.z"],
                 status: 401, error: "invalid_token"),
            Case(name: "discovery of an unknown tenant", method: "GET", path: "/t/nobody/jwks", status: 404),
            Case(name: "admin without a key", method: "GET", path: "/admin/v1/tenants", status: 401, error: "unauthorized"),
            Case(name: "admin with a wrong key", method: "GET", path: "/admin/v1/tenants", headers: ["Authorization": "Bearer nope"],
                 status: 401, error: "unauthorized"),
            Case(name: "tenant id of the wrong type", method: "POST", path: "/admin/v1/tenants", headers: json,
                 body: bytes(#"{"id": 5, "name": "x"}"#), status: 400, error: "invalid_request", field: "id"),
            Case(name: "tenant id not a slug", method: "POST", path: "/admin/v1/tenants", headers: json,
                 body: bytes(#"{"id": "Bad Slug!", "name": "x"}"#), status: 400, error: "invalid_request", field: "id"),
            Case(name: "tenant with a bad policy", method: "POST", path: "/admin/v1/tenants", headers: json,
                 body: bytes(#"{"id": "half", "name": "x", "policy": {"refresh_reuse_grace": 600}}"#), status: 400, field: "refresh_reuse_grace"),
            Case(name: "duplicate tenant", method: "POST", path: "/admin/v1/tenants", headers: json,
                 body: bytes(#"{"id": "acme", "name": "x"}"#), status: 409, error: "conflict"),
            Case(name: "not JSON", method: "POST", path: "/admin/v1/tenants", headers: json, body: bytes("{id: acme"), status: 400),
            Case(name: "JSON array", method: "POST", path: "/admin/v1/tenants", headers: json, body: bytes("[]"), status: 400),
            Case(name: "invalid UTF-8 JSON", method: "POST", path: "/admin/v1/tenants", headers: json,
                 body: Data([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]), status: 400),
            Case(name: "1 MB JSON", method: "POST", path: "/admin/v1/tenants", headers: json, body: big, status: 413),
            Case(name: "policy with a bad field", method: "PUT", path: "/admin/v1/tenants/acme/policy", headers: json,
                 body: bytes(#"{"session_idle_ttl": 10, "session_max_ttl": 5}"#), status: 400, field: "session_idle_ttl"),
            Case(name: "policy with a wrong type", method: "PUT", path: "/admin/v1/tenants/acme/policy", headers: json,
                 body: bytes(#"{"step_up": [{"scope": "x", "acr": "mfa", "max_age": "soon"}]}"#), status: 400, field: "step_up[0].max_age"),
            Case(name: "client with an unknown grant", method: "POST", path: "/admin/v1/tenants/acme/clients", headers: json,
                 body: bytes(#"{"name": "x", "type": "public", "grant_types": ["implicit"]}"#), status: 400, field: "grant_types"),
            Case(name: "public client with client_credentials", method: "POST", path: "/admin/v1/tenants/acme/clients", headers: json,
                 body: bytes(#"{"name": "x", "type": "public", "grant_types": ["client_credentials"]}"#), status: 400, field: "grant_types"),
            Case(name: "user with a short password", method: "POST", path: "/admin/v1/tenants/acme/users", headers: json,
                 body: bytes(#"{"username": "bob", "password": "short"}"#), status: 400, field: "password"),
            Case(name: "user with a duplicate username", method: "POST", path: "/admin/v1/tenants/acme/users", headers: json,
                 body: bytes(#"{"username": "alice", "password": "long enough"}"#), status: 409),
            Case(name: "unknown user", method: "GET", path: "/admin/v1/tenants/acme/users/usr_nobody", headers: json, status: 404),
            Case(name: "unknown tenant", method: "GET", path: "/admin/v1/tenants/nobody", headers: json, status: 404),
            Case(name: "events with a bad limit", method: "GET", path: "/admin/v1/tenants/acme/events?limit=0", headers: json,
                 status: 400, field: "limit"),
            Case(name: "events of an unknown type", method: "GET", path: "/admin/v1/tenants/acme/events?type=nope", headers: json,
                 status: 400, field: "type"),
            Case(name: "key rotation to an unknown algorithm", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", headers: json,
                 body: bytes(#"{"alg": "none"}"#), status: 400, field: "alg"),
        ]

        for c in cases {
            let response = try await HTTP.send(c.method, server.base + c.path, headers: c.headers, body: c.body)
            #expect(response.status < 500, "\(c.name): \(response.status) \(response.text)")
            #expect(response.status == c.status, "\(c.name): got \(response.status) \(response.text)")
            if let error = c.error { #expect(response["error"] == error, "\(c.name): \(response.text)") }
            if let field = c.field { #expect(response["field"] == field, "\(c.name): \(response.text)") }
            if c.path.contains("/oauth/") || c.path.contains("/signin"), response.status != 200 {
                #expect(response.header("Cache-Control") == "no-store", "\(c.name)")
                if response.header("Content-Type")?.hasPrefix("text/html") == true {
                    #expect(response.text.contains("<h1>Something went wrong</h1>"), "\(c.name): an HTML error page")
                } else {
                    #expect(response["error_description"] != nil, "\(c.name)")
                }
            }
        }

        // Nothing half-written: the refused tenant does not exist, the server still serves.
        #expect(try await w.admin("GET", "/tenants/half").status == 404)
        #expect(try await HTTP.send("GET", server.base + "/healthz").status == 200)
        #expect(!server.log.contains("unexpected error"))
        _ = await server.stop()
    }

    /// A refresh with a malformed `resource` is refused before anything is written: with grace 0, the same
    /// refresh token still refreshes afterwards (before, the rotation was committed first, the successor
    /// never sent, and the next use of the token was taken for reuse and revoked the family).
    @Test func aRefreshRefusedForItsResourceRotatesNothing() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let (key, web) = try await w.acmeWithAlice(policy: #"{"refresh_reuse_grace": 0}"#)
        let login = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        let refresh = try #require(login["refresh_token"])
        for resource in ["/api", "not a uri", "https://api.test/#fragment"] {
            let refused = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", resource)])
            #expect(refused.status == 400 && refused["error"] == "invalid_request", "\(resource): \(refused.text)")
        }
        let next = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(next.status == 200, "\(next.text)")
        #expect(try await w.oauth("acme", "introspect", client: web, [("token", next["access_token"] ?? "")]).json["active"] as? Bool == true)
        let reused = try await w.admin("GET", "/tenants/acme/events?type=refresh_token_reused", key: key).json["items"] as? [Any]
        #expect(reused?.isEmpty == true)
        _ = await server.stop()
    }
}
