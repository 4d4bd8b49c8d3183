import Foundation
import IdentityCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The webhooks' HTTP client: one HTTP/1.1 POST per connection over NIO (TLS with the system's roots for
/// `https`), answered by its status. Redirects are not followed (a 3xx is a failed attempt); connecting
/// and the whole exchange are bounded by `timeout`. A URL that reaches identityd itself — its public URL's
/// host and port (the load balancer), or a local address on its public or management port — is refused, so
/// that a tenant cannot make the server call itself.
struct WebhookHTTPTransport: WebhookTransport {
    struct Refused: Error, CustomStringConvertible { let description: String }

    let ownPorts: Set<Int>
    /// The public URL's host and port.
    let publicEndpoint: (host: String, port: Int)?
    let timeout: TimeAmount
    let tls: NIOSSLContext

    init(ownPorts: Set<Int>, publicURL: String, timeout: TimeAmount = .seconds(5)) throws {
        self.ownPorts = ownPorts
        publicEndpoint = URLComponents(string: publicURL).flatMap { url in
            url.host.map { ($0.lowercased(), url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)) }
        }
        self.timeout = timeout
        tls = try NIOSSLContext(configuration: .makeClientConfiguration())
    }

    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty else { throw Refused(description: "not an http(s) URL") }
        let port = parts.port ?? (scheme == "https" ? 443 : 80)
        if let own = publicEndpoint, own.host == host.lowercased(), own.port == port {
            throw Refused(description: "the URL points at identityd itself (its public URL)")
        }
        if ownPorts.contains(port), Self.resolvesToThisHost(host) { throw Refused(description: "the URL points at identityd itself") }
        let path = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: parts.port.map { "\(host):\($0)" } ?? host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: "\(body.count)")
        head.headers.add(name: "Connection", value: "close")

        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let status = eventLoop.makePromise(of: Int.self)
        let tls = self.tls
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if scheme == "https" {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(status: status))
                }
            }
        let timer = eventLoop.scheduleTask(in: timeout) { status.fail(Refused(description: "no answer within the timeout")) }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            status.futureResult.whenComplete { _ in channel.close(promise: nil) }
            let code = try await status.futureResult.get()
            timer.cancel()
            return code
        } catch {
            timer.cancel()
            status.fail(error)
            throw error
        }
    }

    /// Whether `host` is an address of this machine: a loopback or unspecified address, or one of its interfaces'.
    static func resolvesToThisHost(_ host: String) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), nil, &hints, &result) == 0 else { return false }
        defer { freeaddrinfo(result) }
        let local = Set(localAddresses())
        var entry = result
        while let info = entry?.pointee {
            if let address = info.ai_addr.flatMap(numericHost), let parsed = IPAddress(address) {
                let bytes = parsed.bytes
                if bytes.allSatisfy({ $0 == 0 }) || (parsed.isIPv4 && bytes[0] == 127) || (!parsed.isIPv4 && bytes == Array(repeating: 0, count: 15) + [1])
                    || local.contains(parsed) { return true }
            }
            entry = info.ai_next
        }
        return false
    }

    private static func localAddresses() -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let interface = entry?.pointee {
            if let address = interface.ifa_addr.flatMap(numericHost).flatMap(IPAddress.init) { addresses.append(address) }
            entry = interface.ifa_next
        }
        return addresses
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(cString: buffer).split(separator: "%").first.map(String.init)
    }
}

/// Completes `status` with the response head's status code (or fails it when the connection ends first).
private final class StatusHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let status: EventLoopPromise<Int>

    init(status: EventLoopPromise<Int>) { self.status = status }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { status.succeed(Int(head.status.code)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        status.fail(WebhookHTTPTransport.Refused(description: "the connection closed without an answer"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        status.fail(error)
        context.close(promise: nil)
    }
}
