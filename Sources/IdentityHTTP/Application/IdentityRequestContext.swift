import Hummingbird
import IdentityCore
import NIOCore

/// The request context of every route: Hummingbird's core storage, the peer address, and where the request
/// came from (set once per request by `RequestOriginMiddleware`).
public struct IdentityRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client's address and user agent, for sessions, audit events and rate limits.
    public var origin = RequestOrigin()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies larger than this are refused before they are read (admin JSON; the OAuth endpoints take less).
    public var maxUploadSize: Int { 1 << 20 }
}
