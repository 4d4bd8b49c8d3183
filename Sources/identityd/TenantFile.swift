import ArgumentParser
import Foundation
import IdentityCore
import IdentityHTTP
import Yams

/// Declarative tenant definitions (`tenants/*.yaml`): the admin API's bodies in YAML, one tenant per file,
/// with its clients and users. Applying one is idempotent.
enum TenantFile {
    /// The YAML files at `path` (a file, or the `.yaml`/`.yml` files of a directory, sorted).
    static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("\(path) does not exist") }
        guard isDirectory.boolValue else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }

    /// Applies one file; returns a line per change for the operator (never a secret).
    static func apply(yaml: String, source: String, with admin: Administration) async throws -> [String] {
        guard let document = try Yams.load(yaml: yaml) else { throw ValidationError("\(source) is empty") }
        let root = try JSONObjectReader(try json(document))
        try root.rejectUnknown(["id", "name", "policy", "clients", "users"])
        let id = try root.requiredString("id")
        var log: [String] = []
        var tenantBody: [String: JSONValue] = ["id": .string(id), "name": .string(try root.requiredString("name"))]
        if let policy = root.fields["policy"] { tenantBody["policy"] = policy }
        if (try? await admin.tenant(id, by: .operator)) == nil {
            _ = try await admin.createTenant(.init(json: .object(tenantBody)), by: .operator)
            log.append("tenant \(id): created")
        } else {
            _ = try await admin.updateTenant(id, .init(name: try root.requiredString("name")), by: .operator)
            if let policy = root.fields["policy"] { _ = try await admin.replacePolicy(id, policy, by: .operator) }
            log.append("tenant \(id): updated")
        }
        let existingClients = Set(try await admin.runtime.store.clients(tenantID: id).map(\.id))
        for client in try root.objects("clients") ?? [] {
            guard let clientID = try client.string("client_id") else { throw AdminError.invalidField(client.name("client_id"), "is required") }
            guard !existingClients.contains(clientID) else { continue }
            var body = client.fields
            let secret = try client.string("secret")
            body["secret"] = nil
            _ = try await admin.createClient(id, .init(json: .object(body)), presetSecret: secret, by: .operator)
            log.append("tenant \(id): client \(clientID) created")
        }
        for user in try root.objects("users") ?? [] {
            let username = try user.requiredString("username")
            guard try await admin.runtime.store.user(tenantID: id, username: username) == nil else { continue }
            _ = try await admin.createUser(id, .init(json: .object(user.fields)), by: .operator)
            log.append("tenant \(id): user \(username) created")
        }
        return log
    }

    /// A YAML value as JSON.
    static func json(_ value: Any) throws -> JSONValue {
        switch value {
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(try value.map(json))
        case let value as [String: Any]: return .object(try value.mapValues(json))
        case is NSNull: return .null
        default: throw ValidationError("unsupported YAML value \(type(of: value))")
        }
    }
}
