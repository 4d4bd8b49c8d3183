import Foundation

/// Carries invalidations to every node (Redis pub/sub, or PostgreSQL's LISTEN/NOTIFY). The local node
/// applies its own invalidations before publishing, so a bus only has to reach the others.
public protocol InvalidationBus: Sendable {
    /// Publishes `invalidation` to the other nodes; failures are logged by the bus, never thrown.
    func publish(_ invalidation: Invalidation) async
}

/// The bus of a single node: there is nobody else to tell.
public struct LocalInvalidationBus: InvalidationBus {
    public init() {}
    public func publish(_ invalidation: Invalidation) async {}
}
