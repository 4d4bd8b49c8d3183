import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `identityd` binary, started on a free port with a fresh data directory, its log captured.
final class ServerProcess: @unchecked Sendable {
    let port: Int
    /// The management listener (`/metrics`).
    let metricsPort: Int
    let dataDirectory: URL
    let logFile: URL
    let process = Process()
    var base: String { "http://127.0.0.1:\(port)" }

    /// Where the binary is: `IDENTITYD_BINARY`, or next to the test bundle in the build folder.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["IDENTITYD_BINARY"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("identityd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return ".build/debug/identityd"
    }

    init(environment extra: [String: String] = [:], arguments: [String] = ["serve"], dataDirectory reused: URL? = nil) throws {
        port = try Self.freePort()
        metricsPort = try Self.freePort()
        dataDirectory = reused ?? FileManager.default.temporaryDirectory.appendingPathComponent("identityd-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        logFile = dataDirectory.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("IDENTITY_") }
        environment["IDENTITY_PORT"] = "\(port)"
        // A management listener of its own (the default 9464 would be shared by every server a test starts).
        environment["IDENTITY_METRICS_PORT"] = "\(metricsPort)"
        environment["IDENTITY_DATA_DIR"] = dataDirectory.path
        environment["IDENTITY_LOG_LEVEL"] = "debug"
        // Cheap password hashes: the tests create and log in many users.
        environment["IDENTITY_PASSWORD_HASH_MEMORY"] = "1024"
        environment["IDENTITY_PASSWORD_HASH_ITERATIONS"] = "1"
        environment.merge(extra) { $1 }
        // PostgreSQL needs the master key configured (every node must share it).
        if environment["IDENTITY_STORE"]?.hasPrefix("postgres") == true, environment["IDENTITY_MASTER_KEY"] == nil {
            environment["IDENTITY_MASTER_KEY"] = Self.testMasterKey
        }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Waits until `/healthz` answers.
    func waitUntilReady() async throws {
        for _ in 0..<200 {
            if let response = try? await HTTP.send("GET", base + "/healthz"), response.status == 200 { return }
            guard process.isRunning else { throw E2EError("identityd exited early:\n\(log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw E2EError("identityd did not become ready:\n\(log)")
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    var adminToken: String {
        (try? String(contentsOf: dataDirectory.appendingPathComponent("admin-token"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// Waits for the process to end by itself (a start that must fail) and returns its exit status.
    func waitForExit(seconds: Double = 20) async -> Int32? {
        for _ in 0..<Int(seconds * 20) where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Sends SIGTERM and returns the exit status.
    func stop() async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        for _ in 0..<300 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            return -9
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// The master key of the PostgreSQL test servers (base64 of 32 bytes).
    static let testMasterKey = Data(repeating: 0x5A, count: 32).base64EncodedString()

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw E2EError("cannot bind a free port") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A minimal HTTP/1.1 client over a socket, one connection per request (`Connection: close`). URLSession is
/// not used: on Linux it stalls on a 401 that carries `WWW-Authenticate: Basic`, and it rewrites requests.
enum HTTP {
    struct Response: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        subscript(_ key: String) -> String? { json[key] as? String }
    }

    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Response {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try sendBlocking(method, url, headers: headers, body: body) }) }
        }
    }

    /// `send` on the calling thread (for load generators that run on threads of their own).
    static func sendBlocking(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) throws -> Response {
        guard let components = URLComponents(string: url), let port = components.port else { throw E2EError("bad URL \(url)") }
        let target = components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body?.count ?? 0)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Data((head + "\r\n").utf8) + (body ?? Data())
        return try parse(try exchange(request, port: port))
    }

    private static func exchange(_ request: Data, port: Int) throws -> Data {
        let fd = try connectLoopback(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may refuse a large body early and close; read its answer anyway
            sent += n
        }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        return response
    }

    private static func parse(_ raw: Data) throws -> Response {
        guard let split = raw.range(of: Data("\r\n\r\n".utf8)) else { throw E2EError("no HTTP response (\(raw.count) bytes)") }
        let lines = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw E2EError("bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(raw[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: Data) -> Data {
        var output = Data(), rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
            if size == 0 { break }
            let start = lineEnd.upperBound
            output.append(rest[start..<start + size])
            rest = rest[(start + size + 2)...]
        }
        return output
    }

    /// `application/x-www-form-urlencoded` from pairs (repeats allowed, to test them).
    static func form(_ pairs: [(String, String)]) -> Data {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Data(pairs.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&").utf8)
    }

    static func basic(_ id: String, _ secret: String) -> String { "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString() }
}

/// A TCP socket connected to 127.0.0.1:`port` (blocking).
func connectLoopback(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw E2EError("socket failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw E2EError("connection refused")
    }
    return fd
}
