import ArgumentParser

/// The identityd command line.
@main
struct Identityd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identityd",
        abstract: "A multi-tenant OAuth 2.0 / OpenID Connect server.",
        discussion: """
            Every option has an IDENTITY_* environment variable (shown in brackets); a flag wins over its variable.
            With no options, `serve` keeps its data in ./data (SQLite) and listens on 127.0.0.1:8080.
            """,
        subcommands: [Serve.self, Migrate.self, Tenants.self, Keys.self, Purge.self, Backup.self],
        defaultSubcommand: Serve.self)
}
