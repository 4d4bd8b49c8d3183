import Foundation

/// Who made a request: carried into sessions and audit events.
public struct RequestOrigin: Sendable, Equatable {
    public var ip: String?
    public var userAgent: String?
    public init(ip: String? = nil, userAgent: String? = nil) {
        self.ip = ip
        self.userAgent = userAgent.map { String($0.prefix(512)) }
    }
}
