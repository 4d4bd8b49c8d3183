import Foundation

/// Who made a request: carried into sessions and audit events, and what rate limits count by.
public struct RequestOrigin: Sendable, Equatable {
    /// The client's address, canonical (nil when unknown).
    public var ip: String? { address?.description }
    public var address: IPAddress?
    /// At most 512 characters, control characters replaced.
    public var userAgent: String?

    public init(ip: String? = nil, userAgent: String? = nil) {
        self.init(address: ip.flatMap { IPAddress($0) }, userAgent: userAgent)
    }

    public init(address: IPAddress?, userAgent: String?) {
        self.address = address
        self.userAgent = userAgent.map { agent in
            String(agent.unicodeScalars.prefix(512).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        }
    }

    /// What per-address limits count this origin under: the address, or for IPv6 its /64 (one host, one
    /// subscriber, usually holds a whole /64).
    public var limitKey: String? { address.map { $0.isIPv4 ? $0.description : $0.prefix(64) } }
}
