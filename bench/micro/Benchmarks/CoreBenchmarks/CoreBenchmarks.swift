import Benchmark
import Crypto
import Foundation
import IdentityCore

/// The core's share of a token request, piece by piece: signing an access token with each algorithm,
/// verifying one (a token seen for the first time, and one the keyring remembers), hashing a refresh token
/// into its lookup key, the rotation decision, and encoding the token response.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(3))

    let box = try! SecretBox(masterKey: Array(repeating: 7, count: 32))
    let factory = SigningKeyFactory(box: box, random: SystemRandomSource())
    let now = Date()
    let claims = AccessTokenClaims(iss: "https://id.example.com/t/acme", sub: "usr_0123456789", aud: "https://api.example.com",
                                   exp: Int64(now.timeIntervalSince1970) + 600, iat: Int64(now.timeIntervalSince1970),
                                   jti: "jti_0123456789abcdef", clientID: "web", scope: "openid api", sid: "sid_0123456789abcdef")

    for algorithm in SigningAlgorithm.allCases {
        Benchmark("sign access token \(algorithm.rawValue)") { (benchmark: Benchmark, keyring: TenantKeyring) in
            for _ in benchmark.scaledIterations {
                blackHole(try await keyring.sign(claims, typ: "at+jwt"))
            }
        } setup: { () async throws -> TenantKeyring in
            let key = try factory.make(algorithm, tenantID: "acme", state: .active, now: now)
            return try await TenantKeyring.load([key], box: box, now: now)
        }
    }

    // The keyring remembers the tokens it verified, so a token seen for the first time (its signature checked)
    // needs tokens of its own: more distinct ones than the benchmark takes samples (10,000 at most).
    Benchmark("verify access token ES256, first sight") { (benchmark: Benchmark, input: (keyring: TenantKeyring, tokens: [String])) in
        for _ in benchmark.scaledIterations {
            blackHole(await input.keyring.verify(input.tokens[FirstSight.next(below: input.tokens.count)], typ: "at+jwt", as: AccessTokenClaims.self))
        }
    } setup: { () async throws -> (keyring: TenantKeyring, tokens: [String]) in
        let key = try factory.make(.es256, tenantID: "acme", state: .active, now: now)
        let keyring = try await TenantKeyring.load([key], box: box, now: now)
        var tokens: [String] = []
        for index in 0..<12_000 {
            var distinct = claims
            distinct.jti = "jti_\(index)"
            tokens.append(try await keyring.sign(distinct, typ: "at+jwt"))
        }
        return (keyring: keyring, tokens: tokens)
    }

    Benchmark("verify access token ES256, remembered") { (benchmark: Benchmark, input: (keyring: TenantKeyring, token: String)) in
        for _ in benchmark.scaledIterations {
            blackHole(await input.keyring.verify(input.token, typ: "at+jwt", as: AccessTokenClaims.self))
        }
    } setup: { () async throws -> (keyring: TenantKeyring, token: String) in
        let key = try factory.make(.es256, tenantID: "acme", state: .active, now: now)
        let keyring = try await TenantKeyring.load([key], box: box, now: now)
        return (keyring: keyring, token: try await keyring.sign(claims, typ: "at+jwt"))
    }

    // An opaque refresh token is 32 random bytes in base64url; the store keeps only its SHA-256.
    let refreshToken = "rt_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
    Benchmark("refresh token lookup key (SHA-256)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(TokenDigest.hex(refreshToken))
        }
    }

    let session = Session(tenantID: "acme", id: "sid_1", userID: "usr_1", clientID: "web", scopes: ["openid", "api"], acr: .pwd,
                          amr: ["pwd"], authTime: now, createdAt: now, lastUsedAt: now, idleExpiresAt: now + 3600,
                          absoluteExpiresAt: now + 86_400, accessExpiresAt: now + 600)
    let record = RefreshTokenRecord(tenantID: "acme", lookupKey: "k", sessionID: "sid_1", clientID: "web", createdAt: now)
    let input = RefreshRotation.Input(tenantID: "acme", token: record, session: session, clientID: "web", policy: TenantPolicy(), now: now)
    Benchmark("rotation decision") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(RefreshRotation.decide(input))
        }
    }

    let response = TokenResponse(accessToken: String(repeating: "a", count: 600), tokenType: "Bearer", expiresIn: 600,
                                 refreshToken: refreshToken, scope: "openid api", idToken: nil)
    Benchmark("token response JSON encoding") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(response.json)
        }
    }
}

/// Which of the first-sight benchmark's tokens comes next (the benchmark runs its iterations one at a time).
enum FirstSight {
    nonisolated(unsafe) private static var cursor = 0

    static func next(below count: Int) -> Int {
        defer { cursor = (cursor + 1) % count }
        return cursor
    }
}
