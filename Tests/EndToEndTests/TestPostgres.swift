import Foundation

/// The throw-away PostgreSQL cluster `scripts/with-services.sh` started, seen from the end-to-end tests.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["IDENTITY_TEST_POSTGRES_URL"]
    static let isCI = environment["CI"] == "true"
    /// PostgreSQL tests run when a server is there, and always in CI (where a missing one fails them).
    static let enabled = url != nil || isCI

    /// A new, empty database for one test, as an `IDENTITY_STORE` URL.
    static func freshDatabase() throws -> String {
        guard let url else { throw E2EError("CI=true but IDENTITY_TEST_POSTGRES_URL is not set: run through scripts/with-services.sh") }
        let name = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try run("/usr/bin/psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    /// Stops (fast) or starts the cluster, as the user that owns it, on a thread of its own (it blocks).
    static func cluster(_ action: String) async throws {
        try await onThread { try clusterNow(action) }
    }

    private static func clusterNow(_ action: String) throws {
        guard let bin = environment["IDENTITY_TEST_POSTGRES_BIN"], let data = environment["IDENTITY_TEST_POSTGRES_DATA"] else {
            throw E2EError("the cluster's location is not exported")
        }
        var arguments = ["-D", data, "-w", "-t", "60"]
        arguments += action == "stop" ? ["-m", "fast", "stop"] : ["-l", data + "/../pg.log", "start"]
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/pg_ctl"] + arguments)
        } else {
            try run(bin + "/pg_ctl", arguments)
        }
    }

    /// Starts a program with its output in a temp file, and returns its pid. posix_spawn and waitpid rather
    /// than Foundation's `Process`, whose exit monitoring on Linux can miss a child that exits while other
    /// children come and go.
    static func spawn(_ executable: String, _ arguments: [String], output: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Output goes to a file, not a pipe: a server started here would hold a pipe open forever.
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw E2EError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
        return pid
    }

    /// Runs a program to its end and returns its output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("identityd-run-\(UUID().uuidString).log").path
        defer { unlink(outputPath) }
        let pid = try spawn(executable, arguments, output: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 || allowFailure else { throw E2EError("\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(output)") }
        return output
    }
}

