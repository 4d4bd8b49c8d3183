import Argon2
import Foundation
import IdentityCore
import Testing

/// Argon2id through libargon2 (audit finding 20): the reference tool's output, PHC strings, and old scrypt
/// hashes still verifying beside it.
@Suite struct Argon2Tests {
    /// `echo -n "correct horse" | argon2 somesaltsomesalt -id -t 2 -k 1024 -p 1 -l 32` (Debian's argon2).
    @Test func derivationMatchesTheReferenceImplementation() throws {
        let scheme = Argon2idScheme(memoryKiB: 1024, iterations: 2)
        let derived = try #require(try scheme.derive(Array("correct horse".utf8), salt: Array("somesaltsomesalt".utf8),
                                                     parameters: "v=19$m=1024,t=2,p=1", length: 32))
        #expect(derived.hexString == "e019e57292f3e4c46ad08cecd84db322aa4814849e2bf9bd0c52a601ceeeab96")
    }

    @Test func hashesAreArgon2idPHCAndScryptStillVerifies() async throws {
        let hasher = PasswordHasher(current: Argon2idScheme(memoryKiB: 1024, iterations: 2), also: [ScryptScheme.testing],
                                    random: SystemRandomSource(), lanes: 1)
        let hash = try await hasher.hash("correct horse", tenant: "acme")
        #expect(hash.hasPrefix("$argon2id$v=19$m=1024,t=2,p=1$"))
        #expect(try await hasher.verify("correct horse", against: hash, tenant: "acme"))
        #expect(!(try await hasher.verify("correct horsf", against: hash, tenant: "acme")))
        // The reference tool's encoded form verifies too.
        #expect(try await hasher.verify("correct horse", against: "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4BnlcpLz5MRq0Izs2E2zIqpIFISeK/m9DFKmAc7uq5Y",
                                        tenant: "acme"))
        let scrypt = try await PasswordHasher(current: ScryptScheme.testing, random: SystemRandomSource(), lanes: 1).hash("correct horse", tenant: "acme")
        #expect(try await hasher.verify("correct horse", against: scrypt, tenant: "acme"))
        #expect(hasher.needsRehash(scrypt) && !hasher.needsRehash(hash))
        #expect(hasher.needsRehash(hash.replacingOccurrences(of: "t=2", with: "t=1")))
        #expect(!(try await hasher.verify("x", against: hasher.decoyHash, tenant: "acme")))
        for broken in ["$argon2id$v=19$m=1,t=2,p=1$c29tZXNhbHQ$AAAA", "$argon2id$v=16$m=1024,t=2,p=1$c29tZXNhbHQ$AAAA", "$argon2i$x"] {
            #expect(!(try await hasher.verify("x", against: broken, tenant: "acme")), "\(broken)")
        }
    }
}
