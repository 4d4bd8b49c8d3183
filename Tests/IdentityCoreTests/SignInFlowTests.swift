import Foundation
import IdentityCore
import Testing

/// The sign-in's state machine by itself (no store, no clock): password → TOTP → consent → code, and the
/// branches `prompt`, `max_age` and `acr` take.
@Suite struct SignInFlowTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func request(scope: [String] = ["openid"], prompts: Set<AuthorizationRequest.Prompt> = [], maxAge: Int? = nil,
                 acr: AuthenticationLevel? = nil) -> AuthorizationRequest {
        AuthorizationRequest(clientID: "spa", redirectURI: "https://app.example/cb", scopes: scope, codeChallenge: "c", prompts: prompts,
                             maxAge: maxAge, acr: acr)
    }

    func session(acr: AuthenticationLevel = .pwd, authenticatedAgo: TimeInterval = 60, expiresIn: TimeInterval = 3600,
                 status: BrowserSession.Status = .active) -> BrowserSession {
        BrowserSession(tenantID: "acme", id: "bs_1", secretHash: "h", userID: "usr_1", acr: acr, amr: acr.methods,
                       authTime: now - authenticatedAgo, createdAt: now - authenticatedAgo, expiresAt: now + expiresIn, status: status)
    }

    func situation(_ request: AuthorizationRequest, policy: TenantPolicy = TenantPolicy(), consent required: Bool = false,
                   session: BrowserSession? = nil, totp: Bool? = nil, stored: Consent? = nil) -> SignInFlow.Situation {
        SignInFlow.Situation(request: request, policy: policy, requiresConsent: required, now: now, browserSession: session,
                             userHasTOTP: totp, consent: stored)
    }

    /// Resolves the browser session, then the next step (what `AuthorizeEndpoint` does).
    func next(_ progress: SignInFlow.Progress, _ situation: SignInFlow.Situation) -> SignInFlow.Step {
        SignInFlow.next(SignInFlow.resolve(progress, situation), situation)
    }

    func next(_ situation: SignInFlow.Situation) -> SignInFlow.Step { next(.init(), situation) }

    func passwordGiven() -> SignInFlow.Progress {
        var progress = SignInFlow.Progress()
        progress.passwordVerified(userID: "usr_1", at: now)
        return progress
    }

    @Test func theFullPathGoesPasswordThenTOTPThenConsentThenCode() {
        let request = request(scope: ["openid", "api"], acr: .mfa)
        #expect(next(situation(request, consent: true)) == .askPassword)
        var progress = passwordGiven()
        #expect(next(progress, situation(request, consent: true, totp: true)) == .askOTP)
        progress.otpVerified(at: now)
        #expect(next(progress, situation(request, consent: true, totp: true)) == .askConsent(["openid", "api"]))
        progress.consented = true
        guard case .issueCode(let done) = next(progress, situation(request, consent: true, totp: true)) else { Issue.record("no code"); return }
        #expect(done.level == .mfa && done.methods == AuthenticationLevel.mfa.methods && done.userID == "usr_1" && done.browserSessionID == nil)
    }

    @Test func aLiveBrowserSessionSkipsThePassword() {
        guard case .issueCode(let done) = next(situation(request(), session: session())) else { Issue.record("not signed in"); return }
        #expect(done.browserSessionID == "bs_1" && done.authTime == now - 60 && done.level == .pwd)
    }

    @Test func promptLoginAnExpiredOrRevokedSessionOrATooOldOneAskThePasswordAgain() {
        #expect(next(situation(request(prompts: [.login]), session: session())) == .askPassword)
        #expect(next(situation(request(), session: session(expiresIn: -1))) == .askPassword)
        #expect(next(situation(request(), session: session(status: .revoked))) == .askPassword)
        #expect(next(situation(request(maxAge: 30), session: session(authenticatedAgo: 60))) == .askPassword)
        guard case .issueCode = next(situation(request(maxAge: 120), session: session(authenticatedAgo: 60))) else {
            Issue.record("a session within max_age was not used")
            return
        }
    }

    @Test func aStepUpScopesMaxAgeAlsoForcesReauthentication() {
        var policy = TenantPolicy()
        policy.stepUp = [StepUpRule(scope: "payments", acr: .mfa, maxAge: 30)]
        let request = request(scope: ["openid", "payments"])
        #expect(next(situation(request, policy: policy, session: session(acr: .mfa, authenticatedAgo: 60))) == .askPassword)
        guard case .issueCode = next(situation(request, policy: policy, session: session(acr: .mfa, authenticatedAgo: 10))) else {
            Issue.record("a recent mfa session was not enough")
            return
        }
    }

    @Test func aSessionBelowTheAskedLevelAsksForTOTP() {
        let request = request(acr: .mfa)
        #expect(next(situation(request, session: session(acr: .pwd), totp: true)) == .askOTP)
        guard case .fail(let error, _) = next(situation(request, session: session(acr: .pwd), totp: false)) else { Issue.record(); return }
        #expect(error == "access_denied", "no second factor enrolled")
    }

    @Test func promptNoneNeverShowsAPage() {
        func error(_ step: SignInFlow.Step) -> String? {
            if case .fail(let error, _) = step { return error }
            return nil
        }
        #expect(error(next(situation(request(prompts: [.none])))) == "login_required")
        #expect(error(next(situation(request(prompts: [.none], acr: .mfa), session: session(), totp: true))) == "interaction_required")
        #expect(error(next(situation(request(prompts: [.none]), consent: true, session: session()))) == "consent_required")
        guard case .issueCode = next(situation(request(prompts: [.none]), session: session())) else { Issue.record("silent SSO failed"); return }
    }

    @Test func aStoredConsentCoversItsScopesAndOnlyThem() {
        let stored = Consent(tenantID: "acme", userID: "usr_1", clientID: "spa", scopes: ["openid", "profile"], grantedAt: now)
        guard case .issueCode = next(passwordGiven(), situation(request(scope: ["openid"]), consent: true, stored: stored)) else {
            Issue.record("a covered scope asked again")
            return
        }
        #expect(next(passwordGiven(), situation(request(scope: ["openid", "api"]), consent: true, stored: stored)) == .askConsent(["api"]))
        #expect(next(passwordGiven(), situation(request(scope: ["openid"], prompts: [.consent]), consent: true, stored: stored))
            == .askConsent(["openid"]))
        guard case .issueCode = next(passwordGiven(), situation(request(scope: ["openid", "api"]), consent: false)) else {
            Issue.record("a first-party client was asked for consent")
            return
        }
    }

    @Test func aPasswordGivenNowOutranksTheBrowserSession() {
        let progress = passwordGiven()
        #expect(SignInFlow.resolve(progress, situation(request(), session: session())) == progress)
    }
}
