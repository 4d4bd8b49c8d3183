import Foundation

/// The steps of a browser sign-in (DESIGN.md "Browser sign-in"), as a pure function of where the sign-in
/// stands and what the request asks: no store, no clock, no HTTP.
///
/// | where it stands | request | next |
/// |---|---|---|
/// | nobody signed in (no usable browser session, or `prompt=login`) | `prompt=none` | fail `login_required` |
/// | nobody signed in | | ask for the password |
/// | signed in below the `acr` asked (`acr_values`, a sensitive scope's rule) | `prompt=none` | fail `interaction_required` |
/// | signed in below the `acr` asked, no TOTP enrolled | | fail `access_denied` |
/// | signed in below the `acr` asked | | ask for the TOTP code |
/// | signed in; consent needed (`require_consent` and no consent covering the scopes, or `prompt=consent`) | `prompt=none` | fail `consent_required` |
/// | signed in; consent needed | | ask for consent |
/// | signed in, consent given or not needed | | issue the code |
///
/// A browser session counts as "signed in" while it lives, unless `prompt=login` or it is older than
/// `max_age` (the request's, or a sensitive scope's rule's).
public enum SignInFlow {
    /// What this sign-in has established so far (sealed in the interaction between pages).
    public struct Progress: Sendable, Codable, Equatable {
        public var userID: String?
        /// The strongest level proven so far.
        public var level: AuthenticationLevel?
        public var methods: [String]
        public var authTime: Date?
        /// Set when the sign-in rests on an existing browser session rather than a password given now.
        public var browserSessionID: String?
        /// Whether the user approved the consent page in this sign-in.
        public var consented: Bool

        public init(userID: String? = nil, level: AuthenticationLevel? = nil, methods: [String] = [], authTime: Date? = nil,
                    browserSessionID: String? = nil, consented: Bool = false) {
            self.userID = userID
            self.level = level
            self.methods = methods
            self.authTime = authTime
            self.browserSessionID = browserSessionID
            self.consented = consented
        }

        /// After a right password, now.
        public mutating func passwordVerified(userID: String, at now: Date) {
            self = Progress(userID: userID, level: .pwd, methods: AuthenticationLevel.pwd.methods, authTime: now, consented: consented)
        }

        /// After a right TOTP code, now (the step-up is the latest authentication).
        public mutating func otpVerified(at now: Date) {
            level = .mfa
            methods = AuthenticationLevel.mfa.methods
            authTime = now
            browserSessionID = nil
        }
    }

    /// What the next step depends on, beyond the progress.
    public struct Situation: Sendable {
        public var request: AuthorizationRequest
        public var policy: TenantPolicy
        public var requiresConsent: Bool
        public var now: Date
        /// The browser's live session of this tenant, if its cookie named one.
        public var browserSession: BrowserSession?
        /// Whether the signed-in user has TOTP (nil while nobody is signed in).
        public var userHasTOTP: Bool?
        /// The signed-in user's stored consent to the client.
        public var consent: Consent?

        public init(request: AuthorizationRequest, policy: TenantPolicy, requiresConsent: Bool, now: Date, browserSession: BrowserSession?,
                    userHasTOTP: Bool? = nil, consent: Consent? = nil) {
            self.request = request
            self.policy = policy
            self.requiresConsent = requiresConsent
            self.now = now
            self.browserSession = browserSession
            self.userHasTOTP = userHasTOTP
            self.consent = consent
        }
    }

    public enum Step: Sendable, Equatable {
        case askPassword
        case askOTP
        /// The scopes to ask about (those the stored consent does not cover, or all with `prompt=consent`).
        case askConsent([String])
        /// Done: a code for this authentication.
        case issueCode(Progress)
        /// Sent back to the client as `error`.
        case fail(error: String, description: String)
    }

    /// The progress with the browser session taken into account: a usable session signs the user in when
    /// this sign-in has not yet established anyone.
    public static func resolve(_ progress: Progress, _ situation: Situation) -> Progress {
        guard progress.userID == nil, !situation.request.prompts.contains(.login), let session = situation.browserSession,
              session.isLive(at: situation.now) else { return progress }
        let maxAge = situation.request.requirement(situation.policy).maxAge
        if let maxAge, situation.now.timeIntervalSince(session.authTime) > TimeInterval(maxAge) { return progress }
        return Progress(userID: session.userID, level: session.acr, methods: session.amr, authTime: session.authTime,
                        browserSessionID: session.id, consented: progress.consented)
    }

    /// The next step for `progress` (already `resolve`d) in `situation`.
    public static func next(_ progress: Progress, _ situation: Situation) -> Step {
        let request = situation.request, silent = request.prompts.contains(.none)
        guard progress.userID != nil, let level = progress.level else {
            return silent ? .fail(error: "login_required", description: "the user is not signed in") : .askPassword
        }
        let needed = request.requirement(situation.policy).acr
        if level < needed {
            if silent { return .fail(error: "interaction_required", description: "a stronger authentication is required") }
            guard situation.userHasTOTP == true else {
                return .fail(error: "access_denied", description: "a second factor is required and the user has none enrolled")
            }
            return .askOTP
        }
        if situation.requiresConsent, !progress.consented {
            let covered = Set(situation.consent?.scopes ?? [])
            let missing = request.prompts.contains(.consent) ? request.scopes : request.scopes.filter { !covered.contains($0) }
            if !missing.isEmpty {
                return silent ? .fail(error: "consent_required", description: "the user has not consented") : .askConsent(missing)
            }
        }
        return .issueCode(progress)
    }
}
