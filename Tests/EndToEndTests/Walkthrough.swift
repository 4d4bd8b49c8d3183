import Crypto
import Foundation

/// Admin and OAuth calls of the walkthrough, recording every secret and token the server hands out so the
/// test can prove none reached the log.
final class Walkthrough: @unchecked Sendable {
    let server: ServerProcess
    /// Where requests go: the server, or a load balancer in front of it and its peers.
    let base: String
    private(set) var secrets: [String] = []

    init(_ server: ServerProcess, base: String? = nil) {
        self.server = server
        self.base = base ?? server.base
        secrets.append(server.adminToken)
    }

    func remember(_ values: String?...) { secrets.append(contentsOf: values.compactMap { $0 }.filter { !$0.isEmpty }) }

    func admin(_ method: String, _ path: String, key: String? = nil, json: String? = nil) async throws -> HTTP.Response {
        var headers = ["Authorization": "Bearer \(key ?? server.adminToken)"]
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await HTTP.send(method, base + "/admin/v1" + path, headers: headers, body: json.map { Data($0.utf8) })
    }

    func oauth(_ tenant: String, _ endpoint: String, client: (String, String)?, _ pairs: [(String, String)]) async throws -> HTTP.Response {
        var headers = ["Content-Type": "application/x-www-form-urlencoded"]
        if let client { headers["Authorization"] = HTTP.basic(client.0, client.1) }
        let response = try await HTTP.send("POST", base + "/t/\(tenant)/oauth/\(endpoint)", headers: headers, body: HTTP.form(pairs))
        remember(response["access_token"], response["refresh_token"], response["id_token"])
        return response
    }

    /// What most tests start from: tenant `acme` with `policy`, its confidential client `web` and the user
    /// alice ("correct horse battery"). Returns the tenant's admin key and the client's credentials.
    func acmeWithAlice(policy: String = "{}") async throws -> (key: String, web: (String, String)) {
        let key = try await createTenant("acme", policy: policy)
        let web = ("web", try await createClient("acme", id: "web", key: key))
        _ = try await createUser("acme", username: "alice", password: "correct horse battery", key: key)
        return (key, web)
    }

    /// Creates a tenant and returns its admin key.
    func createTenant(_ id: String, policy: String = "{}") async throws -> String {
        let response = try await admin("POST", "/tenants", json: #"{"id": "\#(id)", "name": "Tenant \#(id)", "policy": \#(policy)}"#)
        guard response.status == 201, let key = response["admin_key"] else { throw E2EError("tenant create: \(response.status) \(response.text)") }
        remember(key)
        return key
    }

    /// Creates a confidential client and returns its secret.
    func createClient(_ tenant: String, id: String, key: String, grants: String = #"["password", "refresh_token", "client_credentials"]"#) async throws -> String {
        let response = try await admin("POST", "/tenants/\(tenant)/clients", key: key, json: """
            {"client_id": "\(id)", "name": "App \(id)", "type": "confidential", "grant_types": \(grants), "scopes": ["openid", "profile", "api"]}
            """)
        guard response.status == 201, let secret = response["client_secret"] else { throw E2EError("client create: \(response.status) \(response.text)") }
        remember(secret)
        return secret
    }

    func createUser(_ tenant: String, username: String, password: String, key: String) async throws -> String {
        remember(password)
        let response = try await admin("POST", "/tenants/\(tenant)/users", key: key,
                                       json: #"{"username": "\#(username)", "password": "\#(password)", "email": "\#(username)@example.com"}"#)
        guard response.status == 201, let id = response["id"] else { throw E2EError("user create: \(response.status) \(response.text)") }
        return id
    }

    /// Verifies an ES256 JWS against the tenant's JWKS and returns its header and claims.
    func verifyAgainstJWKS(_ token: String, tenant: String) async throws -> (header: [String: Any], claims: [String: Any]) {
        let parts = token.split(separator: ".").map(String.init)
        guard parts.count == 3, let headerData = base64URL(parts[0]), let payloadData = base64URL(parts[1]), let signature = base64URL(parts[2]),
              let header = try JSONSerialization.jsonObject(with: headerData) as? [String: Any],
              let claims = try JSONSerialization.jsonObject(with: payloadData) as? [String: Any] else { throw E2EError("not a JWS") }
        let jwks = try await HTTP.send("GET", base + "/t/\(tenant)/jwks").json
        guard let keys = jwks["keys"] as? [[String: Any]], let jwk = keys.first(where: { $0["kid"] as? String == header["kid"] as? String }),
              let x = (jwk["x"] as? String).flatMap(base64URL), let y = (jwk["y"] as? String).flatMap(base64URL) else {
            throw E2EError("kid not in JWKS")
        }
        let publicKey = try P256.Signing.PublicKey(rawRepresentation: x + y)
        let valid = publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[1]).utf8))
        guard valid else { throw E2EError("signature does not verify") }
        return (header, claims)
    }

    func base64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
