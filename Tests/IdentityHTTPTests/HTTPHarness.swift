import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IdentityCore
import IdentityHTTP
import IdentityTestSupport
import MemoryStore
import NIOCore

/// The whole router in process, over the memory store and a manual clock: a tenant `acme` with a
/// confidential client `web` (password, refresh, client credentials) and a user `alice`.
struct HTTPHarness {
    let clock = ManualClock()
    let runtime: IdentityRuntime
    let admin: Administration
    let operatorKey = "operator-key-for-tests"
    var tenantKey = ""
    var secret = ""

    struct Ready: ReadinessProbe {
        func readiness() async throws -> Readiness { .ready }
    }

    init() async throws {
        runtime = try .forTests(store: MemoryStore(), clock: clock, keyByte: 7)
        admin = Administration(runtime: runtime, operatorKey: operatorKey)
        tenantKey = try await admin.createTenant(.init(id: "acme", name: "Acme"), by: .operator).field("admin_key")
        secret = try await admin.createClient("acme", .init(clientID: "web", name: "Web", type: "confidential",
                                                            grantTypes: ["password", "refresh_token", "client_credentials"],
                                                            scopes: ["openid", "api"]), by: .operator).field("client_secret")
        _ = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator)
    }

    /// Runs `body` with a client of the in-process router.
    func test<Value: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let router = IdentityApplication.router(runtime: runtime, administration: admin, readiness: Ready(),
                                                settings: .init(host: "127.0.0.1", port: 0))
        return try await Application(router: router).test(.router) { client in try await body(client) }
    }

    var basic: String { "Basic " + Data("web:\(secret)".utf8).base64EncodedString() }
}

extension TestClientProtocol {
    /// A form POST.
    func form(_ path: String, _ body: String, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        headers.append(contentsOf: extra)
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// An admin API call with `key`.
    func admin(_ method: HTTPRequest.Method, _ path: String, key: String?, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: "/admin/v1" + path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var json: [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else { return [:] }
        return object
    }
    subscript(_ key: String) -> String? { json[key] as? String }
}

extension Encodable {
    /// A field of the encoded admin view.
    func field(_ name: String) throws -> String {
        let data = try AdminView.encoder().encode(self)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?[name] as? String ?? ""
    }
}
