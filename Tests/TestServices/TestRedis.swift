import Foundation

/// The Redis server `scripts/with-services.sh` started.
public enum TestRedis {
    public static let environment = ProcessInfo.processInfo.environment
    public static let url = environment["IDENTITY_TEST_REDIS_URL"]
    /// Redis tests run when a server is there, and always in CI (where a missing one fails them).
    public static let enabled = (url != nil && TestPostgres.url != nil) || TestPostgres.isCI

    public static func requireURL() throws -> String {
        guard let url else { throw TestServiceError("CI=true but IDENTITY_TEST_REDIS_URL is not set: run through scripts/with-services.sh") }
        return url
    }

    /// Stops the server (losing every key: it runs without persistence) or starts it again on the same port.
    public static func server(_ action: String) async throws {
        guard let conf = environment["IDENTITY_TEST_REDIS_CONF"], let port = environment["IDENTITY_TEST_REDIS_PORT"] else {
            throw TestServiceError("the Redis server's location is not exported")
        }
        try await onThread {
            if action == "stop" {
                try Processes.run("/usr/bin/redis-cli", ["-p", port, "shutdown", "nosave"], allowFailure: true)
            } else {
                try Processes.run("/usr/bin/redis-server", [conf])
                for _ in 0..<50 {
                    if (try? Processes.run("/usr/bin/redis-cli", ["-p", port, "ping"])) == "PONG\n" { return }
                    Thread.sleep(forTimeInterval: 0.1)
                }
                throw TestServiceError("redis-server did not come back")
            }
        }
    }

    /// `redis-cli` with `arguments` against the test server; its output.
    public static func cli(_ arguments: String...) throws -> String {
        guard let port = environment["IDENTITY_TEST_REDIS_PORT"] else { throw TestServiceError("the Redis server's location is not exported") }
        return try Processes.run("/usr/bin/redis-cli", ["-p", port] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
