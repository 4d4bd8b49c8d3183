import Foundation

/// The master key's check value, stored with the data: a node started with another master key than the one
/// the data is sealed with (a typo, a node that generated its own) refuses to start instead of answering
/// 500s and sealing new secrets that the other nodes cannot open.
public enum MasterKeyCheck {
    static let setting = "master_key_check"
    static let plaintext = Array("identityd master key check".utf8)

    /// Stores the check value if the store has none (the first start), else opens the stored one; throws
    /// `MasterKeyMismatch` when it does not open under `box`'s key.
    public static func verify(_ box: SecretBox, store: any SettingsStore) async throws {
        let stored = try await store.insertSetting(setting, value: try box.seal(plaintext, context: SealContext.masterKeyCheck))
        guard let opened = try? box.accepting(legacy: false).open(stored, context: SealContext.masterKeyCheck), opened == plaintext else {
            throw MasterKeyMismatch()
        }
    }
}

public struct MasterKeyMismatch: Error, CustomStringConvertible {
    public var description: String {
        "the master key does not open this database's secrets: it is not the key they were sealed with. Start every node with the same IDENTITY_MASTER_KEY"
    }
}
