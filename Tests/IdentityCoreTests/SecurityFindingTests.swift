import Foundation
import IdentityCore
import IdentityTestSupport
import MemoryStore
import Synchronization
import Testing

/// The December security audit's findings (`../shared/reviews/security-2026-12.md`), each reproduced on the
/// core with the memory store and a manual clock. Findings that need the real binary, PostgreSQL or Redis are
/// in `EndToEndTests/SecurityEndToEndTests.swift` and the store and cache suites.
@Suite struct SecurityFindingTests {
    let clock = ManualClock()
    let store = MemoryStore()
    let runtime: IdentityRuntime
    let admin: Administration
    var secret = ""
    var userID = ""
    var totpSecret: [UInt8] = []

    init() async throws {
        runtime = try .forTests(store: store, clock: clock, lanes: 2)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        _ = try await admin.createTenant(.init(id: "acme", name: "Acme", policy: try JSONValue.parse(Array(#"""
            {"refresh_reuse_grace": 5, "step_up": [{"scope": "payments", "acr": "mfa", "max_age": 60}],
             "rate_limit": {"failed_logins_per_user": 5, "failed_logins_per_username": 12, "username_lockout_max": 60}}
            """#.utf8))), by: .operator)
        secret = try await admin.createClient("acme", .init(clientID: "web", name: "Web", type: "confidential",
                                                            grantTypes: ["password", "refresh_token", "client_credentials"],
                                                            scopes: ["openid", "api", "payments"]), by: .operator).field("client_secret")
        userID = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator).field("id")
        totpSecret = try #require(base32Decode(try await admin.enrollTOTP("acme", userID, by: .operator).field("secret")))
    }

    func token(_ parameters: [String: String], ip: String = "203.0.113.7", client: ClientCredentials? = nil) async throws -> TokenResponse {
        try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: parameters, client: client ?? ClientCredentials(clientID: "web", secret: secret, method: .basic),
            origin: RequestOrigin(ip: ip, userAgent: "test")))
    }

    func login(password: String = "correct horse", otp: String? = nil, ip: String = "203.0.113.7") async throws -> TokenResponse {
        var parameters = ["grant_type": "password", "username": "alice", "password": password]
        parameters["otp"] = otp
        return try await token(parameters, ip: ip)
    }

    func reason(_ body: () async throws -> Any) async -> String {
        do {
            _ = try await body()
            return "accepted"
        } catch let error as OAuthError {
            return error.code == "rate_limited" ? "rate_limited" : error.reason
        } catch {
            return "\(error)"
        }
    }

    var code: String { TOTP(secret: totpSecret).code(at: clock.now()) }
    func wrongCode() -> String { code == "000000" ? "000001" : "000000" }

    // MARK: 2. MFA bypass

    /// Finding 2a: a password-only login reset the counter that wrong OTPs increment, so TOTP guessing was
    /// unlimited. The OTP counter is its own now, and only a right code resets it.
    @Test func passwordOnlyLoginsDoNotResetTheOTPCounter() async throws {
        for _ in 0..<5 {
            #expect(await reason { try await login(otp: wrongCode()) } == "wrong_otp")
            _ = try await login()  // the password alone, right: it used to reset the count
        }
        #expect(await reason { try await login(otp: self.code) } == "rate_limited")
    }

    /// Finding 2b: attempts were checked before the hash and counted after it, so N concurrent guesses all
    /// passed one check. Every attempt is counted before it is checked now.
    @Test func concurrentOTPGuessesAreCountedBeforeTheyAreChecked() async throws {
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { await self.reason { try await self.login(otp: self.wrongCode()) } } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "wrong_otp" }.count <= 5)
        #expect(outcomes.filter { $0 == "rate_limited" }.count >= 15)
    }

    /// Finding 2c: an accepted code could be replayed for about 90 s. A time step is accepted once.
    @Test func anAcceptedCodeCannotBeReplayed() async throws {
        let first = code
        let strong = try await login(otp: first)
        #expect(strong.accessToken.isEmpty == false)
        #expect(await reason { try await login(otp: first) } == "otp_replayed")
        clock.advance(30)
        #expect(await reason { try await login(otp: first) } == "otp_replayed")  // the step before is refused too
        _ = try await login(otp: code)
    }

    // MARK: 9. Lockout as a weapon

    /// Finding 9: anyone could lock any user out. An address is locked out for the username it failed at; a
    /// right password from another address still logs in, and the per-username back-off is capped.
    @Test func failuresFromOneAddressDoNotLockTheUserOutElsewhere() async throws {
        for _ in 0..<5 { #expect(await reason { try await login(password: "wrong", ip: "198.51.100.1") } == "wrong_password") }
        #expect(await reason { try await login(password: "wrong", ip: "198.51.100.1") } == "rate_limited")
        #expect(await reason { try await login(ip: "198.51.100.1") } == "rate_limited")
        _ = try await login(ip: "192.0.2.44")
        // A guesser spread over many addresses locks the username everywhere, for the policy's cap at most.
        for index in 0..<12 { _ = await reason { try await login(password: "wrong", ip: "198.51.100.\(10 + index)") } }
        #expect(await reason { try await login(ip: "192.0.2.45") } == "rate_limited")
        clock.advance(61)
    }

    /// Lockout keys do not grow with what a client sends: a username past 200 bytes is refused before any
    /// counter or hash.
    @Test func anOverlongUsernameIsRefusedBeforeAnything() async throws {
        await #expect(throws: OAuthError.invalidRequest(description: "username is too long")) {
            try await token(["grant_type": "password", "username": String(repeating: "a", count: 201), "password": "x"])
        }
    }

    // MARK: 6. Grace window branches

    /// Finding 6: inside the grace window a rotated token minted any number of live branches. Now only the
    /// immediately previous token may be exchanged, at most `refresh_reuse_grace_count` (3) times.
    @Test func aRotatedTokenHasAtMostThreeGraceRetries() async throws {
        let first = try await login()
        let rt = try #require(first.refreshToken)
        _ = try await token(["grant_type": "refresh_token", "refresh_token": rt])
        for _ in 0..<3 { _ = try await token(["grant_type": "refresh_token", "refresh_token": rt]) }
        #expect(await reason { try await token(["grant_type": "refresh_token", "refresh_token": rt]) } == "refresh_token_reused")
    }

    @Test func onceTheChainMovedOnTheOldTokenIsReuseEvenWithinTheWindow() async throws {
        let first = try await login()
        let second = try await token(["grant_type": "refresh_token", "refresh_token": first.refreshToken!])
        _ = try await token(["grant_type": "refresh_token", "refresh_token": second.refreshToken!])  // the chain moves past `first`
        #expect(await reason { try await token(["grant_type": "refresh_token", "refresh_token": first.refreshToken!]) } == "refresh_token_reused")
    }

    // MARK: 14. Client changes reach existing grants

    @Test func narrowingAClientsScopesReachesItsSessionsOnTheNextRefresh() async throws {
        let first = try await token(["grant_type": "password", "username": "alice", "password": "correct horse", "scope": "openid api"])
        _ = try await admin.updateClient("acme", "web", .init(scopes: ["openid"]), by: .operator)
        let next = try await token(["grant_type": "refresh_token", "refresh_token": first.refreshToken!])
        #expect(next.scope == "openid")
    }

    @Test func rotatingOrDeletingAClientEndsItsClientCredentialsTokens() async throws {
        let other = try await admin.createClient("acme", .init(clientID: "rs", name: "API", type: "confidential", grantTypes: ["client_credentials"]),
                                                 by: .operator).field("client_secret")
        func active(_ token: String) async throws -> Bool {
            try await runtime.introspection.introspect(tenantID: "acme", token: token,
                                                       client: ClientCredentials(clientID: "rs", secret: other, method: .post), origin: .init()).active
        }
        let before = try await token(["grant_type": "client_credentials", "scope": "api"])
        #expect(try await active(before.accessToken))
        clock.advance(1)
        let rotated = try await admin.updateClient("acme", "web", .init(rotateSecret: true), by: .operator).field("client_secret")
        #expect(!(try await active(before.accessToken)))
        let after = try await token(["grant_type": "client_credentials", "scope": "api"], client: ClientCredentials(clientID: "web", secret: rotated, method: .basic))
        #expect(try await active(after.accessToken))
        _ = try await admin.updateClient("acme", "web", .init(scopes: ["openid"]), by: .operator)
        #expect(!(try await active(after.accessToken)))  // narrowed: its scope `api` is no longer the client's
        _ = try await admin.updateClient("acme", "web", .init(scopes: ["openid", "api"]), by: .operator)
        #expect(try await active(after.accessToken))
        try await admin.deleteClient("acme", "web", by: .operator)
        #expect(!(try await active(after.accessToken)))
    }

    // MARK: 15. Introspection only for confidential clients

    @Test func aPublicClientCannotIntrospect() async throws {
        _ = try await admin.createClient("acme", .init(clientID: "spa", name: "SPA", type: "public", grantTypes: ["refresh_token"]), by: .operator)
        let access = try await login().accessToken
        await #expect(throws: OAuthError.invalidClient(reason: "public_client_cannot_introspect")) {
            try await runtime.introspection.introspect(tenantID: "acme", token: access, client: ClientCredentials(clientID: "spa", secret: nil, method: .none),
                                                       origin: .init())
        }
    }

    // MARK: 19. Admin key lifecycle

    @Test func aTenantAdminKeyRotatesAndIsRefusedWhileTheTenantIsSuspended() async throws {
        let created = try await admin.createTenant(.init(id: "umbrella", name: "Umbrella"), by: .operator)
        let oldKey = try created.field("admin_key")
        #expect(try await admin.principal(bearer: oldKey) == .tenant("umbrella"))
        let newKey = try await admin.rotateAdminKey("umbrella", by: .tenant("umbrella")).field("admin_key")
        await #expect(throws: AdminError.unauthorized) { try await admin.principal(bearer: oldKey) }
        #expect(try await admin.principal(bearer: newKey) == .tenant("umbrella"))
        _ = try await admin.updateTenant("umbrella", .init(status: "suspended"), by: .operator)
        await #expect(throws: AdminError.forbidden) { try await admin.principal(bearer: newKey) }
    }

    // MARK: 20. Password hashing

    /// Finding 20: hashes were never upgraded, so after the parameters were raised existing users verified
    /// faster than the decoy (revealing which usernames exist). A hash of an older scheme or parameters is
    /// replaced by a current one at the next successful login.
    @Test func anOlderHashIsReplacedAtTheNextLogin() async throws {
        let old = PasswordHasher(current: ScryptScheme(logN: 11), random: SystemRandomSource(), lanes: 1)
        var user = try #require(try await store.user(tenantID: "acme", id: userID))
        user.passwordHash = try await old.hash("correct horse", tenant: "acme")
        _ = try await store.updateUser(user)
        _ = try await login()
        let rehashed = try #require(try await store.user(tenantID: "acme", id: userID)?.passwordHash)
        #expect(rehashed.hasPrefix("$scrypt$ln=10,"))
        #expect(!runtime.hasher.needsRehash(rehashed))
        _ = try await login()
    }

    // MARK: 23. Sealed secrets bound to their row

    @Test func aSealedSeedMovedToAnotherUserNoLongerOpens() async throws {
        let bob = try await admin.createUser("acme", .init(username: "bob", password: "another horse"), by: .operator).field("id")
        let alice = try #require(try await store.user(tenantID: "acme", id: userID))
        var moved = try #require(try await store.user(tenantID: "acme", id: bob))
        moved.sealedTOTPSecret = alice.sealedTOTPSecret  // someone who can write the database copies alice's seed to bob
        _ = try await store.updateUser(moved)
        await #expect(throws: SecretBoxError.openFailed) {
            try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
                parameters: ["grant_type": "password", "username": "bob", "password": "another horse", "otp": code],
                client: ClientCredentials(clientID: "web", secret: secret, method: .basic), origin: .init()))
        }
    }

    @Test func legacySealedSecretsAreSealedAgainAndThenRefused() async throws {
        let box = try SecretBox(masterKey: Array(repeating: 1, count: 32))
        var user = try #require(try await store.user(tenantID: "acme", id: userID))
        let legacy = try legacySeal(totpSecret)
        user.sealedTOTPSecret = legacy
        _ = try await store.updateUser(user)
        #expect(try box.open(legacy, context: "anything") == totpSecret)
        #expect(try await SealedSecretMigration.run(store, box: box, now: clock.now()) == 1)
        let resealed = try #require(try await store.user(tenantID: "acme", id: userID)?.sealedTOTPSecret)
        #expect(!SecretBox.isLegacy(resealed))
        #expect(try await SealedSecretMigration.isDone(store))
        #expect(throws: SecretBoxError.openFailed) { try box.accepting(legacy: false).open(legacy, context: SealContext.totp(tenantID: "acme", userID: userID)) }
    }

    /// A value sealed as before contexts existed: AES-GCM without associated data, plain base64.
    func legacySeal(_ plaintext: [UInt8]) throws -> String {
        try LegacySeal.seal(plaintext, masterKey: Array(repeating: 1, count: 32))
    }

    // MARK: 8. Master key

    @Test func aWrongMasterKeyIsDetectedAtStart() async throws {
        try await MasterKeyCheck.verify(try SecretBox(masterKey: Array(repeating: 1, count: 32)), store: store)
        try await MasterKeyCheck.verify(try SecretBox(masterKey: Array(repeating: 1, count: 32)), store: store)
        await #expect(throws: MasterKeyMismatch.self) {
            try await MasterKeyCheck.verify(try SecretBox(masterKey: Array(repeating: 2, count: 32)), store: store)
        }
    }
}

/// Finding 5 and 4's bounds, on the parts themselves.
@Suite struct BoundedWorkTests {
    /// Finding 5: the hashing queue had no bound. It has one, fair between tenants: a flood at one tenant
    /// fills its share and is refused at once, while another tenant's job is still taken.
    @Test func theHashingQueueIsBoundedAndFairBetweenTenants() async throws {
        let hasher = PasswordHasher(current: ScryptScheme(logN: 14), random: SystemRandomSource(), lanes: 1, queueLimit: 8, perTenantLimit: 4)
        let stored = try await hasher.hash("secret", tenant: "a")
        let refused = Counter(), done = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    do {
                        _ = try await hasher.verify("wrong", against: stored, tenant: "flooded")
                        done.add()
                    } catch is HashingQueueFull {
                        refused.add()
                    } catch {}
                }
            }
            // Another tenant's login still finds a place and runs.
            group.addTask {
                try? await Task.sleep(for: .milliseconds(20))
                #expect((try? await hasher.verify("secret", against: stored, tenant: "other")) == true)
            }
        }
        #expect(refused.value >= 30)
        #expect(done.value <= 10)
    }

    /// Finding 4 (memory): in-process counters stay bounded however many keys clients make up.
    @Test func rateLimitCountersStayBounded() async throws {
        let counters = InProcessRateLimitCounters(capacity: 1000)
        for index in 0..<10_000 { _ = try await counters.increment("rl:acme:ip:\(index)", window: .seconds(60)) }
        #expect(counters.count <= 1000)
    }
}

