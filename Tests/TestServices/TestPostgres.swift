#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The throw-away PostgreSQL cluster `scripts/with-services.sh` started, seen from the end-to-end tests.
public enum TestPostgres {
    public static let environment = ProcessInfo.processInfo.environment
    public static let url = environment["IDENTITY_TEST_POSTGRES_URL"]
    public static let isCI = environment["CI"] == "true"
    /// PostgreSQL tests run when a server is there, and always in CI (where a missing one fails them).
    public static let enabled = url != nil || isCI

    /// A new, empty database for one test, as an `IDENTITY_STORE` URL.
    public static func freshDatabase() throws -> String {
        guard let url else { throw TestServiceError("CI=true but IDENTITY_TEST_POSTGRES_URL is not set: run through scripts/with-services.sh") }
        let name = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try Processes.run("/usr/bin/psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    /// Stops (fast) or starts the cluster, as the user that owns it, on a thread of its own (it blocks).
    public static func cluster(_ action: String) async throws {
        try await onThread { try clusterNow(action) }
    }

    private static func clusterNow(_ action: String) throws {
        guard let bin = environment["IDENTITY_TEST_POSTGRES_BIN"], let data = environment["IDENTITY_TEST_POSTGRES_DATA"] else {
            throw TestServiceError("the cluster's location is not exported")
        }
        var arguments = ["-D", data, "-w", "-t", "60"]
        arguments += action == "stop" ? ["-m", "fast", "stop"] : ["-l", data + "/../pg.log", "start"]
        if getuid() == 0 {
            try Processes.run("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/pg_ctl"] + arguments)
        } else {
            try Processes.run(bin + "/pg_ctl", arguments)
        }
    }
}
