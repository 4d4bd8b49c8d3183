import Foundation

extension IdentityRuntime {
    /// Runs the token endpoint of `tenantID` (DESIGN.md "Tokens" and "Rotation, reuse, sliding sessions").
    public func token(tenantID: String, request: TokenRequest) async throws -> TokenResponse {
        let grantType = try request.required("grant_type")
        guard let grant = GrantType(rawValue: grantType), grant != .authorizationCode else { throw OAuthError.unsupportedGrantType }
        let context = try await activeTenant(tenantID)
        let limits = context.policy.rateLimit
        try await checkTokenRequestLimit("ip", request.origin.ip, policy: limits, tenantID: tenantID)
        let client = try await authenticateClient(request.client, in: context, origin: request.origin)
        try await checkTokenRequestLimit("client", client.id, policy: limits, tenantID: tenantID)
        guard client.grantTypes.contains(grant) else { throw OAuthError.unauthorizedClient(reason: "grant_not_allowed") }
        switch grant {
        case .password: return try await passwordGrant(request, client: client, context: context)
        case .clientCredentials: return try await clientCredentialsGrant(request, client: client, context: context)
        case .refreshToken: return try await refreshGrant(request, client: client, context: context)
        case .authorizationCode: throw OAuthError.unsupportedGrantType
        }
    }

    // MARK: client_credentials

    private func clientCredentialsGrant(_ request: TokenRequest, client: Client, context: TenantContext) async throws -> TokenResponse {
        guard client.kind == .confidential else { throw OAuthError.unauthorizedClient(reason: "public_client") }
        let requested = try request.scopes()
        let scopes: [String]
        if let requested {
            guard requested.allSatisfy(client.scopes.contains) else { throw OAuthError.invalidScope(description: "scope not allowed for this client") }
            guard requested.allSatisfy({ context.policy.stepUpRule(for: $0) == nil }) else {
                throw OAuthError.invalidScope(description: "a sensitive scope needs a user authentication")
            }
            scopes = requested
        } else {
            scopes = client.scopes.filter { context.policy.stepUpRule(for: $0) == nil }
        }
        let now = clock.now()
        let access = try await mintAccessToken(in: context, subject: client.id, clientID: client.id, scopes: scopes,
                                               audience: try audience(request.parameters["resource"], in: context), session: nil, now: now)
        audit.record(AuditEvent(tenantID: context.tenant.id, kind: .tokenIssued, time: now, clientID: client.id,
                                tokenHashPrefix: TokenDigest.prefix(access.token), ip: request.origin.ip,
                                userAgent: request.origin.userAgent, detail: "client_credentials"))
        return TokenResponse(accessToken: access.token, tokenType: "Bearer", expiresIn: context.policy.accessTokenTTL,
                             refreshToken: nil, scope: Scope.join(scopes), idToken: nil)
    }

    // MARK: password

    /// A hash with the current parameters that never matches: checked when the username is unknown, so that
    /// the answer takes as long as for a wrong password.
    private var decoyHash: String {
        let p = hasher.parameters
        return "$scrypt$ln=\(p.logN),r=\(p.r),p=\(p.p)$" + String(repeating: "A", count: 22) + "$" + String(repeating: "A", count: 43)
    }

    private func passwordGrant(_ request: TokenRequest, client: Client, context: TenantContext) async throws -> TokenResponse {
        let username = try request.required("username"), password = try request.required("password")
        let tenantID = context.tenant.id, now = clock.now()
        func loginFailed(_ reason: String, user: String? = nil) -> OAuthError {
            audit.record(AuditEvent(tenantID: tenantID, kind: .loginFailed, time: now, userID: user, clientID: client.id,
                                    ip: request.origin.ip, userAgent: request.origin.userAgent, detail: reason))
            return OAuthError.invalidGrant(reason: reason)
        }
        let limits = context.policy.rateLimit
        try await checkLoginLockout(tenantID: tenantID, username: username, policy: limits)
        let user = username.utf8.count <= 200 ? try await store.user(tenantID: tenantID, username: username) : nil
        let passwordMatches = await hasher.verify(password, against: user?.passwordHash ?? decoyHash)
        guard let user, passwordMatches else {
            await recordLoginFailure(tenantID: tenantID, username: username, policy: limits)
            throw loginFailed(user == nil ? "unknown_user" : "wrong_password", user: user?.id)
        }

        var level = AuthenticationLevel.pwd
        if let otp = request.parameters["otp"] {
            guard let sealed = user.sealedTOTPSecret else { throw loginFailed("otp_not_enrolled", user: user.id) }
            guard TOTP(secret: try box.open(sealed)).verify(otp, at: now) else {
                await recordLoginFailure(tenantID: tenantID, username: username, policy: limits)
                throw loginFailed("wrong_otp", user: user.id)
            }
            level = .mfa
        }
        await recordLoginSuccess(tenantID: tenantID, username: username, policy: limits)

        let scopes = try grantableScopes(requested: try request.scopes(), allowed: client.scopes, acr: level, authTime: now,
                                         now: now, policy: context.policy, context: context, client: client, userID: user.id, origin: request.origin)
        let policy = context.policy
        let absolute = now.addingTimeInterval(TimeInterval(policy.sessionMaxTTL))
        var session = Session(tenantID: tenantID, id: random.identifier(prefix: "sid"), userID: user.id, clientID: client.id, scopes: scopes,
                              acr: level, amr: level.methods, authTime: now, createdAt: now, lastUsedAt: now,
                              idleExpiresAt: min(now.addingTimeInterval(TimeInterval(policy.sessionIdleTTL)), absolute),
                              absoluteExpiresAt: absolute, accessExpiresAt: now, ip: request.origin.ip, userAgent: request.origin.userAgent)
        let access = try await mintAccessToken(in: context, subject: user.id, clientID: client.id, scopes: scopes,
                                               audience: try audience(request.parameters["resource"], in: context), session: session, now: now)
        session.accessExpiresAt = Date(timeIntervalSince1970: TimeInterval(access.claims.exp))
        let refresh = client.grantTypes.contains(.refreshToken)
            ? try await mintRefreshToken(in: context, session: session, parentKey: nil, now: now) : nil
        try await store.createSession(session, firstToken: refresh?.record)
        let idToken = scopes.contains("openid") ? try await mintIDToken(in: context, user: user, session: session, now: now) : nil
        audit.record(AuditEvent(tenantID: tenantID, kind: .tokenIssued, time: now, userID: user.id, clientID: client.id, sessionID: session.id,
                                tokenHashPrefix: TokenDigest.prefix(access.token), ip: request.origin.ip, userAgent: request.origin.userAgent,
                                detail: "password acr=\(level.rawValue)"))
        return TokenResponse(accessToken: access.token, tokenType: "Bearer", expiresIn: policy.accessTokenTTL,
                             refreshToken: refresh?.token, scope: Scope.join(scopes), idToken: idToken)
    }

    /// The scopes a token may carry. Explicitly requested scopes must be allowed, and a requested sensitive
    /// scope whose step-up rule the authentication does not meet fails with `insufficient_user_authentication`;
    /// when nothing is requested, the default (`allowed`) quietly loses the sensitive scopes not met.
    func grantableScopes(requested: [String]?, allowed: [String], acr: AuthenticationLevel, authTime: Date, now: Date,
                         policy: TenantPolicy, context: TenantContext, client: Client, userID: String, origin: RequestOrigin,
                         sessionID: String? = nil) throws -> [String] {
        func satisfied(_ scope: String) -> StepUpRule? {
            guard let rule = policy.stepUpRule(for: scope) else { return nil }
            return acr >= rule.acr && now.timeIntervalSince(authTime) <= TimeInterval(rule.maxAge) ? nil : rule
        }
        guard let requested else { return allowed.filter { satisfied($0) == nil } }
        guard requested.allSatisfy(allowed.contains) else { throw OAuthError.invalidScope(description: "scope not allowed") }
        if let rule = requested.lazy.compactMap(satisfied).first {
            audit.record(AuditEvent(tenantID: context.tenant.id, kind: .stepUpRequired, time: now, userID: userID, clientID: client.id,
                                    sessionID: sessionID, ip: origin.ip, userAgent: origin.userAgent, detail: "scope=\(rule.scope)"))
            throw OAuthError.insufficientUserAuthentication(acr: rule.acr.rawValue, maxAge: rule.maxAge)
        }
        return requested
    }
}
