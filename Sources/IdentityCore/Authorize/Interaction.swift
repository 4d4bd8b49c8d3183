import Foundation

/// A browser sign-in between its pages: the validated request and what the sign-in has established so far.
/// It travels in the pages' forms sealed under the master key (AES-GCM, bound to the tenant), so that any node
/// can serve the next page and nothing in it can be changed or read by the browser. `csrf` is also the value
/// of the tenant's CSRF cookie: a form posted from elsewhere lacks the cookie that goes with it.
public struct Interaction: Sendable, Codable, Equatable {
    public var tenantID: String
    public var request: AuthorizationRequest
    public var progress: SignInFlow.Progress
    public var csrf: String
    public var expiresAt: Date

    /// How long a sign-in may take from the authorize request to the code.
    public static let lifetime: TimeInterval = 900
}

/// Seals and opens interactions (and PAR's request URIs) with the master key.
public struct InteractionSeal: Sendable {
    let box: SecretBox

    public init(box: SecretBox) { self.box = box }

    public func seal(_ interaction: Interaction) throws -> String {
        try box.seal(try JSONEncoder().encode(interaction).map { $0 }, context: Self.context(interaction.tenantID))
    }

    /// The interaction `sealed` holds, if it was sealed for `tenantID` and has not expired at `now`.
    public func open(_ sealed: String, tenantID: String, now: Date) -> Interaction? {
        guard sealed.utf8.count <= 16_384, let bytes = try? box.open(sealed, context: Self.context(tenantID)),
              let interaction = try? JSONDecoder().decode(Interaction.self, from: Data(bytes)),
              interaction.tenantID == tenantID, now < interaction.expiresAt else { return nil }
        return interaction
    }

    static func context(_ tenantID: String) -> String { "interaction:\(tenantID)" }

    /// A pushed authorization request (RFC 9126) as its `request_uri`: the parameters sealed with the client
    /// and an expiry, so any node can take it back.
    public func requestURI(for parameters: [String: String], clientID: String, tenantID: String, expiresAt: Date) throws -> String {
        let pushed = PushedRequest(clientID: clientID, parameters: parameters, expiresAt: expiresAt)
        let sealed = try box.seal(Array(try JSONEncoder().encode(pushed)), context: "par:\(tenantID)")
        return PushedRequest.prefix + Base64URL.encode(Array(sealed.utf8))
    }

    /// The parameters of a pushed request, if `uri` is one of this tenant's, for `clientID`, still valid.
    public func pushedParameters(_ uri: String, clientID: String?, tenantID: String, now: Date) -> [String: String]? {
        guard uri.hasPrefix(PushedRequest.prefix), uri.utf8.count <= 24_000,
              let sealed = Base64URL.decode(uri.dropFirst(PushedRequest.prefix.count)),
              let bytes = try? box.open(String(decoding: sealed, as: UTF8.self), context: "par:\(tenantID)"),
              let pushed = try? JSONDecoder().decode(PushedRequest.self, from: Data(bytes)),
              now < pushed.expiresAt, clientID == nil || clientID == pushed.clientID else { return nil }
        return pushed.parameters
    }
}

/// What a pushed authorization request's `request_uri` seals.
struct PushedRequest: Codable {
    static let prefix = "urn:ietf:params:oauth:request_uri:"
    var clientID: String
    var parameters: [String: String]
    var expiresAt: Date
}
