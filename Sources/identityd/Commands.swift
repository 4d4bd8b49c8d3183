import ArgumentParser
import Foundation
import IdentityCore
import SQLiteStore
import Yams

/// `identityd migrate`: brings the store's schema up to date and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations.")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve()
        let logger = Bootstrap.logger(configuration)
        let store = try await Bootstrap.openStore(configuration, logger: logger)
        try await store.close()
        print("schema up to date")
    }
}

/// `identityd backup FILE`: a consistent copy of the SQLite store, taken while the server runs.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite store to FILE (online: the server may keep running). PostgreSQL: use pg_dump (docs/operations.md).")
    @OptionGroup var options: ConfigurationOptions
    @Argument(help: "The new file to write.") var file: String

    func run() async throws {
        let configuration = try options.resolve()
        guard configuration.sqlitePath != nil else {
            throw ValidationError("identityd backup copies a SQLite store; for PostgreSQL use pg_dump (docs/operations.md, Backups)")
        }
        let logger = Bootstrap.logger(configuration)
        let store = try await Bootstrap.openStore(configuration, logger: logger)
        do {
            try await (store as! SQLiteStore).backup(to: file)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        print("backed up to \(file)")
    }
}

/// `identityd purge`: deletes expired sessions, refresh tokens and revocations in batches.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete expired sessions, refresh tokens and revocations.")
    @OptionGroup var options: ConfigurationOptions
    @Option(help: "Rows per batch.") var batch = 1000

    func run() async throws {
        let configuration = try options.resolve()
        let logger = Bootstrap.logger(configuration)
        let store = try await Bootstrap.openStore(configuration, logger: logger)
        var total = 0
        while true {
            let removed = try await store.purgeExpired(now: SystemClock().now(), batch: batch)
            total += removed
            if removed < batch { break }
        }
        try await store.close()
        print("purged \(total) rows")
    }
}

/// `identityd keys rotate --tenant T [--alg A]`.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage signing keys.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Promote the pending key, retire the active one, publish a new pending key.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "ES256, EdDSA or RS256 (default: the policy's signing_alg).") var alg: String?

        func run() async throws {
            try await withAdministration(options) { admin in
                let keys = try await admin.rotateKeys(tenant, .init(alg: alg), by: .operator)
                print(String(decoding: try AdminView.encoder().encode(keys), as: UTF8.self))
            }
        }
    }
}

/// `identityd tenants apply DIR|FILE`.
struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage tenants declaratively.", subcommands: [Apply.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update the tenants described by YAML files (see tenants/demo.yaml).",
            discussion: "Creates missing tenants, clients and users; replaces the policy and name of existing tenants. Existing clients and users are left as they are.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "A YAML file, or a directory of them.") var path: String

        func run() async throws {
            let files = try TenantFile.files(at: path)
            try await withAdministration(options) { admin in
                for file in files {
                    let text = try String(contentsOfFile: file, encoding: .utf8)
                    for line in try await TenantFile.apply(yaml: text, source: file, with: admin) { print(line) }
                }
            }
        }
    }
}

/// Runs `body` with an `Administration` on the configured store, acting as the operator.
func withAdministration(_ options: ConfigurationOptions, _ body: (Administration) async throws -> Void) async throws {
    let configuration = try options.resolve()
    let logger = Bootstrap.logger(configuration)
    let store = try await Bootstrap.openStore(configuration, logger: logger)
    // With Redis configured, changes are announced to running nodes on the invalidation bus.
    let cache = try Bootstrap.openCache(configuration, logger: logger)
    do {
        let (runtime, _) = try await Bootstrap.runtime(configuration, store: store, cache: cache, logger: logger)
        // The command line acts as the operator itself; no key is accepted for it.
        try await body(Administration(runtime: runtime, operatorKey: nil))
        await runtime.audit.flush()
    } catch let error as AdminError {
        await cache?.close()
        try? await store.close()
        throw ValidationError(error.message)
    }
    await cache?.close()
    try await store.close()
}
