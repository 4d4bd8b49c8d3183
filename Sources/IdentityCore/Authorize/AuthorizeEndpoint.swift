import Foundation

/// `GET|POST /oauth/authorize` and the pages after it (DESIGN.md "Browser sign-in"): validates the request,
/// runs `SignInFlow` over the browser session, the login, TOTP and consent pages, and ends with a redirect
/// that carries a code (or an error). The HTTP layer renders the pages and sets the cookies it is told to.
public struct AuthorizeEndpoint: Sendable {
    let directory: TenantDirectory
    let users: UserAuthenticator
    let userStore: any UserStore
    let browserSessions: any BrowserSessionStore
    let consents: any ConsentStore
    let codes: any AuthorizationCodeStore
    let seal: InteractionSeal
    let audit: AuditLog
    let random: any RandomSource
    let clock: any IdentityClock

    /// What the browser sent besides the parameters.
    public struct Browser: Sendable {
        /// The browser session cookie (`bs_…`.`secret`), if any.
        public var sessionCookie: String?
        /// The CSRF cookie, if any.
        public var csrfCookie: String?
        public var origin: RequestOrigin

        public init(sessionCookie: String?, csrfCookie: String?, origin: RequestOrigin) {
            self.sessionCookie = sessionCookie
            self.csrfCookie = csrfCookie
            self.origin = origin
        }
    }

    /// A page to show.
    public struct Page: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case login(username: String?)
            case otp
            /// The scopes asked for, each with words for it.
            case consent([ScopeDescription])
        }
        public var kind: Kind
        /// A message for the user (a wrong password, too many attempts), or nil.
        public var error: String?
        /// The HTTP status: 200, or with `error` 400 (a wrong entry), 429 (too many attempts), 503.
        public var status: Int
        public var tenantName: String
        public var clientName: String
        /// The sealed interaction, for the page's form.
        public var interaction: String
        /// The CSRF value: the page's cookie.
        public var csrf: String
        /// Where the form's success may redirect to (the client's redirect URI), for the page's CSP.
        public var redirectURI: String
    }

    /// A new browser session's cookie.
    public struct BrowserCookie: Sendable, Equatable {
        public var value: String
        public var expiresAt: Date
    }

    public enum Outcome: Sendable, Equatable {
        case page(Page)
        /// To the client; `browserCookie`: a new SSO cookie to set with it.
        case redirect(location: String, browserCookie: BrowserCookie?)
        /// An HTML error page (never a redirect: the client or its redirect URI is not trusted).
        case errorPage(status: Int, message: String)
    }

    /// A scope with words for it, for the consent page.
    public struct ScopeDescription: Sendable, Equatable {
        public var scope: String
        public var words: String
    }

    // MARK: the request

    /// The authorize request: validated (after PAR's `request_uri` is resolved), then the first step.
    public func start(tenantID: String, parameters: [String: String], browser: Browser) async throws -> Outcome {
        guard let context = try await directory.context(for: tenantID), context.tenant.status == .active else {
            return .errorPage(status: 404, message: "This sign-in page does not exist.")
        }
        var parameters = parameters
        let pushed = parameters["request_uri"].map { uri in
            seal.pushedParameters(uri, clientID: parameters["client_id"], tenantID: tenantID, now: clock.now())
        }
        if let pushed {
            guard let pushed else { return .errorPage(status: 400, message: "The sign-in request has expired or is not valid. Go back and try again.") }
            parameters = pushed
        }
        let client = try await parameters["client_id"].asyncFlatMap { id in
            Client.isValidID(id) ? try await directory.client(tenantID: tenantID, id: id) : nil
        }
        let request: AuthorizationRequest
        do {
            request = try AuthorizationRequest.validate(parameters, client: client, policy: context.policy)
            if context.policy.requirePAR, pushed == nil {
                throw AuthorizationRequest.Refusal.redirect(redirectURI: request.redirectURI, state: request.state, error: "invalid_request",
                                                            description: "this tenant takes authorization requests only through PAR")
            }
        } catch let refusal as AuthorizationRequest.Refusal {
            return Self.outcome(refusal, issuer: context.issuer)
        }
        let csrf = browser.csrfCookie.flatMap { Base64URL.decode($0)?.count == 16 ? $0 : nil } ?? random.token(bytes: 16)
        let interaction = Interaction(tenantID: tenantID, request: request, progress: .init(), csrf: csrf,
                                      expiresAt: clock.now().addingTimeInterval(Interaction.lifetime))
        return try await proceed(interaction, context: context, client: client!, browser: browser)
    }

    // MARK: the pages' forms

    /// A page's form: `interaction` (sealed), `step` (`login`, `otp`, `consent`), the step's fields, `cancel`.
    public func submit(tenantID: String, form: [String: String], browser: Browser) async throws -> Outcome {
        guard let context = try await directory.context(for: tenantID), context.tenant.status == .active else {
            return .errorPage(status: 404, message: "This sign-in page does not exist.")
        }
        guard let sealed = form["interaction"], var interaction = seal.open(sealed, tenantID: tenantID, now: clock.now()) else {
            return .errorPage(status: 400, message: "This sign-in has expired. Go back to the application and start again.")
        }
        // The form must come with its cookie: a page posted from another site does not.
        guard let cookie = browser.csrfCookie, ConstantTime.equal(Array(cookie.utf8), Array(interaction.csrf.utf8)) else {
            return .errorPage(status: 403, message: "This form was not sent from this sign-in page. Go back to the application and start again.")
        }
        guard let client = try await directory.client(tenantID: tenantID, id: interaction.request.clientID) else {
            return .errorPage(status: 400, message: "The application that sent you here is not known.")
        }
        let request = interaction.request
        if form["cancel"] != nil {
            return .redirect(location: redirectError(request, "access_denied", "the user cancelled the sign-in", context), browserCookie: nil)
        }
        let attempt = UserAuthenticator.Attempt(tenant: context, clientID: client.id, origin: browser.origin)
        switch form["step"] {
        case "login":
            let username = form["username"] ?? "", password = form["password"] ?? ""
            guard !username.isEmpty, !password.isEmpty else {
                return try page(.login(username: username), error: (400, "Enter your username and password."), interaction, context, client)
            }
            do {
                let user = try await users.verifyPassword(username: username, password: password, attempt)
                interaction.progress.passwordVerified(userID: user.id, at: clock.now())
            } catch let error as OAuthError {
                return try page(.login(username: username), error: Self.message(error, wrong: "The username or password is wrong."), interaction, context, client)
            }
        case "otp":
            guard let userID = interaction.progress.userID, let user = try await userStore.user(tenantID: tenantID, id: userID) else {
                return .errorPage(status: 400, message: "This sign-in has expired. Go back to the application and start again.")
            }
            do {
                try await users.verifyOTP(form["otp"] ?? "", of: user, attempt)
                interaction.progress.otpVerified(at: clock.now())
            } catch let error as OAuthError {
                return try page(.otp, error: Self.message(error, wrong: "That code is not right. Enter the current code from your app."),
                                interaction, context, client)
            }
        case "consent":
            guard let userID = interaction.progress.userID else {
                return .errorPage(status: 400, message: "This sign-in has expired. Go back to the application and start again.")
            }
            guard form["approve"] != nil else {
                return .redirect(location: redirectError(request, "access_denied", "the user did not consent", context), browserCookie: nil)
            }
            let earlier = try await consents.consent(tenantID: tenantID, userID: userID, clientID: client.id)?.scopes ?? []
            try await consents.saveConsent(Consent(tenantID: tenantID, userID: userID, clientID: client.id,
                                                   scopes: Scope.unique(earlier + request.scopes), grantedAt: clock.now()))
            audit.record(.consentGranted, tenantID: tenantID, at: clock.now(), origin: browser.origin, user: userID, client: client.id,
                         detail: "scope=\(Scope.join(request.scopes))")
            interaction.progress.consented = true
        default:
            return .errorPage(status: 400, message: "This form is not one of the sign-in pages.")
        }
        return try await proceed(interaction, context: context, client: client, browser: browser)
    }

    // MARK: the flow

    /// The next step of `interaction`: a page, or the redirect with a code or an error.
    private func proceed(_ interaction: Interaction, context: TenantContext, client: Client, browser: Browser) async throws -> Outcome {
        var interaction = interaction
        let tenantID = context.tenant.id, now = clock.now()
        var situation = SignInFlow.Situation(request: interaction.request, policy: context.policy, requiresConsent: client.requireConsent, now: now,
                                             browserSession: try await liveBrowserSession(browser.sessionCookie, tenantID: tenantID))
        interaction.progress = SignInFlow.resolve(interaction.progress, situation)
        if let userID = interaction.progress.userID {
            guard let user = try await userStore.user(tenantID: tenantID, id: userID) else {
                return .redirect(location: redirectError(interaction.request, "login_required", "the user is gone", context), browserCookie: nil)
            }
            situation.userHasTOTP = user.sealedTOTPSecret != nil
            if client.requireConsent { situation.consent = try await consents.consent(tenantID: tenantID, userID: userID, clientID: client.id) }
        }
        switch SignInFlow.next(interaction.progress, situation) {
        case .askPassword:
            return try page(.login(username: interaction.request.loginHint), error: nil, interaction, context, client)
        case .askOTP:
            return try page(.otp, error: nil, interaction, context, client)
        case .askConsent(let scopes):
            return try page(.consent(scopes.map { ScopeDescription(scope: $0, words: Self.words(for: $0)) }), error: nil, interaction, context, client)
        case .fail(let error, let description):
            return .redirect(location: redirectError(interaction.request, error, description, context), browserCookie: nil)
        case .issueCode(let progress):
            return try await issueCode(progress, interaction.request, context: context, client: client, browser: browser)
        }
    }

    /// The code, and a browser session when the user authenticated in this sign-in.
    private func issueCode(_ progress: SignInFlow.Progress, _ request: AuthorizationRequest, context: TenantContext, client: Client,
                           browser: Browser) async throws -> Outcome {
        guard let userID = progress.userID, let level = progress.level, let authTime = progress.authTime else {
            return .errorPage(status: 400, message: "This sign-in has expired. Go back to the application and start again.")
        }
        let tenantID = context.tenant.id, now = clock.now()
        var browserSessionID = progress.browserSessionID, cookie: BrowserCookie?
        if browserSessionID == nil {
            let id = random.identifier(prefix: "bs"), secret = random.token(bytes: 32)
            let expiresAt = now.addingTimeInterval(TimeInterval(context.policy.loginSessionTTL))
            try await browserSessions.createBrowserSession(BrowserSession(
                tenantID: tenantID, id: id, secretHash: TokenDigest.hex(secret), userID: userID, acr: level, amr: progress.methods, authTime: authTime,
                createdAt: now, expiresAt: expiresAt, ip: browser.origin.ip, userAgent: browser.origin.userAgent))
            browserSessionID = id
            cookie = BrowserCookie(value: id + "." + secret, expiresAt: expiresAt)
        }
        let code = random.token(bytes: 32)
        try await codes.saveCode(AuthorizationCode(
            tenantID: tenantID, codeHash: TokenDigest.hex(code), clientID: client.id, redirectURI: request.redirectURI,
            codeChallenge: request.codeChallenge, nonce: request.nonce, scopes: request.scopes, userID: userID, acr: level, amr: progress.methods,
            authTime: authTime, dpopJKT: request.dpopJKT, browserSessionID: browserSessionID, createdAt: now,
            expiresAt: now.addingTimeInterval(AuthorizationCodeGrant.lifetime)))
        audit.record(.codeIssued, tenantID: tenantID, at: now, origin: browser.origin, user: userID, client: client.id,
                     token: TokenDigest.prefix(code), detail: "acr=\(level.rawValue) sso=\(progress.browserSessionID != nil)")
        var items = [("code", code)]
        if let state = request.state { items.append(("state", state)) }
        items.append(("iss", context.issuer))
        return .redirect(location: AuthorizationRequest.append(items, to: request.redirectURI), browserCookie: cookie)
    }

    /// The browser session a cookie names, if it is live and its secret matches.
    func liveBrowserSession(_ cookie: String?, tenantID: String) async throws -> BrowserSession? {
        guard let cookie, cookie.utf8.count <= 256, let dot = cookie.firstIndex(of: ".") else { return nil }
        let id = String(cookie[..<dot]), secret = String(cookie[cookie.index(after: dot)...])
        guard BrowserSession.isValidID(id), let session = try await browserSessions.browserSession(tenantID: tenantID, id: id),
              ConstantTime.equal(Array(TokenDigest.hex(secret).utf8), Array(session.secretHash.utf8)), session.isLive(at: clock.now()) else {
            return nil
        }
        return session
    }

    private func page(_ kind: Page.Kind, error: (status: Int, message: String)?, _ interaction: Interaction, _ context: TenantContext,
                      _ client: Client) throws -> Outcome {
        .page(Page(kind: kind, error: error?.message, status: error?.status ?? 200, tenantName: context.tenant.name, clientName: client.name, interaction: try seal.seal(interaction),
                   csrf: interaction.csrf, redirectURI: interaction.request.redirectURI))
    }

    private func redirectError(_ request: AuthorizationRequest, _ error: String, _ description: String, _ context: TenantContext) -> String {
        AuthorizationRequest.Refusal.redirect(redirectURI: request.redirectURI, state: request.state, error: error, description: description)
            .location(issuer: context.issuer) ?? request.redirectURI
    }

    static func outcome(_ refusal: AuthorizationRequest.Refusal, issuer: String) -> Outcome {
        switch refusal {
        case .page(let status, let message): .errorPage(status: status, message: message)
        case .redirect: .redirect(location: refusal.location(issuer: issuer) ?? "", browserCookie: nil)
        }
    }

    /// What a page says for a refused attempt, and its status: the same words for an unknown user and a
    /// wrong password.
    static func message(_ error: OAuthError, wrong: String) -> (status: Int, message: String) {
        switch error {
        case .rateLimited(let retryAfter, _): (429, "Too many attempts. Try again in \(retryAfter) seconds.")
        case .temporarilyUnavailable: (503, "The service is busy. Try again in a moment.")
        case .invalidRequest: (400, "That is not a valid entry.")
        default: (400, wrong)
        }
    }

    /// Words for a scope on the consent page.
    static func words(for scope: String) -> String {
        switch scope {
        case "openid": "Know who you are"
        case "profile": "See your username"
        case "email": "See your email address"
        case "offline_access": "Stay signed in when you are not using it"
        default: "Access \u{201C}\(scope)\u{201D} on your behalf"
        }
    }
}

extension Optional {
    /// `map` for an async transform.
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
