import Foundation

/// Which anomalies raise a `security_alert` for a tenant, and where alerts are sent (DESIGN.md "Metrics,
/// alerts, incident response"). Refresh-token reuse always raises one; the other rules are off until set.
public struct AlertPolicy: Sendable, Equatable, Codable {
    /// More than `maxRefreshes` refreshes of one user's sessions within `window` seconds (sliding).
    public struct RefreshSpike: Sendable, Equatable, Codable {
        public var maxRefreshes: Int
        public var window: Int
        enum CodingKeys: String, CodingKey, CaseIterable { case maxRefreshes = "max_refreshes", window }
        public init(maxRefreshes: Int, window: Int) {
            self.maxRefreshes = maxRefreshes
            self.window = window
        }
    }

    /// At least `ratio` of one client's refreshes refused within `window` seconds, once it made `minSamples`.
    public struct FailedRefreshRatio: Sendable, Equatable, Codable {
        public var ratio: Double
        public var minSamples: Int
        public var window: Int
        enum CodingKeys: String, CodingKey, CaseIterable { case ratio, minSamples = "min_samples", window }
        public init(ratio: Double, minSamples: Int, window: Int) {
            self.ratio = ratio
            self.minSamples = minSamples
            self.window = window
        }
    }

    public var refreshSpike: RefreshSpike?
    public var failedRefreshRatio: FailedRefreshRatio?
    /// A session refreshed from another /24 (IPv4) or /48 (IPv6) than it started from.
    public var newIPPrefix: Bool = false
    /// A session refreshed by another user-agent family (browser or library) than it started with.
    public var newUserAgent: Bool = false
    /// Where alerts are POSTed, signed (`X-Identityd-Signature`); none when nil.
    public var webhookURL: String?

    public init(refreshSpike: RefreshSpike? = nil, failedRefreshRatio: FailedRefreshRatio? = nil, newIPPrefix: Bool = false,
                newUserAgent: Bool = false, webhookURL: String? = nil) {
        self.refreshSpike = refreshSpike
        self.failedRefreshRatio = failedRefreshRatio
        self.newIPPrefix = newIPPrefix
        self.newUserAgent = newUserAgent
        self.webhookURL = webhookURL
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case refreshSpike = "refresh_spike"
        case failedRefreshRatio = "failed_refresh_ratio"
        case newIPPrefix = "new_ip_prefix"
        case newUserAgent = "new_user_agent"
        case webhookURL = "webhook_url"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        refreshSpike = try c.decodeIfPresent(RefreshSpike.self, forKey: .refreshSpike)
        failedRefreshRatio = try c.decodeIfPresent(FailedRefreshRatio.self, forKey: .failedRefreshRatio)
        newIPPrefix = try c.decodeIfPresent(Bool.self, forKey: .newIPPrefix) ?? false
        newUserAgent = try c.decodeIfPresent(Bool.self, forKey: .newUserAgent) ?? false
        webhookURL = try c.decodeIfPresent(String.self, forKey: .webhookURL)
    }

    /// Whether any rule needs the refresh path to report to the monitor (reuse is reported anyway).
    public var watchesRefreshes: Bool { refreshSpike != nil || failedRefreshRatio != nil || newIPPrefix || newUserAgent }

    static let windows = 1...86_400

    init(validating body: JSONObjectReader) throws {
        try body.rejectUnknown(Set(CodingKeys.allCases.map(\.rawValue)))
        if let spike = try body.object(CodingKeys.refreshSpike.rawValue) {
            try spike.rejectUnknown(Set(RefreshSpike.CodingKeys.allCases.map(\.rawValue)))
            refreshSpike = RefreshSpike(maxRefreshes: try Self.required(spike, "max_refreshes", in: 1...1_000_000),
                                        window: try Self.required(spike, "window", in: Self.windows))
        }
        if let failed = try body.object(CodingKeys.failedRefreshRatio.rawValue) {
            try failed.rejectUnknown(Set(FailedRefreshRatio.CodingKeys.allCases.map(\.rawValue)))
            guard case .number(let ratio)? = failed.fields["ratio"], ratio > 0, ratio <= 1 else {
                throw AdminError.invalidField(failed.name("ratio"), "is required: a number above 0 and at most 1")
            }
            failedRefreshRatio = FailedRefreshRatio(ratio: ratio, minSamples: try Self.required(failed, "min_samples", in: 1...1_000_000),
                                                    window: try Self.required(failed, "window", in: Self.windows))
        }
        if let value = try body.bool(CodingKeys.newIPPrefix.rawValue) { newIPPrefix = value }
        if let value = try body.bool(CodingKeys.newUserAgent.rawValue) { newUserAgent = value }
        if let url = try body.string(CodingKeys.webhookURL.rawValue) {
            webhookURL = try Self.webhook(url, field: body.name(CodingKeys.webhookURL.rawValue))
        }
    }

    private static func required(_ body: JSONObjectReader, _ key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try body.integer(key, in: range) else { throw AdminError.invalidField(body.name(key), "is required") }
        return value
    }

    /// An absolute `http` or `https` URL with a host, no credentials and no fragment, at most 2,048 bytes.
    static func webhook(_ text: String, field: String) throws -> String {
        guard text.utf8.count <= 2048, let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty,
              url.user == nil, url.password == nil, url.fragment == nil
        else { throw AdminError.invalidField(field, "must be an absolute http(s) URL with a host, without credentials or fragment") }
        return text
    }
}
