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
    /// The proxies whose `X-Forwarded-For` is believed (empty: the header is ignored).
    var trustedProxies: [IPRange]
    /// Seconds a connection may stay without a whole request.
    var httpIdleTimeout: Int
    /// Argon2id's memory (KiB) and passes for new password and secret hashes.
    var passwordHashMemory: Int
    var passwordHashIterations: Int
    /// Threads that hash (each holds one hash's memory at a time).
    var passwordHashLanes: Int
    /// The management listener (`/metrics`, `/healthz`, `/readyz`); port 0 turns it off.
    var metricsHost: String
    var metricsPort: Int
    /// Whether metrics carry a `tenant` label.
    var metricsTenantLabel: Bool
    /// Settings given that no longer do anything, for a warning at start.
    var ignored: [String]

    /// Whether the store is PostgreSQL.
    var isPostgres: Bool { store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") }

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

    @Option(name: .customLong("trusted-proxies"), help: "Comma-separated CIDRs of the proxies in front; the client address is the right-most X-Forwarded-For entry not among them. [IDENTITY_TRUSTED_PROXIES, default none: the header is ignored]")
    var trustedProxies: String?

    @Option(name: .customLong("http-idle-timeout"), help: "Seconds a connection may stay without a whole request (idle, or a head or body sent slowly), 1-3600. [IDENTITY_HTTP_IDLE_TIMEOUT, default 30]")
    var httpIdleTimeout: Int?

    @Option(name: .customLong("password-hash-memory"), help: "Argon2id memory in KiB for new password and secret hashes, 1024-1048576. [IDENTITY_PASSWORD_HASH_MEMORY, default 19456]")
    var passwordHashMemory: Int?

    @Option(name: .customLong("password-hash-iterations"), help: "Argon2id passes, 1-10. [IDENTITY_PASSWORD_HASH_ITERATIONS, default 2]")
    var passwordHashIterations: Int?

    @Option(name: .customLong("password-hash-lanes"), help: "Threads that hash passwords, each holding one hash's memory, 1-64. [IDENTITY_PASSWORD_HASH_LANES, default the cores, at most 4]")
    var passwordHashLanes: Int?

    @Option(name: .customLong("metrics-port"), help: "Port of the management listener (/metrics, /healthz, /readyz); 0 turns it off. [IDENTITY_METRICS_PORT, default 9464]")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"), help: "Address of the management listener. [IDENTITY_METRICS_HOST, default 127.0.0.1]")
    var metricsHost: String?

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
        var proxies: [IPRange] = []
        for entry in (value(trustedProxies, "IDENTITY_TRUSTED_PROXIES") ?? "").split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let range = IPRange(entry.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("IDENTITY_TRUSTED_PROXIES: \(entry) is not an address or a CIDR range (10.0.0.0/8, fd00::/8)")
            }
            proxies.append(range)
        }
        func number(_ flag: Int?, _ variable: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
            let text = flag.map(String.init) ?? value(nil, variable) ?? String(fallback)
            guard let number = Int(text), range.contains(number) else {
                throw ValidationError("\(variable) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(text)")
            }
            return number
        }
        let idle = try number(httpIdleTimeout, "IDENTITY_HTTP_IDLE_TIMEOUT", default: 30, in: 1...3600)
        let memory = try number(passwordHashMemory, "IDENTITY_PASSWORD_HASH_MEMORY", default: 19_456, in: 1024...1_048_576)
        let iterations = try number(passwordHashIterations, "IDENTITY_PASSWORD_HASH_ITERATIONS", default: 2, in: 1...10)
        let metricsPort = try number(metricsPort, "IDENTITY_METRICS_PORT", default: 9464, in: 0...65535)
        let tenantLabel = value(nil, "IDENTITY_METRICS_TENANT_LABEL") ?? "false"
        guard ["true", "false"].contains(tenantLabel) else {
            throw ValidationError("IDENTITY_METRICS_TENANT_LABEL must be true or false, got \(tenantLabel)")
        }
        let lanes = try number(passwordHashLanes, "IDENTITY_PASSWORD_HASH_LANES", default: min(4, ProcessInfo.processInfo.activeProcessorCount),
                               in: 1...64)
        // Replaced settings: named at start, never silently half-applied.
        var ignored: [String] = []
        if value(nil, "IDENTITY_TRUST_FORWARDED_FOR") != nil {
            ignored.append("IDENTITY_TRUST_FORWARDED_FOR (X-Forwarded-For is read only behind IDENTITY_TRUSTED_PROXIES)")
        }
        if value(nil, "IDENTITY_PASSWORD_HASH_COST") != nil {
            ignored.append("IDENTITY_PASSWORD_HASH_COST (new hashes are Argon2id: IDENTITY_PASSWORD_HASH_MEMORY, IDENTITY_PASSWORD_HASH_ITERATIONS)")
        }
        var publicURL = value(self.publicURL, "IDENTITY_PUBLIC_URL") ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        guard let url = URL(string: publicURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("IDENTITY_PUBLIC_URL must be an http(s) URL, got \(publicURL)")
        }
        return Configuration(
            host: host, port: port, publicURL: publicURL, dataDirectory: dataDirectory,
            store: value(store, "IDENTITY_STORE") ?? "sqlite://\(dataDirectory)/identity.db",
            cache: value(cache, "IDENTITY_CACHE"), adminToken: value(adminToken, "IDENTITY_ADMIN_TOKEN"),
            masterKey: value(masterKey, "IDENTITY_MASTER_KEY"), logLevel: level, trustedProxies: proxies, httpIdleTimeout: idle,
            passwordHashMemory: memory, passwordHashIterations: iterations, passwordHashLanes: lanes,
            metricsHost: value(metricsHost, "IDENTITY_METRICS_HOST") ?? "127.0.0.1", metricsPort: metricsPort,
            metricsTenantLabel: tenantLabel == "true", ignored: ignored)
    }
}
