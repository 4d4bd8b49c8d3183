import Foundation
import IdentityCore

extension SQLiteStore {
    /// Brings the schema up to date in one transaction; refuses a schema newer than this binary knows.
    public func migrate() async throws {
        try await transaction { db in
            try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            let current = try db.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").first?.column("v")?.integer ?? 0
            guard current <= SQLiteSchema.migrations.count else {
                throw StoreError.schemaTooNew(found: Int(current), known: SQLiteSchema.migrations.count)
            }
            for (index, statements) in SQLiteSchema.migrations.enumerated() where index + 1 > current {
                for statement in statements { try db.execute(statement) }
                try db.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                             [.integer(index + 1), .integer(Int(Date().millisecondsSince1970))])
            }
        }
    }

}

/// The SQLite schema as versioned migrations: entry N brings the schema from version N to N+1. Never edit a
/// released entry; append a new one. Live definitions: the tables are migration 1's (columns added by 3);
/// the refresh grant's write (view `refresh_writes` and its trigger) is migration 3's.
enum SQLiteSchema {
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, policy TEXT NOT NULL,
              admin_key_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)
            """,
            """
            CREATE TABLE signing_keys (tenant_id TEXT NOT NULL, kid TEXT NOT NULL, alg TEXT NOT NULL, state TEXT NOT NULL,
              public_jwk TEXT NOT NULL, sealed_private_key TEXT NOT NULL, created_at INTEGER NOT NULL, activated_at INTEGER,
              retired_at INTEGER, verify_until INTEGER, PRIMARY KEY (tenant_id, kid))
            """,
            """
            CREATE TABLE clients (tenant_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, secret_hash TEXT,
              grant_types TEXT NOT NULL, redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL, created_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL, PRIMARY KEY (tenant_id, id))
            """,
            """
            CREATE TABLE users (tenant_id TEXT NOT NULL, id TEXT NOT NULL, username TEXT NOT NULL, email TEXT, password_hash TEXT NOT NULL,
              sealed_totp_secret TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (tenant_id, id),
              UNIQUE (tenant_id, username))
            """,
            """
            CREATE TABLE sessions (tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, client_id TEXT NOT NULL,
              scopes TEXT NOT NULL, acr TEXT NOT NULL, amr TEXT NOT NULL, auth_time INTEGER NOT NULL, created_at INTEGER NOT NULL,
              last_used_at INTEGER NOT NULL, idle_expires_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
              access_expires_at INTEGER NOT NULL, status TEXT NOT NULL, revoked_at INTEGER, dpop_jkt TEXT, ip TEXT, user_agent TEXT,
              PRIMARY KEY (tenant_id, id))
            """,
            "CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id)",
            "CREATE INDEX sessions_by_client ON sessions (tenant_id, client_id)",
            "CREATE INDEX sessions_by_expiry ON sessions (absolute_expires_at)",
            """
            CREATE TABLE refresh_tokens (tenant_id TEXT NOT NULL, lookup_key TEXT NOT NULL, session_id TEXT NOT NULL,
              client_id TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, rotated_at INTEGER, parent_key TEXT,
              PRIMARY KEY (tenant_id, lookup_key))
            """,
            "CREATE INDEX refresh_tokens_by_session ON refresh_tokens (tenant_id, session_id)",
            """
            CREATE TABLE revocations (tenant_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, kind, value))
            """,
            "CREATE INDEX revocations_by_expiry ON revocations (expires_at)",
            """
            CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL,
              user_id TEXT, client_id TEXT, session_id TEXT, token_hash_prefix TEXT, ip TEXT, user_agent TEXT, detail TEXT)
            """,
            "CREATE INDEX events_by_tenant ON events (tenant_id, id)",
        ],
        // 2: the refresh grant's write as one statement (an INSERT into a view whose trigger does the work), so it
        // is one call to the writer instead of five (BEGIN, compare-and-set, slide, successor, COMMIT).
        [
            """
            CREATE VIEW refresh_writes (tenant_id, presented_key, expected_state, new_state, now, session_id, last_used_at,
              idle_expires_at, access_expires_at, successor_key, successor_session_id, successor_client_id, successor_created_at,
              successor_parent_key)
            AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0
            """,
            """
            CREATE TRIGGER refresh_writes_apply INSTEAD OF INSERT ON refresh_writes BEGIN
              SELECT RAISE(ABORT, 'identityd:token_changed') WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens
                WHERE tenant_id = NEW.tenant_id AND lookup_key = NEW.presented_key AND state = NEW.expected_state);
              SELECT RAISE(ABORT, 'identityd:session_not_live') WHERE NOT EXISTS (SELECT 1 FROM sessions
                WHERE tenant_id = NEW.tenant_id AND id = NEW.session_id AND status = 'active'
                  AND idle_expires_at > NEW.now AND absolute_expires_at > NEW.now);
              UPDATE refresh_tokens SET state = NEW.new_state,
                rotated_at = CASE WHEN NEW.new_state = 'rotated' AND state <> 'rotated' THEN NEW.now ELSE rotated_at END
                WHERE tenant_id = NEW.tenant_id AND lookup_key = NEW.presented_key;
              UPDATE sessions SET last_used_at = NEW.last_used_at, idle_expires_at = NEW.idle_expires_at,
                access_expires_at = MAX(access_expires_at, NEW.access_expires_at)
                WHERE tenant_id = NEW.tenant_id AND id = NEW.session_id;
              INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, rotated_at, parent_key)
                SELECT NEW.tenant_id, NEW.successor_key, NEW.successor_session_id, NEW.successor_client_id, 'active',
                  NEW.successor_created_at, NULL, NEW.successor_parent_key
                WHERE NEW.successor_key IS NOT NULL;
            END
            """,
        ],
        // 3: the December audit. Grace retries are counted per rotated token and a token whose successor was
        // rotated is superseded (no more grace for it); the last accepted TOTP step per user (no replay); when
        // a client's secret was rotated (its client_credentials tokens end); a settings table (the master
        // key's check value, migration marks). The refresh write's view and trigger are replaced for the
        // new columns.
        [
            "ALTER TABLE refresh_tokens ADD COLUMN grace_uses INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE refresh_tokens ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE users ADD COLUMN totp_last_step INTEGER",
            "ALTER TABLE clients ADD COLUMN secret_rotated_at INTEGER",
            "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "DROP VIEW refresh_writes",
            """
            CREATE VIEW refresh_writes (tenant_id, presented_key, expected_state, new_state, now, session_id, last_used_at,
              idle_expires_at, access_expires_at, successor_key, successor_session_id, successor_client_id, successor_created_at,
              successor_parent_key, grace_limit, supersedes)
            AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0
            """,
            """
            CREATE TRIGGER refresh_writes_apply INSTEAD OF INSERT ON refresh_writes BEGIN
              SELECT RAISE(ABORT, 'identityd:token_changed') WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens
                WHERE tenant_id = NEW.tenant_id AND lookup_key = NEW.presented_key AND state = NEW.expected_state
                  AND (NEW.grace_limit IS NULL OR (superseded = 0 AND grace_uses < NEW.grace_limit)));
              SELECT RAISE(ABORT, 'identityd:session_not_live') WHERE NOT EXISTS (SELECT 1 FROM sessions
                WHERE tenant_id = NEW.tenant_id AND id = NEW.session_id AND status = 'active'
                  AND idle_expires_at > NEW.now AND absolute_expires_at > NEW.now);
              UPDATE refresh_tokens SET state = NEW.new_state,
                rotated_at = CASE WHEN NEW.new_state = 'rotated' AND state <> 'rotated' THEN NEW.now ELSE rotated_at END,
                grace_uses = grace_uses + CASE WHEN NEW.grace_limit IS NULL THEN 0 ELSE 1 END
                WHERE tenant_id = NEW.tenant_id AND lookup_key = NEW.presented_key;
              UPDATE refresh_tokens SET superseded = 1
                WHERE NEW.supersedes IS NOT NULL AND tenant_id = NEW.tenant_id AND lookup_key = NEW.supersedes;
              UPDATE sessions SET last_used_at = NEW.last_used_at, idle_expires_at = NEW.idle_expires_at,
                access_expires_at = MAX(access_expires_at, NEW.access_expires_at)
                WHERE tenant_id = NEW.tenant_id AND id = NEW.session_id;
              INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, rotated_at, parent_key)
                SELECT NEW.tenant_id, NEW.successor_key, NEW.successor_session_id, NEW.successor_client_id, 'active',
                  NEW.successor_created_at, NULL, NEW.successor_parent_key
                WHERE NEW.successor_key IS NOT NULL;
            END
            """,
        ],
        // 4: browser sign-in. Authorization codes (only their hash), browser sessions (single sign-on; only the
        // cookie secret's hash), consents; clients' post-logout redirect URIs and consent flag; the browser
        // session a token family was started in (RP-initiated logout ends it).
        [
            "ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE clients ADD COLUMN require_consent INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE sessions ADD COLUMN browser_session_id TEXT",
            "CREATE INDEX sessions_by_browser_session ON sessions (browser_session_id) WHERE browser_session_id IS NOT NULL",
            """
            CREATE TABLE authorization_codes (tenant_id TEXT NOT NULL, code_hash TEXT NOT NULL, client_id TEXT NOT NULL,
              redirect_uri TEXT NOT NULL, code_challenge TEXT NOT NULL, nonce TEXT, scopes TEXT NOT NULL, user_id TEXT NOT NULL,
              acr TEXT NOT NULL, amr TEXT NOT NULL, auth_time INTEGER NOT NULL, dpop_jkt TEXT, browser_session_id TEXT,
              created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, consumed_at INTEGER, session_id TEXT,
              PRIMARY KEY (tenant_id, code_hash))
            """,
            "CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at)",
            """
            CREATE TABLE browser_sessions (tenant_id TEXT NOT NULL, id TEXT NOT NULL, secret_hash TEXT NOT NULL, user_id TEXT NOT NULL,
              acr TEXT NOT NULL, amr TEXT NOT NULL, auth_time INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
              status TEXT NOT NULL, ip TEXT, user_agent TEXT, PRIMARY KEY (tenant_id, id))
            """,
            "CREATE INDEX browser_sessions_by_user ON browser_sessions (user_id, tenant_id)",
            "CREATE INDEX browser_sessions_by_expiry ON browser_sessions (expires_at)",
            """
            CREATE TABLE consents (tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL,
              granted_at INTEGER NOT NULL, PRIMARY KEY (tenant_id, user_id, client_id))
            """,
        ],
        // Version 5: the outbox of alert webhooks (issue 21).
        [
            """
            CREATE TABLE webhook_outbox (tenant_id TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
              attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, lease_until INTEGER, PRIMARY KEY (tenant_id, id))
            """,
            "CREATE INDEX webhook_outbox_by_due ON webhook_outbox (next_attempt_at)",
        ],
    ]
}
