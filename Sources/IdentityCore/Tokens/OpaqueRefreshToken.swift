import Foundation

/// Opaque refresh tokens: `rt_` and 256 random bits. Only the SHA-256 is stored.
enum OpaqueRefreshToken {
    static let prefix = "rt_"
}
