import ArgumentParser
import Foundation
import IdentityCore
import Logging
import PostgresStore
import RedisCache
import SQLiteStore

/// Start-up work shared by the commands: logging, secrets on disk, opening the store, assembling the runtime.
enum Bootstrap {
    static func logger(_ configuration: Configuration, label: String = "identityd") -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = configuration.logLevel
        return logger
    }

    /// The configured secret, or the one in `{data dir}/{file}`, generated there (mode 0600) on first use.
    /// Logs the path of a generated file, never its content.
    static func secret(_ configured: String?, file: String, in configuration: Configuration, bytes: Int, logger: Logger) throws -> String {
        if let configured { return configured }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent(file)
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let value = Data(SystemRandomSource().bytes(bytes)).base64EncodedString()
        guard FileManager.default.createFile(atPath: path, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(path)")
        }
        logger.notice("generated a new secret file", metadata: ["path": .string(path)])
        return value
    }

    static func masterKey(_ configuration: Configuration, logger: Logger) throws -> [UInt8] {
        let text = try secret(configuration.masterKey, file: "master.key", in: configuration, bytes: 32, logger: logger)
        guard let data = Data(base64Encoded: text), data.count == 32 else {
            throw ValidationError("IDENTITY_MASTER_KEY (or the master.key file) must be base64 of exactly 32 bytes")
        }
        return Array(data)
    }

    static func adminToken(_ configuration: Configuration, logger: Logger) throws -> String {
        let token = try secret(configuration.adminToken, file: "admin-token", in: configuration, bytes: 32, logger: logger)
        if configuration.adminToken == nil {
            let path = (configuration.dataDirectory as NSString).appendingPathComponent("admin-token")
            logger.notice("operator admin key is in a file", metadata: ["path": .string(path)])
        }
        return token
    }

    /// Opens the configured store and brings its schema up to date; refuses a schema newer than this binary.
    static func openStore(_ configuration: Configuration, logger: Logger) async throws -> any IdentityStore {
        let store: any IdentityStore
        if let path = configuration.sqlitePath {
            guard !path.isEmpty else { throw ValidationError("IDENTITY_STORE sqlite:// needs a path, e.g. sqlite://./data/identity.db") }
            store = try await SQLiteStore.open(path: path, logger: logger)
        } else if configuration.store.hasPrefix("postgres://") || configuration.store.hasPrefix("postgresql://") {
            do {
                store = try PostgresStore.connect(url: configuration.store, logger: logger)
            } catch let error as StoreError {
                throw ValidationError("\(error)")
            }
        } else {
            throw ValidationError("IDENTITY_STORE must start with sqlite:// or postgres://")
        }
        do {
            try await store.migrate()
        } catch StoreError.schemaTooNew(let found, let known) {
            try? await store.close()
            throw ValidationError("the database schema is version \(found) but this identityd knows only up to \(known): upgrade identityd")
        } catch StoreError.unavailable(let reason) {
            try? await store.close()
            throw ValidationError("the store cannot be reached: \(reason)")
        }
        return store
    }

    /// The configured cache: Redis for `redis://` URLs, nil for the in-process default.
    static func openCache(_ configuration: Configuration, logger: Logger) throws -> RedisCache? {
        guard let url = configuration.cache, url != "memory", !url.isEmpty else { return nil }
        do {
            return try RedisCache.connect(url: url, logger: logger)
        } catch let error as RedisError {
            throw ValidationError(error.description)
        }
    }

    static func runtime(_ configuration: Configuration, store: any IdentityStore, cache: RedisCache? = nil, logger: Logger) throws -> IdentityRuntime {
        let random = SystemRandomSource()
        return try IdentityRuntime(
            store: store, clock: SystemClock(), random: random,
            hasher: PasswordHasher(parameters: .init(logN: configuration.passwordHashCost), random: random),
            masterKey: try masterKey(configuration, logger: logger), publicURL: configuration.publicURL,
            revocationCache: cache.map { LayeredRevocationCache(shared: $0.revocations) } ?? InProcessRevocationCache(),
            bus: cache?.bus ?? LocalInvalidationBus(),
            limits: cache.map { FallbackRateLimitCounters(primary: $0.counters) } ?? InProcessRateLimitCounters(),
            log: LogSink(logger))
    }
}
