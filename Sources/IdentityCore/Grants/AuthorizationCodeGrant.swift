import Crypto
import Foundation

/// `grant_type=authorization_code` with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.6): the code consumed once
/// (compare-and-set), then checked — the client it was issued to, the redirect URI it was sent to, the
/// verifier's S256 against its challenge — and a session started with the authentication the code carries.
/// A code presented again is `invalid_grant` and ends the session its first exchange started (RFC 6749
/// §4.1.2: "the authorization server … SHOULD revoke … all tokens previously issued based on that code").
public struct AuthorizationCodeGrant: GrantHandler {
    public var grantType: GrantType { .authorizationCode }
    let codes: any AuthorizationCodeStore
    let users: any UserStore
    let sessions: SessionStarter
    let revoker: SessionRevoker
    let audit: AuditLog
    let clock: any IdentityClock

    /// How long a code lives.
    public static let lifetime: TimeInterval = 60

    /// The request, validated before the code is consumed.
    struct Parsed {
        var code: String
        var redirectURI: String?
        var verifier: String
        var audience: String

        init(_ request: TokenRequest, issuer: String) throws {
            code = try request.required("code")
            verifier = try request.required("code_verifier")
            // RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~].
            guard (43...128).contains(verifier.utf8.count),
                  verifier.utf8.allSatisfy({ $0.isASCIIAlphanumeric || [0x2D, 0x2E, 0x5F, 0x7E].contains($0) }) else {
                throw OAuthError.invalidRequest(description: "code_verifier must be 43 to 128 unreserved characters")
            }
            guard code.utf8.count <= 512 else { throw OAuthError.invalidGrant(reason: "malformed_code") }
            redirectURI = request.parameters["redirect_uri"]
            audience = try request.audience(issuer: issuer)
        }
    }

    public func respond(to request: TokenRequest, client: Client, in context: TenantContext) async throws -> TokenResponse {
        let parsed = try Parsed(request, issuer: context.issuer)
        let tenantID = context.tenant.id, origin = request.origin, codeHash = TokenDigest.hex(parsed.code)
        func failed(_ reason: String, _ code: AuthorizationCode? = nil) -> OAuthError {
            audit.record(.codeExchangeFailed, tenantID: tenantID, at: clock.now(), origin: origin, user: code?.userID, client: client.id,
                         token: String(codeHash.prefix(12)), detail: reason)
            return OAuthError.invalidGrant(reason: reason)
        }
        let code: AuthorizationCode
        switch try await codes.consumeCode(tenantID: tenantID, codeHash: codeHash, now: clock.now()) {
        case .unknown:
            throw failed("unknown_or_expired_code")
        case .alreadyConsumed(let used):
            if let sessionID = used.sessionID {
                try await revoker.revoke(.sessions([sessionID]), tenantID: tenantID, reason: "authorization_code_reused", origin: origin)
            }
            audit.record(.codeReused, tenantID: tenantID, at: clock.now(), origin: origin, user: used.userID, client: client.id,
                         session: used.sessionID, token: String(codeHash.prefix(12)), detail: used.sessionID == nil ? "no_session_yet" : "session_revoked")
            throw OAuthError.invalidGrant(reason: "code_reused")
        case .consumed(let consumed):
            code = consumed
        }
        guard code.clientID == client.id else { throw failed("wrong_client", code) }
        let registered = client.redirectURIs.count == 1 ? client.redirectURIs[0] : nil
        guard (parsed.redirectURI ?? registered) == code.redirectURI else { throw failed("redirect_uri_mismatch", code) }
        let digest = Base64URL.encode(SHA256.hash(data: Array(parsed.verifier.utf8)))
        guard ConstantTime.equal(Array(digest.utf8), Array(code.codeChallenge.utf8)) else { throw failed("pkce_verifier_mismatch", code) }
        // RFC 9449 §10: a code bound to a key (dpop_jkt on authorize) is exchanged only with a proof of it.
        if let bound = code.dpopJKT, request.proof?.jkt != bound {
            audit.record(.codeExchangeFailed, tenantID: tenantID, at: clock.now(), origin: origin, user: code.userID, client: client.id,
                         token: String(codeHash.prefix(12)), detail: request.proof == nil ? "dpop_proof_missing" : "dpop_key_not_bound")
            throw OAuthError.invalidDPoPProof(reason: request.proof == nil ? "dpop_proof_missing" : "dpop_key_not_bound")
        }
        guard let user = try await users.user(tenantID: tenantID, id: code.userID) else { throw failed("user_gone", code) }

        let authenticated = AuthenticatedUser(user: user, level: code.acr, authTime: code.authTime, methods: code.amr)
        let refresh = code.scopes.contains("offline_access") && client.grantTypes.contains(.refreshToken)
        var grant = SessionStarter.Grant(authentication: authenticated, client: client, scopes: code.scopes, audience: parsed.audience,
                                         refresh: refresh, origin: origin, detail: "authorization_code acr=\(code.acr.rawValue)")
        grant.nonce = code.nonce
        grant.browserSessionID = code.browserSessionID
        grant.dpopJKT = request.proof?.jkt
        let (response, session) = try await sessions.startReturningSession(grant, in: context)
        try await codes.attachSession(tenantID: tenantID, codeHash: codeHash, sessionID: session.id)
        return response
    }
}
