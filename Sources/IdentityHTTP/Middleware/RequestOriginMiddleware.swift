import Hummingbird
import IdentityCore

/// Works out once per request where it came from. The peer's address, unless the peer is one of the
/// `trustedProxies`: then `X-Forwarded-For` is read from the right, past every trusted proxy, and the first
/// address that is not one is the client's (entries further left are the client's to choose, and are never
/// read). Without trusted proxies the header is ignored.
struct RequestOriginMiddleware: RouterMiddleware {
    typealias Context = IdentityRequestContext
    let trustedProxies: [IPRange]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let peer = context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        context.origin = RequestOrigin(address: clientAddress(peer: peer, forwardedFor: request.headers[values: .forwardedFor]),
                                       userAgent: request.headers[.userAgent])
        return try await next(request, context)
    }

    /// The client's address: `peer`, or behind trusted proxies the right-most untrusted hop of the headers.
    func clientAddress(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        guard var client = peer, isTrusted(client), !forwardedFor.isEmpty else { return peer }
        let hops = forwardedFor.joined(separator: ",").split(separator: ",")
        for hop in hops.reversed() {
            // A hop that is not an address ends the walk: the last trusted proxy is then all we know.
            guard let address = IPAddress(hop.trimmingCharacters(in: .whitespaces)) else { break }
            client = address
            guard isTrusted(address) else { break }
        }
        return client
    }

    private func isTrusted(_ address: IPAddress) -> Bool { trustedProxies.contains { $0.contains(address) } }
}
