/// Reports whether the dependencies can serve: `/readyz`.
public protocol ReadinessProbe: Sendable {
    /// `ready` when the store answers; `degraded` when the store answers but the cache does not; throws
    /// when the store does not answer.
    func readiness() async throws -> Readiness
}

public enum Readiness: String, Sendable { case ready, degraded }
