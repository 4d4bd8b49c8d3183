import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// SQLite's error for a failed call: its extended result code and message.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
    var description: String { "sqlite error \(code): \(message)" }
}
