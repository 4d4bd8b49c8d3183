import IdentityCore
import PostgresNIO

/// The hot path's statements, each one function call that sets its tenant itself, prepared once per pooled
/// connection: after the first call on a connection the server only binds and executes them (no parse and
/// plan per request), and no transaction is opened around them (one statement is its own transaction).
protocol PreparedSQL: Sendable {
    /// The statement's name on the server (postgres-nio's default, the type's name, is built per call).
    static var name: String { get }
    static var sql: String { get }
}

struct Prepared<Statement: PreparedSQL>: PostgresPreparedStatement {
    static var name: String { Statement.name }
    static var sql: String { Statement.sql }
    var bindings = PostgresBindings()

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> StoredRow { StoredRow(row) }
}

/// `Row` by another name: inside `Prepared`, `Row` means the protocol's associated type.
typealias StoredRow = Row

enum FindRefreshSQL: PreparedSQL {
    static let name = "identityd_find_refresh3"
    static let sql = "SELECT * FROM identity_find_refresh3($1, $2)"
}

enum ApplyRefreshSQL: PreparedSQL {
    static let name = "identityd_apply_refresh2"
    static let sql = "SELECT identity_apply_refresh2($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) AS result"
}

enum UserByIDSQL: PreparedSQL {
    static let name = "identityd_user_by_id"
    static let sql = "SELECT * FROM identity_user_by_id($1, $2)"
}

enum UserByNameSQL: PreparedSQL {
    static let name = "identityd_user_by_name"
    static let sql = "SELECT * FROM identity_user_by_name($1, $2)"
}
