import Crypto
import Foundation

/// Server nonces for DPoP proofs (RFC 9449 §8), issued when a tenant's policy says `dpop_nonce: true`.
/// Stateless, so that any node accepts any node's nonce: a nonce is the number of its period (`period`
/// seconds long) and an HMAC of the tenant and that number, under a key every node derives from the master
/// key. A nonce of the current or the previous period is accepted; the current one is handed out.
public struct DPoPNonces: Sendable {
    let key: SymmetricKey
    /// How long one nonce is handed out (seconds); it is accepted for up to twice as long.
    public let period: Int64

    public init(box: SecretBox, period: Int64 = 300) {
        key = box.derivedKey(for: "dpop nonce")
        self.period = period
    }

    /// The nonce to hand out to `tenantID`'s clients at `now`.
    public func current(tenantID: String, now: Date) -> String {
        nonce(tenantID: tenantID, epoch: Int64(now.timeIntervalSince1970) / period)
    }

    /// Whether `nonce` is one of `tenantID`'s, of this period or the previous one.
    public func accepts(_ nonce: String, tenantID: String, now: Date) -> Bool {
        guard nonce.utf8.count <= 64 else { return false }
        let epoch = Int64(now.timeIntervalSince1970) / period
        return [epoch, epoch - 1].contains { ConstantTime.equal(Array(self.nonce(tenantID: tenantID, epoch: $0).utf8), Array(nonce.utf8)) }
    }

    private func nonce(tenantID: String, epoch: Int64) -> String {
        var message = Array(tenantID.utf8)
        message.append(0)
        withUnsafeBytes(of: epoch.bigEndian) { message.append(contentsOf: $0) }
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: epoch.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(mac).prefix(16))
        return Base64URL.encode(bytes)
    }
}
