import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Synchronization

/// The payloads of tokens whose signature verified, by the SHA-256 of the whole token (signature included,
/// so only the very same bytes match): a resource server introspects the same access token again and again,
/// and the signature check (ES256: 115-145 µs) is most of that work. Expiry and revocation are still checked
/// by the caller every time. Bounded: emptied when full.
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[SHA256Digest: (typ: String, payload: any Sendable)]>([:])
    static let capacity = 10_000

    func payload<Payload>(_ digest: SHA256Digest, typ: String, as: Payload.Type) -> Payload? {
        guard let entry = entries.withLock({ $0[digest] }), entry.typ == typ else { return nil }
        return entry.payload as? Payload
    }

    func remember(_ digest: SHA256Digest, typ: String, payload: some Sendable) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[digest] = (typ, payload)
        }
    }
}
