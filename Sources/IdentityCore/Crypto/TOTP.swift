import Crypto
import Foundation

/// RFC 6238 time-based one-time passwords: HMAC-SHA1, 6 digits, 30-second steps, one step of drift allowed.
public struct TOTP: Sendable {
    public let secret: [UInt8]
    public init(secret: [UInt8]) { self.secret = secret }

    /// The code for the 30-second step containing `time`.
    public func code(at time: Date) -> String { code(counter: UInt64(max(0, time.timeIntervalSince1970) / 30)) }

    /// Whether `candidate` is the code of the step at `time` or of the one just before or after it.
    public func verify(_ candidate: String, at time: Date) -> Bool { matchingStep(candidate, at: time) != nil }

    /// The time step whose code `candidate` is — the step at `time` or the one just before or after it — or
    /// nil. Each of the three is compared, in constant time, whichever matches. (A server refuses a step it
    /// has accepted before: a code is good once.)
    public func matchingStep(_ candidate: String, at time: Date) -> Int64? {
        guard candidate.count == 6, candidate.allSatisfy(\.isASCII), candidate.allSatisfy(\.isNumber) else { return nil }
        let counter = Int64(max(0, time.timeIntervalSince1970) / 30)
        var matched: Int64?
        for step in (counter - 1)...(counter + 1) where step >= 0 {
            if ConstantTime.equal(Array(code(counter: UInt64(step)).utf8), Array(candidate.utf8)) { matched = step }
        }
        return matched
    }

    func code(counter: UInt64) -> String {
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        return String(value % 1_000_000).leftPadded(to: 6)
    }

    /// RFC 4648 base32 without padding, as authenticator apps read secrets.
    public static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = "", buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
