import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// A statement's column names, shared by its rows.
final class ColumnIndex: Sendable {
    let names: [String: Int]
    let count: Int
    init(names: [String: Int], count: Int) {
        self.names = names
        self.count = count
    }
}

/// One result row: its values, by column name.
struct StoredRow: Sendable {
    let columns: ColumnIndex
    let values: [SQLiteData]

    func column(_ name: String) -> SQLiteData? { columns.names[name].map { values[$0] } }
}
