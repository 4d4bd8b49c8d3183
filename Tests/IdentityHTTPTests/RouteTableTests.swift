import Foundation
import HTTPTypes
import HummingbirdTesting
import IdentityCore
import Testing

/// The route table and its groups, in process: which routes exist, which dialect their errors speak,
/// and that the admin API authenticates once, before any handler.
@Suite struct RouteTableTests {
    @Test func healthAndTheOpenAPIDocumentNeedNoKey() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get)["status"] == "ready")
            let spec = try await client.execute(uri: "/admin/v1/openapi.yaml", method: .get)
            #expect(spec.status == .ok && spec.headers[.contentType] == "application/yaml")
            #expect(try await client.execute(uri: "/nowhere", method: .get).status == .notFound)
        }
    }

    @Test func theAdminAPIAuthenticatesBeforeAnyHandler() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let none = try await client.admin(.get, "/tenants", key: nil)
            #expect(none.status == .unauthorized && none["error"] == "unauthorized")
            #expect(none.headers[.wwwAuthenticate] == "Bearer realm=\"identityd-admin\"")
            #expect(try await client.admin(.get, "/tenants", key: "wrong").status == .unauthorized)
            // Even a bad body is not read before the key is checked.
            #expect(try await client.admin(.post, "/tenants", key: "wrong", json: "{not json").status == .unauthorized)
            #expect(try await client.admin(.get, "/tenants", key: h.operatorKey).status == .ok)
            #expect(try await client.admin(.get, "/tenants", key: h.tenantKey).status == .forbidden)
            #expect(try await client.admin(.get, "/tenants/acme", key: h.tenantKey).status == .ok)
            #expect(try await client.admin(.post, "/tenants", key: h.operatorKey, json: "{not json").status == .badRequest)
        }
    }

    @Test func adminBodiesAreDecodedNamingTheField() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let cases: [(String, String)] = [
                (#"{"id": 5, "name": "x"}"#, "id"),
                (#"{"id": "okay", "name": "x", "colour": "red"}"#, "colour"),
                (#"{"id": "okay"}"#, "name"),
                (#"{"id": "okay", "name": "x", "policy": {"access_token_ttl": "soon"}}"#, "access_token_ttl"),
            ]
            for (body, field) in cases {
                let response = try await client.admin(.post, "/tenants", key: h.operatorKey, json: body)
                #expect(response.status == .badRequest && response["field"] == field, "\(body)")
            }
            let query = try await client.admin(.get, "/tenants/acme/events?limit=abc", key: h.operatorKey)
            #expect(query.status == .badRequest && query["field"] == "limit")
        }
    }

    @Test func oauthRoutesSpeakRFC6749AndPublicDocumentsAnswer404ForUnknownTenants() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let token = try await client.form("/t/acme/oauth/token", "grant_type=client_credentials&scope=api", headers: [.authorization: h.basic])
            #expect(token.status == .ok && token["token_type"] == "Bearer" && token.headers[.cacheControl] == "no-store")
            let unknown = try await client.form("/t/acme/oauth/token", "grant_type=magic", headers: [.authorization: h.basic])
            #expect(unknown.status == .badRequest && unknown["error"] == "unsupported_grant_type")
            let json = try await client.execute(uri: "/t/acme/oauth/token", method: .post, headers: [.contentType: "application/json"])
            #expect(json.status == .badRequest && json["error"] == "invalid_request")
            #expect(try await client.execute(uri: "/t/acme/jwks", method: .get).headers[.contentType] == "application/jwk-set+json")
            #expect(try await client.execute(uri: "/t/acme/.well-known/openid-configuration", method: .get)["issuer"] == "http://id.test/t/acme")
            #expect(try await client.execute(uri: "/t/nobody/jwks", method: .get).status == .notFound)
            let userinfo = try await client.execute(uri: "/t/acme/userinfo", method: .get, headers: [.authorization: "Bearer x.y.z"])
            #expect(userinfo.status == .unauthorized && userinfo["error"] == "invalid_token")
        }
    }

    @Test func theRefreshGrantRoundTripsThroughTheRouter() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let login = try await client.form("/t/acme/oauth/token", "grant_type=password&username=alice&password=correct+horse&scope=openid+api",
                                              headers: [.authorization: h.basic])
            #expect(login.status == .ok)
            let refresh = try #require(login["refresh_token"])
            let bad = try await client.form("/t/acme/oauth/token", "grant_type=refresh_token&refresh_token=\(refresh)&resource=relative",
                                            headers: [.authorization: h.basic])
            #expect(bad.status == .badRequest && bad["error"] == "invalid_request")
            let next = try await client.form("/t/acme/oauth/token", "grant_type=refresh_token&refresh_token=\(refresh)",
                                             headers: [.authorization: h.basic])
            #expect(next.status == .ok && next["refresh_token"] != refresh && next["id_token"] != nil)
        }
    }
}
