import Foundation
import Testing

/// The real binary over HTTP: DESIGN.md's walkthrough, isolation, bad input, configuration, shutdown.
@Suite(.serialized) struct EndToEndTests {
    @Test func theWholeWalkthroughWorksOverHTTP() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let w = Walkthrough(server)

        #expect(try await HTTP.send("GET", server.base + "/healthz").status == 200)
        #expect(try await HTTP.send("GET", server.base + "/readyz").json["status"] as? String == "ready")

        // Onboard: the operator creates the tenant; its own admin key creates the client and the user.
        let acmeKey = try await w.createTenant("acme", policy: #"{"refresh_reuse_grace": 1, "session_idle_ttl": 600, "session_max_ttl": 3600}"#)
        let secret = try await w.createClient("acme", id: "web", key: acmeKey)
        let aliceID = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: acmeKey)
        let web = ("web", secret)

        let discovery = try await HTTP.send("GET", server.base + "/t/acme/.well-known/openid-configuration").json
        #expect(discovery["issuer"] as? String == server.base + "/t/acme")
        #expect(discovery["token_endpoint"] as? String == server.base + "/t/acme/oauth/token")
        #expect(try await HTTP.send("GET", server.base + "/t/acme/.well-known/oauth-authorization-server").json["jwks_uri"] as? String
                    == server.base + "/t/acme/jwks")

        // Password grant, and the access token verifies against the JWKS.
        let login = try await w.oauth("acme", "token", client: web,
                                      [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery"), ("scope", "openid api")])
        #expect(login.status == 200)
        #expect(login.header("Cache-Control") == "no-store")
        let access = try #require(login["access_token"]), firstRefresh = try #require(login["refresh_token"])
        let (header, claims) = try await w.verifyAgainstJWKS(access, tenant: "acme")
        #expect(header["typ"] as? String == "at+jwt" && header["alg"] as? String == "ES256")
        #expect(claims["iss"] as? String == server.base + "/t/acme" && claims["sub"] as? String == aliceID)
        #expect(claims["client_id"] as? String == "web" && claims["scope"] as? String == "openid api" && claims["acr"] as? String == "pwd")
        let sid = try #require(claims["sid"] as? String)
        #expect(claims["aud"] as? String == server.base + "/t/acme")
        let userinfo = try await HTTP.send("GET", server.base + "/t/acme/userinfo", headers: ["Authorization": "Bearer \(access)"])
        #expect(userinfo.status == 200 && userinfo["preferred_username"] == "alice" && userinfo["sub"] == aliceID)

        // Refresh rotates; a retry within the grace window gets its own successor.
        let refreshed = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", firstRefresh)])
        #expect(refreshed.status == 200)
        let secondRefresh = try #require(refreshed["refresh_token"]), secondAccess = try #require(refreshed["access_token"])
        #expect(secondRefresh != firstRefresh)
        let retry = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", firstRefresh)])
        #expect(retry.status == 200)

        // Reuse after the grace window revokes the whole family, access tokens included.
        try await Task.sleep(for: .milliseconds(1300))
        let reuse = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", firstRefresh)])
        #expect(reuse.status == 400 && reuse["error"] == "invalid_grant")
        let afterReuse = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", secondRefresh)])
        #expect(afterReuse.status == 400 && afterReuse["error"] == "invalid_grant")
        let inspected = try await w.oauth("acme", "introspect", client: web, [("token", secondAccess)])
        #expect(inspected.status == 200 && inspected.json["active"] as? Bool == false)
        let events = try await w.admin("GET", "/tenants/acme/events?type=refresh_token_reused", key: acmeKey).json
        let reused = try #require((events["items"] as? [[String: Any]])?.first)
        #expect(reused["session_id"] as? String == sid && (reused["token_hash_prefix"] as? String)?.count == 12)
        let sessions = try await w.admin("GET", "/tenants/acme/users/\(aliceID)/sessions", key: acmeKey).json["items"] as? [Any]
        #expect(sessions?.isEmpty == true)

        // RFC 7009: revoking a refresh token ends its session; revoking an access token ends only that token.
        let second = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        #expect(try await w.oauth("acme", "introspect", client: web, [("token", second["access_token"]!)]).json["active"] as? Bool == true)
        #expect(try await w.oauth("acme", "revoke", client: web, [("token", second["refresh_token"]!)]).status == 200)
        #expect(try await w.oauth("acme", "introspect", client: web, [("token", second["access_token"]!)]).json["active"] as? Bool == false)
        let third = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        #expect(try await w.oauth("acme", "revoke", client: web, [("token", third["access_token"]!), ("token_type_hint", "access_token")]).status == 200)
        #expect(try await w.oauth("acme", "introspect", client: web, [("token", third["access_token"]!)]).json["active"] as? Bool == false)
        let stillGood = try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", third["refresh_token"]!)])
        #expect(stillGood.status == 200)
        #expect(try await w.oauth("acme", "logout", client: web, [("refresh_token", stillGood["refresh_token"]!)]).status == 200)
        #expect(try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", stillGood["refresh_token"]!)]).status == 400)

        // Admin: global logout and a password change revoke sessions.
        let fourth = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        let revoked = try await w.admin("DELETE", "/tenants/acme/users/\(aliceID)/sessions", key: acmeKey)
        #expect((revoked.json["revoked"] as? [String])?.count == 1)
        #expect(try await w.oauth("acme", "introspect", client: web, [("token", fourth["access_token"]!)]).json["active"] as? Bool == false)

        // client_credentials, and key rotation keeps earlier tokens verifiable.
        let machine = try await w.oauth("acme", "token", client: web, [("grant_type", "client_credentials"), ("scope", "api")])
        #expect(machine.status == 200 && machine["refresh_token"] == nil)
        #expect(try await w.admin("POST", "/tenants/acme/keys/rotate", key: acmeKey).status == 200)
        #expect(try await w.oauth("acme", "introspect", client: web, [("token", machine["access_token"]!)]).json["active"] as? Bool == true)
        let rotated = try await w.oauth("acme", "token", client: web, [("grant_type", "client_credentials")])
        _ = try await w.verifyAgainstJWKS(try #require(rotated["access_token"]), tenant: "acme")

        // Tenant isolation.
        let umbrellaKey = try await w.createTenant("umbrella")
        let umbrellaSecret = try await w.createClient("umbrella", id: "web", key: umbrellaKey)
        #expect(try await w.admin("GET", "/tenants/umbrella", key: acmeKey).status == 403)
        #expect(try await w.admin("GET", "/tenants", key: acmeKey).status == 403)
        #expect(try await w.admin("GET", "/tenants/acme", key: umbrellaKey).status == 403)
        #expect(try await w.oauth("umbrella", "token", client: web, [("grant_type", "client_credentials")]).status == 401)
        let crossIntrospect = try await w.oauth("umbrella", "introspect", client: ("web", umbrellaSecret), [("token", rotated["access_token"]!)])
        #expect(crossIntrospect.status == 200 && crossIntrospect.json["active"] as? Bool == false)
        let fifth = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        let crossRefresh = try await w.oauth("umbrella", "token", client: ("web", umbrellaSecret),
                                             [("grant_type", "refresh_token"), ("refresh_token", fifth["refresh_token"]!)])
        #expect(crossRefresh.status == 400 && crossRefresh["error"] == "invalid_grant")
        #expect(try await HTTP.send("GET", server.base + "/t/umbrella/userinfo", headers: ["Authorization": "Bearer \(fifth["access_token"]!)"]).status == 401)

        // Graceful shutdown, and nothing secret in the log.
        #expect(await server.stop() == 0)
        let log = server.log
        #expect(log.contains("admin-token"))
        #expect(log.contains("refresh_token_reused"))
        for secret in w.secrets { #expect(!log.contains(secret), "a secret or token reached the log") }
    }

    @Test func openAPIIsServedAndDescribesEveryAdminRoute() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let spec = try await HTTP.send("GET", server.base + "/admin/v1/openapi.yaml")
        #expect(spec.status == 200 && spec.text.hasPrefix("openapi: 3"))
        for path in ["/tenants:", "/tenants/{tenant}:", "/tenants/{tenant}/policy:", "/tenants/{tenant}/keys:", "/tenants/{tenant}/keys/rotate:",
                     "/tenants/{tenant}/clients:", "/tenants/{tenant}/clients/{client_id}:", "/tenants/{tenant}/users:",
                     "/tenants/{tenant}/users/{user_id}:", "/tenants/{tenant}/users/{user_id}/totp:", "/tenants/{tenant}/users/{user_id}/sessions:",
                     "/tenants/{tenant}/sessions/{sid}:", "/tenants/{tenant}/events:"] {
            #expect(spec.text.contains("  " + path), "openapi.yaml lacks \(path)")
        }
        _ = await server.stop()
    }

    @Test func configurationComesFromFlagsOverVariables() async throws {
        let help = Process()
        help.executableURL = URL(fileURLWithPath: ServerProcess.binary)
        help.arguments = ["serve", "--help"]
        let pipe = Pipe()
        help.standardOutput = pipe
        try help.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        help.waitUntilExit()
        for variable in ["IDENTITY_HOST", "IDENTITY_PORT", "IDENTITY_PUBLIC_URL", "IDENTITY_DATA_DIR", "IDENTITY_STORE", "IDENTITY_CACHE",
                         "IDENTITY_ADMIN_TOKEN", "IDENTITY_MASTER_KEY", "IDENTITY_LOG_LEVEL"] {
            #expect(text.contains(variable), "--help does not document \(variable)")
        }

        let masterKey = Data(repeating: 9, count: 32).base64EncodedString()
        let server = try ServerProcess(
            environment: ["IDENTITY_PUBLIC_URL": "https://wrong.example", "IDENTITY_ADMIN_TOKEN": "operator-key-from-env-123",
                          "IDENTITY_MASTER_KEY": masterKey, "IDENTITY_LOG_LEVEL": "warning"],
            arguments: ["serve", "--public-url", "https://id.example.com/"])
        try await server.waitUntilReady()
        let created = try await HTTP.send("POST", server.base + "/admin/v1/tenants",
                                          headers: ["Authorization": "Bearer operator-key-from-env-123", "Content-Type": "application/json"],
                                          body: Data(#"{"id": "acme", "name": "Acme"}"#.utf8))
        #expect(created.status == 201)
        let discovery = try await HTTP.send("GET", server.base + "/t/acme/.well-known/openid-configuration").json
        #expect(discovery["issuer"] as? String == "https://id.example.com/t/acme")
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory.appendingPathComponent("admin-token").path))
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory.appendingPathComponent("master.key").path))
        #expect(FileManager.default.fileExists(atPath: server.dataDirectory.appendingPathComponent("identity.db").path))
        _ = await server.stop()
    }

    @Test func generatedSecretsAreOwnerOnlyAndSurviveARestart() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        for file in ["admin-token", "master.key"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: server.dataDirectory.appendingPathComponent(file).path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(file) is not 0600")
        }
        let w = Walkthrough(server)
        let key = try await w.createTenant("acme")
        let secret = try await w.createClient("acme", id: "svc", key: key, grants: #"["client_credentials"]"#)
        let before = try await w.oauth("acme", "token", client: ("svc", secret), [("grant_type", "client_credentials")])
        let revoke = try await w.oauth("acme", "revoke", client: ("svc", secret), [("token", before["access_token"]!)])
        #expect(revoke.status == 200)
        #expect(await server.stop() == 0)

        // Same data directory, new process: keys open under the same master key, revocations persist.
        let again = try ServerProcess(environment: ["IDENTITY_DATA_DIR": server.dataDirectory.path])
        try await again.waitUntilReady()
        let w2 = Walkthrough(again)
        #expect(try await w2.oauth("acme", "introspect", client: ("svc", secret), [("token", before["access_token"]!)]).json["active"] as? Bool == false)
        let after = try await w2.oauth("acme", "token", client: ("svc", secret), [("grant_type", "client_credentials")])
        #expect(after.status == 200)
        #expect(try await w2.oauth("acme", "introspect", client: ("svc", secret), [("token", after["access_token"]!)]).json["active"] as? Bool == true)
        _ = await again.stop()
    }
}
