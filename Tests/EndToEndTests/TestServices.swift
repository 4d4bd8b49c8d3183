import Foundation
import Synchronization
import Testing
import TestServices
import TestServices
#if canImport(Glibc)
import Glibc
#endif

/// The suites that use the shared PostgreSQL and Redis servers, one test at a time: some of them stop and start
/// those servers.
@Suite(.serialized) enum SharedServerTests {}

/// nginx from deploy/nginx/identityd.conf in front of some nodes, on a free port.
final class TestNginx: @unchecked Sendable {
    let port: Int
    let prefix: URL
    private let pid: pid_t
    var base: String { "http://127.0.0.1:\(port)" }

    /// `port`: where to listen (known before the nodes start, so that they can name it as their public URL).
    init(upstreams: [ServerProcess], port: Int) throws {
        self.port = port
        prefix = FileManager.default.temporaryDirectory.appendingPathComponent("identityd-nginx-\(UUID().uuidString)")
        for folder in ["", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            let path = prefix.appendingPathComponent(folder).path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            chmod(path, 0o777)  // nginx's workers run as an unprivileged user
        }
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { repository.deleteLastPathComponent() }
        let template = try String(contentsOf: repository.appendingPathComponent("deploy/nginx/identityd.conf"), encoding: .utf8)
        let config = template
            .replacingOccurrences(of: "@PREFIX@", with: prefix.path)
            .replacingOccurrences(of: "@LISTEN@", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "@UPSTREAMS@", with: upstreams.map { "server 127.0.0.1:\($0.port) max_fails=1 fail_timeout=5s;" }.joined(separator: "\n        "))
        let configPath = prefix.appendingPathComponent("nginx.conf").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        pid = try Processes.spawn("/usr/sbin/nginx", ["-p", prefix.path, "-c", configPath, "-g", "daemon off;"],
                                    output: prefix.appendingPathComponent("stderr.log").path)
    }

    func waitUntilReady() async throws {
        for _ in 0..<100 {
            if let response = try? await HTTP.send("GET", base + "/healthz"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = ["stderr.log", "error.log"].compactMap { try? String(contentsOf: prefix.appendingPathComponent($0), encoding: .utf8) }.joined()
        throw E2EError("nginx did not come up: \(log)")
    }

    func stop() {
        kill(pid, SIGQUIT)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
}

/// A load driven from plain threads with blocking sockets, so that it cannot starve the test's own tasks.
/// `phase` is the test's to set ("done" stops the threads).
class LoadThreads: @unchecked Sendable {
    let phase: Mutex<String>
    private let running = Mutex(0)

    init(phase: String = "running") { self.phase = Mutex(phase) }

    var isDone: Bool { phase.withLock { $0 } == "done" }

    /// Runs `body(index)` on `count` threads.
    func start(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        running.withLock { $0 = count }
        for index in 0..<count {
            Thread.detachNewThread {
                defer { self.running.withLock { $0 -= 1 } }
                body(index)
            }
        }
    }

    /// Stops the threads and waits for them.
    func stop() async {
        halt()
        while running.withLock({ $0 }) > 0 { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Tells the threads to stop without waiting for them.
    func halt() { phase.withLock { $0 = "done" } }
}

/// The claims of a JWT, unverified (the tests verify signatures elsewhere).
func jwtClaims(_ token: String) -> [String: Any] {
    let parts = token.split(separator: ".")
    guard parts.count == 3 else { return [:] }
    var text = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while text.count % 4 != 0 { text += "=" }
    guard let data = Data(base64Encoded: text), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    return object
}
