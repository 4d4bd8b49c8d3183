import Foundation

/// An anomaly a rule of the tenant's `alerts` policy found (or reuse, always): recorded as a
/// `security_alert` event whose detail is the rule and its figures (`refresh_spike count=61 max=60 window=60`).
public struct SecurityAlert: Sendable, Equatable {
    public enum Rule: String, Sendable, CaseIterable {
        case reuseDetected = "reuse_detected"
        case refreshSpike = "refresh_spike"
        case failedRefreshRatio = "failed_refresh_ratio"
        case newIPPrefix = "new_ip_prefix"
        case newUserAgent = "new_user_agent"
    }

    public var rule: Rule
    public var tenantID: String
    public var userID: String?
    public var clientID: String?
    public var sessionID: String?
    /// The figures that made the rule fire, in order (`count=61`, `window=60`).
    public var figures: [(String, String)]
    public var time: Date

    public init(rule: Rule, tenantID: String, userID: String?, clientID: String?, sessionID: String?, figures: [(String, String)], time: Date) {
        self.rule = rule
        self.tenantID = tenantID
        self.userID = userID
        self.clientID = clientID
        self.sessionID = sessionID
        self.figures = figures
        self.time = time
    }

    public var detail: String { ([rule.rawValue] + figures.map { "\($0.0)=\($0.1)" }).joined(separator: " ") }

    /// The webhook's JSON body: what happened, to whom, the figures, when (RFC 3339), and `id` for receivers
    /// to drop a repeat (delivery is at least once).
    func webhookBody(id: String) -> String {
        var figures: [String: JSONValue] = [:]
        for (name, value) in self.figures { figures[name] = .string(value) }
        func optional(_ value: String?) -> JSONValue { value.map { JSONValue.string($0) } ?? .null }
        var fields: [String: JSONValue] = ["id": .string(id), "type": .string("security_alert"), "rule": .string(rule.rawValue)]
        fields["tenant"] = .string(tenantID)
        fields["user_id"] = optional(userID)
        fields["client_id"] = optional(clientID)
        fields["session_id"] = optional(sessionID)
        fields["figures"] = .object(figures)
        fields["detail"] = .string(detail)
        fields["time"] = .string(ISO8601DateFormatter().string(from: time))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data = (try? encoder.encode(JSONValue.object(fields))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public static func == (a: SecurityAlert, b: SecurityAlert) -> Bool {
        a.rule == b.rule && a.tenantID == b.tenantID && a.userID == b.userID && a.clientID == b.clientID && a.sessionID == b.sessionID
            && a.figures.map { "\($0.0)=\($0.1)" } == b.figures.map { "\($0.0)=\($0.1)" } && a.time == b.time
    }
}
