import Crypto
import CryptoExtras
import Dispatch
import Foundation
import Synchronization

/// Memory-hard hashing of passwords and client secrets: scrypt, stored as a PHC-style string
/// `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` so that parameters can change without invalidating old hashes.
///
/// Hashing is CPU- and memory-bound (32 MiB and tens of milliseconds at the defaults), so it runs on
/// `lanes` dedicated threads, never on an event loop or the cooperative pool; at most `lanes` hashes are
/// in memory at once.
public final class PasswordHasher: Sendable {
    /// scrypt's cost parameters.
    public struct Parameters: Sendable, Equatable, CustomStringConvertible {
        /// log2 of N, the CPU/memory cost.
        public var logN: Int
        public var r: Int
        public var p: Int
        public init(logN: Int = 15, r: Int = 8, p: Int = 1) {
            self.logN = logN
            self.r = r
            self.p = p
        }
        /// Bytes of memory one hash needs: 128·N·r.
        public var memory: Int { 128 * (1 << logN) * r * p }
        public var description: String { "scrypt ln=\(logN) (N=\(1 << logN)), r=\(r), p=\(p), \(memory >> 20) MiB" }
        /// Cheap parameters for unit tests only.
        public static let testing = Parameters(logN: 10, r: 8, p: 1)
    }

    public let parameters: Parameters
    private let random: any RandomSource
    private let queues: [DispatchQueue]
    private let next = Atomic(0)

    public init(parameters: Parameters = .init(), random: any RandomSource, lanes: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.parameters = parameters
        self.random = random
        self.queues = (0..<max(1, lanes)).map { DispatchQueue(label: "identityd.scrypt.\($0)") }
    }

    /// A new PHC string for `secret` with a fresh 16-byte salt.
    public func hash(_ secret: String) async throws -> String {
        let salt = random.bytes(16), parameters = self.parameters
        let derived = try await run { try Self.derive(Array(secret.utf8), salt: salt, parameters: parameters, length: 32) }
        return "$scrypt$ln=\(parameters.logN),r=\(parameters.r),p=\(parameters.p)$\(Self.b64(salt))$\(Self.b64(derived))"
    }

    /// Whether `secret` matches `phc`. A malformed hash never matches.
    public func verify(_ secret: String, against phc: String) async -> Bool {
        guard let parsed = Self.parse(phc) else { return false }
        let derived = try? await run {
            try Self.derive(Array(secret.utf8), salt: parsed.salt, parameters: parsed.parameters, length: parsed.hash.count)
        }
        guard let derived else { return false }
        return ConstantTime.equal(derived, parsed.hash)
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let queue = queues[(next.add(1, ordering: .relaxed).newValue & Int.max) % queues.count]
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func derive(_ secret: [UInt8], salt: [UInt8], parameters: Parameters, length: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: secret, salt: salt, outputByteCount: length, rounds: 1 << parameters.logN,
                                           blockSize: parameters.r, parallelism: parameters.p, maxMemory: parameters.memory + (1 << 20))
        return key.withUnsafeBytes { Array($0) }
    }

    private static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "") }

    static func parse(_ phc: String) -> (parameters: Parameters, salt: [UInt8], hash: [UInt8])? {
        let parts = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [String: Int] = [:]
        for pair in parts[2].split(separator: ",") {
            let kv = pair.split(separator: "=")
            guard kv.count == 2, let value = Int(kv[1]) else { return nil }
            values[String(kv[0])] = value
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"], (1...24).contains(logN), (1...32).contains(r), (1...16).contains(p),
              let salt = unpadded64(parts[3]), let hash = unpadded64(parts[4]), !hash.isEmpty else { return nil }
        return (Parameters(logN: logN, r: r, p: p), salt, hash)
    }

    private static func unpadded64(_ text: Substring) -> [UInt8]? {
        var text = String(text)
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).map { [UInt8]($0) }
    }
}
