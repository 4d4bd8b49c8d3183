import Foundation
import Synchronization

/// Memory-hard hashing of passwords and client secrets, stored as PHC strings
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) so that the scheme and its parameters can change without
/// invalidating old hashes: new hashes use `current`; any of `schemes` verifies.
///
/// Hashing is CPU- and memory-bound (19 MiB and tens of milliseconds with Argon2id at OWASP's parameters), so
/// it runs on `lanes` dedicated threads, never on an event loop or the cooperative pool: at most `lanes`
/// hashes are in memory at once. Jobs wait in a bounded queue that is fair between tenants — each lane takes
/// the next job of the next tenant in turn, and no tenant may hold more than `perTenantLimit` of the
/// `queueLimit` places — so a flood of wrong secrets at one tenant neither grows without bound nor stops
/// another tenant's logins. A job that finds no place fails at once with `HashingQueueFull` (503 with
/// `Retry-After`).
public final class PasswordHasher: Sendable {
    public let current: any PasswordScheme
    private let schemes: [String: any PasswordScheme]
    private let random: any RandomSource
    public let lanes: Int
    public let queueLimit: Int
    public let perTenantLimit: Int
    private let queue = JobQueue()

    /// `also`: schemes that verify older hashes (scrypt, identityd's scheme before Argon2id).
    public init(current: any PasswordScheme, also: [any PasswordScheme] = [], random: any RandomSource, lanes: Int,
                queueLimit: Int? = nil, perTenantLimit: Int? = nil) {
        self.current = current
        self.schemes = Dictionary(([current] + also).map { ($0.identifier, $0) }) { first, _ in first }
        self.random = random
        self.lanes = max(1, lanes)
        let limit = max(1, queueLimit ?? self.lanes * 32)
        self.queueLimit = limit
        self.perTenantLimit = max(1, perTenantLimit ?? max(1, limit / 2))
        for index in 0..<self.lanes {
            let thread = Thread { [queue] in
                while true { queue.take()() }
            }
            thread.name = "identityd-hash-\(index)"
            thread.start()
        }
    }

    /// A new PHC string for `secret` with a fresh 16-byte salt, under the current scheme.
    public func hash(_ secret: String, tenant: String) async throws -> String {
        let salt = random.bytes(16), scheme = current
        let derived = try await run(tenant: tenant) {
            guard let derived = try scheme.derive(Array(secret.utf8), salt: salt, parameters: nil, length: 32) else {
                throw PasswordHashError.unusableParameters
            }
            return derived
        }
        return PHC(scheme: scheme.identifier, parameters: scheme.parameters, salt: salt, hash: derived).description
    }

    /// Whether `secret` matches `phc`. A malformed hash, or one of a scheme this hasher does not know, never
    /// matches. Throws `HashingQueueFull` when the queue has no place.
    public func verify(_ secret: String, against phc: String, tenant: String) async throws -> Bool {
        guard let parsed = PHC(phc), let scheme = schemes[parsed.scheme] else { return false }
        let derived = try await run(tenant: tenant) {
            try? scheme.derive(Array(secret.utf8), salt: parsed.salt, parameters: parsed.parameters, length: parsed.hash.count)
        }
        guard let derived else { return false }
        return ConstantTime.equal(derived, parsed.hash)
    }

    /// Whether `phc` should be hashed again with the current scheme and parameters (at the next login).
    public func needsRehash(_ phc: String) -> Bool {
        guard let parsed = PHC(phc) else { return true }
        return parsed.scheme != current.identifier || parsed.parameters != current.parameters
    }

    /// A hash with the current scheme and parameters that never matches: checked when a username is unknown,
    /// so that the answer takes as long as for a wrong password.
    public var decoyHash: String {
        PHC(scheme: current.identifier, parameters: current.parameters, salt: Array(repeating: 0, count: 16),
            hash: Array(repeating: 0, count: 32)).description
    }

    /// Jobs waiting, across tenants.
    public var waiting: Int { queue.count }

    private func run<T: Sendable>(tenant: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: @Sendable () -> Void = { continuation.resume(with: Result { try work() }) }
            guard queue.add(job, tenant: tenant, limit: queueLimit, perTenant: perTenantLimit) else {
                return continuation.resume(throwing: HashingQueueFull())
            }
        }
    }
}

/// The hashing queue had no place for a job: the request is refused at once (503, `Retry-After`).
public struct HashingQueueFull: Error, Sendable {
    public init() {}
}

public enum PasswordHashError: Error, Sendable {
    case unusableParameters
}

/// The jobs waiting for a lane, and the lanes waiting for a job.
private final class JobQueue: Sendable {
    private let jobs = Mutex(FairQueue())
    private let ready = DispatchSemaphore(value: 0)

    var count: Int { jobs.withLock { $0.count } }

    func add(_ job: @escaping @Sendable () -> Void, tenant: String, limit: Int, perTenant: Int) -> Bool {
        guard jobs.withLock({ $0.add(job, tenant: tenant, limit: limit, perTenant: perTenant) }) else { return false }
        ready.signal()
        return true
    }

    /// The next job, waiting for one.
    func take() -> @Sendable () -> Void {
        while true {
            ready.wait()
            if let job = jobs.withLock({ $0.next() }) { return job }
        }
    }
}

/// Per-tenant FIFOs taken in turn.
private struct FairQueue {
    private var jobs: [String: [@Sendable () -> Void]] = [:]
    private var turns: [String] = []
    private(set) var count = 0

    mutating func add(_ job: @escaping @Sendable () -> Void, tenant: String, limit: Int, perTenant: Int) -> Bool {
        guard count < limit, (jobs[tenant]?.count ?? 0) < perTenant else { return false }
        if jobs[tenant] == nil { turns.append(tenant) }
        jobs[tenant, default: []].append(job)
        count += 1
        return true
    }

    /// The oldest job of the tenant whose turn it is.
    mutating func next() -> (@Sendable () -> Void)? {
        guard !turns.isEmpty else { return nil }
        let tenant = turns.removeFirst()
        guard var waiting = jobs[tenant], !waiting.isEmpty else { return nil }
        let job = waiting.removeFirst()
        count -= 1
        if waiting.isEmpty {
            jobs[tenant] = nil
        } else {
            jobs[tenant] = waiting
            turns.append(tenant)
        }
        return job
    }
}
