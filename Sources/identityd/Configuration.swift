import ArgumentParser
import Foundation
import IdentityCore
import Logging

/// Every setting of identityd, resolved once from flags, then `IDENTITY_*` variables, then defaults, and
/// handed down. No other target reads the environment.
struct Configuration: Sendable {
    var host: String
    var port: Int
    var publicURL: String
    var dataDirectory: String
    var store: String
    var cache: String?
    var adminToken: String?
    var masterKey: String?
    var logLevel: Logger.Level
    var trustForwardedFor: Bool
    var passwordHashCost: Int

    /// The store URL's SQLite path, or nil for another backend.
    var sqlitePath: String? {
        guard store.hasPrefix("sqlite://") else { return nil }
        return String(store.dropFirst("sqlite://".count))
    }
}

/// The options every command shares, each with its variable.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "Address to listen on. [IDENTITY_HOST, default 127.0.0.1]")
    var host: String?

    @Option(help: "Port to listen on. [IDENTITY_PORT, default 8080]")
    var port: Int?

    @Option(name: .customLong("public-url"), help: "Base URL the issuers are built from. [IDENTITY_PUBLIC_URL, default http://{host}:{port}]")
    var publicURL: String?

    @Option(name: .customLong("data-dir"), help: "Directory for the SQLite file and generated dev keys. [IDENTITY_DATA_DIR, default ./data]")
    var dataDirectory: String?

    @Option(help: "Store URL: sqlite://PATH or postgres://user:pw@host:port/db. [IDENTITY_STORE, default sqlite://{data dir}/identity.db]")
    var store: String?

    @Option(help: "Shared cache URL for several nodes (revocations, rate limits, invalidation): redis://host:port/db; in-process when unset. [IDENTITY_CACHE]")
    var cache: String?

    @Option(name: .customLong("admin-token"), help: "Operator admin key. [IDENTITY_ADMIN_TOKEN, default generated into {data dir}/admin-token]")
    var adminToken: String?

    @Option(name: .customLong("master-key"), help: "Base64 of 32 bytes sealing keys at rest. [IDENTITY_MASTER_KEY, default generated into {data dir}/master.key]")
    var masterKey: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical. [IDENTITY_LOG_LEVEL, default info]")
    var logLevel: String?

    @Option(name: .customLong("trust-forwarded-for"), help: "Take client addresses from X-Forwarded-For (true behind a trusted proxy). [IDENTITY_TRUST_FORWARDED_FOR, default false]")
    var trustForwardedFor: Bool?

    @Option(name: .customLong("password-hash-cost"), help: "scrypt log2(N) for new password and secret hashes, 10-20. [IDENTITY_PASSWORD_HASH_COST, default 15]")
    var passwordHashCost: Int?

    /// Flags win over variables, variables over defaults.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        func value(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let env = environment[variable], !env.isEmpty { return env }
            return nil
        }
        let host = value(host, "IDENTITY_HOST") ?? "127.0.0.1"
        let portText = port.map(String.init) ?? value(nil, "IDENTITY_PORT") ?? "8080"
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ValidationError("IDENTITY_PORT / --port must be a port number, got \(portText)")
        }
        let dataDirectory = value(dataDirectory, "IDENTITY_DATA_DIR") ?? "./data"
        let levelText = value(logLevel, "IDENTITY_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError("IDENTITY_LOG_LEVEL / --log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        let trustText = trustForwardedFor.map { $0 ? "true" : "false" } ?? value(nil, "IDENTITY_TRUST_FORWARDED_FOR") ?? "false"
        guard let trust = Bool(trustText.lowercased()) else { throw ValidationError("IDENTITY_TRUST_FORWARDED_FOR must be true or false") }
        let costText = passwordHashCost.map(String.init) ?? value(nil, "IDENTITY_PASSWORD_HASH_COST") ?? "15"
        guard let cost = Int(costText), (10...20).contains(cost) else { throw ValidationError("IDENTITY_PASSWORD_HASH_COST must be 10 to 20") }
        var publicURL = value(self.publicURL, "IDENTITY_PUBLIC_URL") ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        guard let url = URL(string: publicURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("IDENTITY_PUBLIC_URL must be an http(s) URL, got \(publicURL)")
        }
        return Configuration(
            host: host, port: port, publicURL: publicURL, dataDirectory: dataDirectory,
            store: value(store, "IDENTITY_STORE") ?? "sqlite://\(dataDirectory)/identity.db",
            cache: value(cache, "IDENTITY_CACHE"), adminToken: value(adminToken, "IDENTITY_ADMIN_TOKEN"),
            masterKey: value(masterKey, "IDENTITY_MASTER_KEY"), logLevel: level, trustForwardedFor: trust, passwordHashCost: cost)
    }
}
