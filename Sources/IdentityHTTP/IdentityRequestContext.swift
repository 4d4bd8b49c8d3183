import Hummingbird
import IdentityCore
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the peer address.
public struct IdentityRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies larger than this are refused before they are read (admin JSON; the OAuth endpoints take less).
    public var maxUploadSize: Int { 1 << 20 }

    /// Where the request came from, for sessions and audit events.
    func origin(_ request: Request, trustForwardedFor: Bool) -> RequestOrigin {
        var ip = remoteAddress?.ipAddress
        if trustForwardedFor, let forwarded = request.headers[.init("X-Forwarded-For")!], let first = forwarded.split(separator: ",").first {
            ip = first.trimmingCharacters(in: .whitespaces)
        }
        return RequestOrigin(ip: ip, userAgent: request.headers[.userAgent])
    }
}
