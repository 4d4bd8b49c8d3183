import Argon2
import ArgumentParser
import Foundation
import IdentityCore
import Logging
import PostgresStore
import RedisCache
import SQLiteStore
#if canImport(Glibc)
import Glibc
#endif

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
        for setting in configuration.ignored { logger.warning("a setting that no longer applies is ignored", metadata: ["setting": .string(setting)]) }
        return logger
    }

    /// The configured secret, or the one in `{data dir}/{file}`, generated there on first use. The file is
    /// created with mode 0600 from the start (written to a temporary file opened 0600, then linked into
    /// place: never readable by others, never half-written, and two processes starting at once end up with
    /// the same secret); an existing file that others may read is refused. Logs the path, never the content.
    static func secret(_ configured: String?, file: String, in configuration: Configuration, bytes: Int, logger: Logger) throws -> String {
        if let configured { return configured }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent(file)
        if let existing = try readSecretFile(path) { return existing }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let value = Data(SystemRandomSource().bytes(bytes)).base64EncodedString()
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytesWritten = Array((value + "\n").utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard bytesWritten == value.utf8.count + 1 else { throw ValidationError("cannot write \(path)") }
        if link(temporary, path) != 0 {
            // Another process was first: use its secret.
            guard errno == EEXIST, let existing = try readSecretFile(path) else {
                throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            return existing
        }
        logger.notice("generated a new secret file", metadata: ["path": .string(path)])
        return value
    }

    /// The content of a secret file, or nil when there is none; refuses one that others may read or write.
    private static func readSecretFile(_ path: String) throws -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        guard info.st_mode & 0o077 == 0 else {
            throw ValidationError("\(path) may be read by others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// The master key. With PostgreSQL it must be configured: a node that generated its own would seal new
    /// secrets that the other nodes cannot open.
    static func masterKey(_ configuration: Configuration, logger: Logger) throws -> [UInt8] {
        if configuration.isPostgres, configuration.masterKey == nil {
            throw ValidationError("IDENTITY_MASTER_KEY is required with a PostgreSQL store: every node must use the same key (base64 of 32 bytes)")
        }
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
        } else if configuration.isPostgres {
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

    /// New hashes are Argon2id with the configured parameters; scrypt hashes (before Argon2id) still verify.
    static func hasher(_ configuration: Configuration, random: any RandomSource) -> PasswordHasher {
        PasswordHasher(current: Argon2idScheme(memoryKiB: configuration.passwordHashMemory, iterations: configuration.passwordHashIterations),
                       also: [ScryptScheme()], random: random, lanes: configuration.passwordHashLanes)
    }

    /// The runtime, after checking that the master key opens the store's secrets and sealing again, bound to
    /// their rows, any secrets sealed before that.
    ///
    /// Without Redis, several PostgreSQL nodes still see each other: revocations that a node's memory does
    /// not know are asked of the store, and invalidations travel over LISTEN/NOTIFY (`postgresBus`).
    static func runtime(_ configuration: Configuration, store: any IdentityStore, cache: RedisCache? = nil, logger: Logger) async throws
        -> (IdentityRuntime, postgresBus: PostgresInvalidationBus?)
    {
        let random = SystemRandomSource(), clock = SystemClock()
        let masterKey = try masterKey(configuration, logger: logger)
        let box = try SecretBox(masterKey: masterKey)
        do {
            try await MasterKeyCheck.verify(box, store: store)
        } catch let error as MasterKeyMismatch {
            throw ValidationError(error.description)
        }
        let resealed = try await SealedSecretMigration.run(store, box: box, now: clock.now())
        if resealed > 0 { logger.notice("sealed secrets bound to their rows", metadata: ["count": "\(resealed)"]) }
        let postgresBus = cache == nil ? (store as? PostgresStore).map { PostgresInvalidationBus(store: $0, logger: logger) } : nil
        let revocationCache: any RevocationCache = if let cache {
            LayeredRevocationCache(shared: cache.revocations, clock: clock)
        } else if postgresBus != nil {
            LayeredRevocationCache(shared: StoreRevocationCache(store: store), clock: clock)
        } else {
            InProcessRevocationCache(clock: clock)
        }
        let bus: any InvalidationBus = cache?.bus ?? postgresBus ?? LocalInvalidationBus()
        let runtime = try IdentityRuntime(
            store: store, clock: clock, random: random, hasher: hasher(configuration, random: random),
            masterKey: masterKey, publicURL: configuration.publicURL, revocationCache: revocationCache, bus: bus,
            limits: cache.map { FallbackRateLimitCounters(primary: $0.counters) } ?? InProcessRateLimitCounters(),
            dpopReplays: cache.map { FallbackDPoPReplayCache(primary: $0.dpopReplays) } ?? InProcessDPoPReplayCache(),
            log: LogSink(logger), metrics: IdentityMetrics(tenantLabel: configuration.metricsTenantLabel),
            acceptsLegacySecrets: !(try await SealedSecretMigration.isDone(store)))
        return (runtime, postgresBus)
    }
}
