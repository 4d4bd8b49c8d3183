import Foundation

/// Small values identityd keeps for itself, not per tenant: the master key's check value, migration marks.
public protocol SettingsStore: Sendable {
    /// The value of `name`, or nil.
    func setting(_ name: String) async throws -> String?
    /// Stores `value` under `name` unless `name` has a value; returns the value `name` has afterwards (the
    /// one given, or the one another node stored first).
    func insertSetting(_ name: String, value: String) async throws -> String
    /// Stores `value` under `name`, replacing any value.
    func replaceSetting(_ name: String, value: String) async throws
}
