/// The PostgreSQL schema, as versioned migrations: entry N brings the schema from version N to N+1. Never
/// edit a released entry; append a new one. `identityd migrate` and `serve` apply them under an advisory
/// lock, so two nodes starting at once apply each exactly once.
///
/// Every tenant-scoped table has row-level security, forced on the owner too, keyed by the transaction's
/// `app.tenant_id` setting: a query that did not set it sees and changes nothing. `app.cross_tenant = 'on'` is
/// the setting of the few operations that span tenants (list tenants, warm the revocation cache, purge, write
/// audit batches; until migration 10 it was `app.tenant_id = '*'`). The role identityd connects as must not be
/// a superuser or have BYPASSRLS, or this wall does not stand.
///
/// Where the live definitions are (a later migration replaces an earlier one's): tables and indexes —
/// migrations 1, 4, 6–12; row-level security policies — migrations 10, 11 and 12; `identity_find_refresh3` —
/// migration 11; `identity_apply_refresh2` — migration 10 (`identity_find_refresh2`, `identity_find_refresh`
/// and `identity_apply_refresh` serve only nodes of earlier versions); `identity_user_by_id`, `identity_user_by_name` —
/// migration 3.
enum PostgresSchema {
    /// The tenant-scoped tables of migration 1 (released: never change this list).
    static let tenantTables = ["signing_keys", "clients", "users", "sessions", "refresh_tokens", "revocations", "events"]
    /// The tenant-scoped tables of migration 11.
    static let signInTables = ["authorization_codes", "browser_sessions", "consents"]

    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE tenants (id text PRIMARY KEY, name text NOT NULL, status text NOT NULL, policy jsonb NOT NULL,
              admin_key_hash text NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)
            """,
            """
            CREATE TABLE signing_keys (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, kid text NOT NULL,
              alg text NOT NULL, state text NOT NULL, public_jwk text NOT NULL, sealed_private_key text NOT NULL,
              created_at timestamptz NOT NULL, activated_at timestamptz, retired_at timestamptz, verify_until timestamptz,
              PRIMARY KEY (tenant_id, kid))
            """,
            """
            CREATE TABLE clients (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id text NOT NULL, name text NOT NULL,
              kind text NOT NULL, secret_hash text, grant_types text[] NOT NULL, redirect_uris text[] NOT NULL, scopes text[] NOT NULL,
              created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, id))
            """,
            """
            CREATE TABLE users (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id text NOT NULL, username text NOT NULL,
              email text, password_hash text NOT NULL, sealed_totp_secret text, created_at timestamptz NOT NULL,
              updated_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, username))
            """,
            """
            CREATE TABLE sessions (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id text NOT NULL, user_id text NOT NULL,
              client_id text NOT NULL, scopes text[] NOT NULL, acr text NOT NULL, amr text[] NOT NULL, auth_time timestamptz NOT NULL,
              created_at timestamptz NOT NULL, last_used_at timestamptz NOT NULL, idle_expires_at timestamptz NOT NULL,
              absolute_expires_at timestamptz NOT NULL, access_expires_at timestamptz NOT NULL, status text NOT NULL,
              revoked_at timestamptz, dpop_jkt text, ip text, user_agent text, PRIMARY KEY (tenant_id, id))
            """,
            "CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id)",
            "CREATE INDEX sessions_by_client ON sessions (tenant_id, client_id)",
            "CREATE INDEX sessions_by_expiry ON sessions (absolute_expires_at)",
            "CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at)",
            """
            CREATE TABLE refresh_tokens (tenant_id text NOT NULL, lookup_key text NOT NULL, session_id text NOT NULL, client_id text NOT NULL,
              state text NOT NULL, created_at timestamptz NOT NULL, rotated_at timestamptz, parent_key text,
              PRIMARY KEY (tenant_id, lookup_key),
              FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE)
            """,
            "CREATE INDEX refresh_tokens_by_session ON refresh_tokens (tenant_id, session_id)",
            """
            CREATE TABLE revocations (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, kind text NOT NULL, value text NOT NULL,
              expires_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, kind, value))
            """,
            "CREATE INDEX revocations_by_expiry ON revocations (expires_at)",
            """
            CREATE TABLE events (id bigserial PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, kind text NOT NULL,
              time timestamptz NOT NULL, user_id text, client_id text, session_id text, token_hash_prefix text, ip text,
              user_agent text, detail text)
            """,
            "CREATE INDEX events_by_tenant ON events (tenant_id, id)",
            "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tenant_wall ON tenants USING (id = current_setting('app.tenant_id', true) OR current_setting('app.tenant_id', true) = '*')
            """,
        ] + tenantTables.flatMap { table in
            [
                "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY tenant_wall ON \(table)
                  USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.tenant_id', true) = '*')
                """,
            ]
        } + [
            // The refresh grant's two round trips: the lookup, and the compare-and-set write. Functions so that
            // each is one statement that sets the tenant first; the rules stay in IdentityCore.
            """
            CREATE FUNCTION identity_find_refresh(p_tenant text, p_key text)
            RETURNS TABLE (lookup_key text, session_id text, client_id text, state text, created_at timestamptz, rotated_at timestamptz,
              parent_key text, s_user_id text, s_client_id text, s_scopes text[], s_acr text, s_amr text[], s_auth_time timestamptz,
              s_created_at timestamptz, s_last_used_at timestamptz, s_idle_expires_at timestamptz, s_absolute_expires_at timestamptz,
              s_access_expires_at timestamptz, s_status text, s_revoked_at timestamptz, s_dpop_jkt text, s_ip text, s_user_agent text)
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              RETURN QUERY SELECT t.lookup_key, t.session_id, t.client_id, t.state, t.created_at, t.rotated_at, t.parent_key,
                s.user_id, s.client_id, s.scopes, s.acr, s.amr, s.auth_time, s.created_at, s.last_used_at, s.idle_expires_at,
                s.absolute_expires_at, s.access_expires_at, s.status, s.revoked_at, s.dpop_jkt, s.ip, s.user_agent
              FROM refresh_tokens t JOIN sessions s ON s.tenant_id = t.tenant_id AND s.id = t.session_id
              WHERE t.tenant_id = p_tenant AND t.lookup_key = p_key;
            END $$
            """,
            """
            CREATE FUNCTION identity_apply_refresh(p_tenant text, p_key text, p_expected text, p_new text, p_now timestamptz, p_session text,
              p_last_used timestamptz, p_idle timestamptz, p_access timestamptz, p_successor text, p_successor_client text,
              p_successor_created timestamptz, p_successor_parent text)
            RETURNS text LANGUAGE plpgsql AS $$
            DECLARE
              live boolean;
              changed integer;
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              -- Lock the session first (as revocation does), so a revocation and a rotation of one family serialise.
              SELECT s.status = 'active' AND s.idle_expires_at > p_now AND s.absolute_expires_at > p_now INTO live
                FROM sessions s WHERE s.tenant_id = p_tenant AND s.id = p_session FOR UPDATE;
              IF live IS NOT TRUE THEN
                IF EXISTS (SELECT 1 FROM refresh_tokens WHERE tenant_id = p_tenant AND lookup_key = p_key AND state = p_expected) THEN
                  RETURN 'session_not_live';
                END IF;
                RETURN 'token_changed';
              END IF;
              -- The compare-and-set: of two racing calls expecting the same state, only the first finds it.
              UPDATE refresh_tokens SET state = p_new,
                rotated_at = CASE WHEN p_new = 'rotated' AND state <> 'rotated' THEN p_now ELSE rotated_at END
                WHERE tenant_id = p_tenant AND lookup_key = p_key AND state = p_expected;
              GET DIAGNOSTICS changed = ROW_COUNT;
              IF changed = 0 THEN
                RETURN 'token_changed';
              END IF;
              UPDATE sessions SET last_used_at = p_last_used, idle_expires_at = p_idle,
                access_expires_at = GREATEST(access_expires_at, p_access)
                WHERE tenant_id = p_tenant AND id = p_session;
              IF p_successor IS NOT NULL THEN
                INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, parent_key)
                  VALUES (p_tenant, p_successor, p_session, p_successor_client, 'active', p_successor_created, p_successor_parent);
              END IF;
              RETURN 'applied';
            END $$
            """,
        ],
        // Version 3: the user reads of the token endpoints as single statements that set their tenant (no
        // BEGIN, set_config, COMMIT around them): the refresh grant reads its user for the ID token.
        [
            """
            CREATE FUNCTION identity_user_by_id(p_tenant text, p_id text) RETURNS SETOF users LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              RETURN QUERY SELECT * FROM users WHERE tenant_id = p_tenant AND id = p_id;
            END $$
            """,
            """
            CREATE FUNCTION identity_user_by_name(p_tenant text, p_username text) RETURNS SETOF users LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              RETURN QUERY SELECT * FROM users WHERE tenant_id = p_tenant AND username = p_username;
            END $$
            """,
        ],
        // Version 4: every rotation updates its session's idle expiry and its token's state. With an index on
        // idle_expires_at, no session update could be a heap-only (HOT) update: each one wrote a new entry
        // into all five of the table's indexes. The purge, every ten minutes, scans instead. Free space on
        // the pages (fillfactor) lets the updated row stay on its page.
        [
            "DROP INDEX sessions_by_idle_expiry",
            "ALTER TABLE sessions SET (fillfactor = 80)",
            "ALTER TABLE refresh_tokens SET (fillfactor = 80)",
        ],
        // Version 5: the session's liveness check, its lock and its slide in one UPDATE (before: a SELECT ...
        // FOR UPDATE, then the UPDATE: two scans and a lock record in the WAL besides the update). The session
        // is still locked before the token, as revocation locks them. A lost compare-and-set raises
        // `tokenChangedState`, which undoes the slide with the rest of the statement.
        [
            """
            CREATE OR REPLACE FUNCTION identity_apply_refresh(p_tenant text, p_key text, p_expected text, p_new text, p_now timestamptz,
              p_session text, p_last_used timestamptz, p_idle timestamptz, p_access timestamptz, p_successor text, p_successor_client text,
              p_successor_created timestamptz, p_successor_parent text)
            RETURNS text LANGUAGE plpgsql AS $$
            DECLARE
              changed integer;
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              UPDATE sessions SET last_used_at = p_last_used, idle_expires_at = p_idle,
                access_expires_at = GREATEST(access_expires_at, p_access)
                WHERE tenant_id = p_tenant AND id = p_session
                  AND status = 'active' AND idle_expires_at > p_now AND absolute_expires_at > p_now;
              GET DIAGNOSTICS changed = ROW_COUNT;
              IF changed = 0 THEN
                IF EXISTS (SELECT 1 FROM refresh_tokens WHERE tenant_id = p_tenant AND lookup_key = p_key AND state = p_expected) THEN
                  RETURN 'session_not_live';
                END IF;
                RETURN 'token_changed';
              END IF;
              -- The compare-and-set: of two racing calls expecting the same state, only the first finds it.
              UPDATE refresh_tokens SET state = p_new,
                rotated_at = CASE WHEN p_new = 'rotated' AND state <> 'rotated' THEN p_now ELSE rotated_at END
                WHERE tenant_id = p_tenant AND lookup_key = p_key AND state = p_expected;
              GET DIAGNOSTICS changed = ROW_COUNT;
              IF changed = 0 THEN
                RAISE EXCEPTION 'refresh token changed' USING ERRCODE = '\(tokenChangedState)';
              END IF;
              IF p_successor IS NOT NULL THEN
                INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, parent_key)
                  VALUES (p_tenant, p_successor, p_session, p_successor_client, 'active', p_successor_created, p_successor_parent);
              END IF;
              RETURN 'applied';
            END $$
            """,
        ],
        // Version 6: no foreign key from events to tenants. Checked per row, it was half the cost of writing
        // an audit batch (10 µs per row against 5, measured with 1,000-row batches); the batch now locks its
        // tenants' rows once, and `deleteTenant` deletes the events itself.
        [
            "ALTER TABLE events DROP CONSTRAINT events_tenant_id_fkey",
        ],
        // Version 7: the names of audit batches written (see `appendEvents`), so that a retried batch is written
        // once. No tenant data, so no row-level security; the purge deletes names older than a day.
        [
            "CREATE TABLE event_batches (id text PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())",
        ],
        // Version 8: secondary indexes lead with their own column, not `tenant_id`. A statement planned before
        // its table had statistics (a new deployment, until autovacuum's first ANALYZE; the prepared refresh
        // functions and the foreign-key checks keep a generic plan per connection) found `(tenant_id,
        // client_id)` as cheap as the primary key `(tenant_id, id)` and could pick it for `tenant_id = $1 AND
        // id = $2`: every rotation's session update and foreign-key check then read every session of the
        // tenant (measured: 226 rows read per rotation in a fresh benchmark database, 4 after). Led by their
        // own column, these indexes no longer match a lookup by primary key, and still serve their own
        // lookups (both columns compared for equality).
        [
            "CREATE INDEX sessions_by_user_v8 ON sessions (user_id, tenant_id)",
            "CREATE INDEX sessions_by_client_v8 ON sessions (client_id, tenant_id)",
            "CREATE INDEX refresh_tokens_by_session_v8 ON refresh_tokens (session_id, tenant_id)",
            "DROP INDEX sessions_by_user",
            "DROP INDEX sessions_by_client",
            "DROP INDEX refresh_tokens_by_session",
            "ALTER INDEX sessions_by_user_v8 RENAME TO sessions_by_user",
            "ALTER INDEX sessions_by_client_v8 RENAME TO sessions_by_client",
            "ALTER INDEX refresh_tokens_by_session_v8 RENAME TO refresh_tokens_by_session",
            // The same blindness made the lookup's join read the tenant's sessions by `tenant_id` alone and
            // filter them by the token's session id. A LATERAL subquery with a LIMIT is planned on its own,
            // with the token's columns as parameters, so it finds the session by its whole primary key.
            """
            CREATE OR REPLACE FUNCTION identity_find_refresh(p_tenant text, p_key text)
            RETURNS TABLE (lookup_key text, session_id text, client_id text, state text, created_at timestamptz, rotated_at timestamptz,
              parent_key text, s_user_id text, s_client_id text, s_scopes text[], s_acr text, s_amr text[], s_auth_time timestamptz,
              s_created_at timestamptz, s_last_used_at timestamptz, s_idle_expires_at timestamptz, s_absolute_expires_at timestamptz,
              s_access_expires_at timestamptz, s_status text, s_revoked_at timestamptz, s_dpop_jkt text, s_ip text, s_user_agent text)
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              RETURN QUERY SELECT t.lookup_key, t.session_id, t.client_id, t.state, t.created_at, t.rotated_at, t.parent_key,
                s.user_id, s.client_id, s.scopes, s.acr, s.amr, s.auth_time, s.created_at, s.last_used_at, s.idle_expires_at,
                s.absolute_expires_at, s.access_expires_at, s.status, s.revoked_at, s.dpop_jkt, s.ip, s.user_agent
              FROM refresh_tokens t
              CROSS JOIN LATERAL (SELECT * FROM sessions x WHERE x.tenant_id = t.tenant_id AND x.id = t.session_id LIMIT 1) s
              WHERE t.tenant_id = p_tenant AND t.lookup_key = p_key;
            END $$
            """,
        ],
        // Version 9: no foreign key from refresh tokens to sessions. Its check (a `SELECT … FOR KEY SHARE` of the
        // session, after every successor's insert) was 14 % of the rotation function's cost (pgbench of the
        // function alone, three alternating pairs: 8,616 against 9,999 calls/s). Every token is inserted by
        // a statement that has just inserted or updated-and-locked its session; the purge and `deleteTenant`
        // delete the tokens of the sessions they delete.
        [
            "ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_tenant_id_session_id_fkey",
        ],
        // Version 10: the December audit. Grace retries counted per rotated token, superseded tokens (no more
        // grace once a successor was rotated), the last accepted TOTP step per user, when a client's secret
        // was rotated, a settings table (the master key's check value; no tenant data, so no row-level
        // security). The refresh functions are replaced by versions that know the new columns (the old ones
        // stay for nodes of the previous version during a rolling upgrade). Cross-tenant work no longer sets
        // `app.tenant_id` to '*', which a tenant id from outside could have named, but `app.cross_tenant`.
        [
            "ALTER TABLE refresh_tokens ADD COLUMN grace_uses integer NOT NULL DEFAULT 0",
            "ALTER TABLE refresh_tokens ADD COLUMN superseded boolean NOT NULL DEFAULT false",
            "ALTER TABLE users ADD COLUMN totp_last_step bigint",
            "ALTER TABLE clients ADD COLUMN secret_rotated_at timestamptz",
            "CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL)",
            """
            CREATE FUNCTION identity_find_refresh2(p_tenant text, p_key text)
            RETURNS TABLE (lookup_key text, session_id text, client_id text, state text, created_at timestamptz, rotated_at timestamptz,
              parent_key text, grace_uses integer, superseded boolean, s_user_id text, s_client_id text, s_scopes text[], s_acr text,
              s_amr text[], s_auth_time timestamptz, s_created_at timestamptz, s_last_used_at timestamptz, s_idle_expires_at timestamptz,
              s_absolute_expires_at timestamptz, s_access_expires_at timestamptz, s_status text, s_revoked_at timestamptz, s_dpop_jkt text,
              s_ip text, s_user_agent text)
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              RETURN QUERY SELECT t.lookup_key, t.session_id, t.client_id, t.state, t.created_at, t.rotated_at, t.parent_key,
                t.grace_uses, t.superseded, s.user_id, s.client_id, s.scopes, s.acr, s.amr, s.auth_time, s.created_at, s.last_used_at,
                s.idle_expires_at, s.absolute_expires_at, s.access_expires_at, s.status, s.revoked_at, s.dpop_jkt, s.ip, s.user_agent
              FROM refresh_tokens t
              CROSS JOIN LATERAL (SELECT * FROM sessions x WHERE x.tenant_id = t.tenant_id AND x.id = t.session_id LIMIT 1) s
              WHERE t.tenant_id = p_tenant AND t.lookup_key = p_key;
            END $$
            """,
            """
            CREATE FUNCTION identity_apply_refresh2(p_tenant text, p_key text, p_expected text, p_new text, p_now timestamptz,
              p_session text, p_last_used timestamptz, p_idle timestamptz, p_access timestamptz, p_successor text, p_successor_client text,
              p_successor_created timestamptz, p_successor_parent text, p_grace_limit integer, p_supersedes text)
            RETURNS text LANGUAGE plpgsql AS $$
            DECLARE
              changed integer;
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              UPDATE sessions SET last_used_at = p_last_used, idle_expires_at = p_idle,
                access_expires_at = GREATEST(access_expires_at, p_access)
                WHERE tenant_id = p_tenant AND id = p_session
                  AND status = 'active' AND idle_expires_at > p_now AND absolute_expires_at > p_now;
              GET DIAGNOSTICS changed = ROW_COUNT;
              IF changed = 0 THEN
                IF EXISTS (SELECT 1 FROM refresh_tokens WHERE tenant_id = p_tenant AND lookup_key = p_key AND state = p_expected) THEN
                  RETURN 'session_not_live';
                END IF;
                RETURN 'token_changed';
              END IF;
              -- The compare-and-set: of two racing calls expecting the same state, only the first finds it; a grace
              -- retry also needs the token unsuperseded and under its retry limit, and counts itself.
              UPDATE refresh_tokens SET state = p_new,
                rotated_at = CASE WHEN p_new = 'rotated' AND state <> 'rotated' THEN p_now ELSE rotated_at END,
                grace_uses = grace_uses + CASE WHEN p_grace_limit IS NULL THEN 0 ELSE 1 END
                WHERE tenant_id = p_tenant AND lookup_key = p_key AND state = p_expected
                  AND (p_grace_limit IS NULL OR (NOT superseded AND grace_uses < p_grace_limit));
              GET DIAGNOSTICS changed = ROW_COUNT;
              IF changed = 0 THEN
                RAISE EXCEPTION 'refresh token changed' USING ERRCODE = '\(tokenChangedState)';
              END IF;
              IF p_supersedes IS NOT NULL THEN
                UPDATE refresh_tokens SET superseded = true WHERE tenant_id = p_tenant AND lookup_key = p_supersedes;
              END IF;
              IF p_successor IS NOT NULL THEN
                INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, parent_key)
                  VALUES (p_tenant, p_successor, p_session, p_successor_client, 'active', p_successor_created, p_successor_parent);
              END IF;
              RETURN 'applied';
            END $$
            """,
            """
            DROP POLICY tenant_wall ON tenants
            """,
            """
            CREATE POLICY tenant_wall ON tenants
              USING (id = current_setting('app.tenant_id', true) OR current_setting('app.cross_tenant', true) = 'on')
            """,
        ] + tenantTables.flatMap { table in
            [
                "DROP POLICY tenant_wall ON \(table)",
                """
                CREATE POLICY tenant_wall ON \(table)
                  USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.cross_tenant', true) = 'on')
                """,
            ]
        },
        // Version 11: browser sign-in. Authorization codes (only their hash), browser sessions (single sign-on;
        // only the cookie secret's hash), consents, each walled by tenant; clients' post-logout redirect URIs
        // and consent flag; the browser session a token family was started in (RP-initiated logout ends it),
        // which the refresh lookup now returns too (`identity_find_refresh3`; `2` stays for the previous
        // version's nodes during a rolling upgrade).
        [
            "ALTER TABLE clients ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}'",
            "ALTER TABLE clients ADD COLUMN require_consent boolean NOT NULL DEFAULT false",
            "ALTER TABLE sessions ADD COLUMN browser_session_id text",
            "CREATE INDEX sessions_by_browser_session ON sessions (browser_session_id, tenant_id) WHERE browser_session_id IS NOT NULL",
            """
            CREATE TABLE authorization_codes (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, code_hash text NOT NULL,
              client_id text NOT NULL, redirect_uri text NOT NULL, code_challenge text NOT NULL, nonce text, scopes text[] NOT NULL,
              user_id text NOT NULL, acr text NOT NULL, amr text[] NOT NULL, auth_time timestamptz NOT NULL, dpop_jkt text,
              browser_session_id text, created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, consumed_at timestamptz,
              session_id text, PRIMARY KEY (tenant_id, code_hash))
            """,
            "CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at)",
            """
            CREATE TABLE browser_sessions (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id text NOT NULL,
              secret_hash text NOT NULL, user_id text NOT NULL, acr text NOT NULL, amr text[] NOT NULL, auth_time timestamptz NOT NULL,
              created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, status text NOT NULL, ip text, user_agent text,
              PRIMARY KEY (tenant_id, id))
            """,
            "CREATE INDEX browser_sessions_by_user ON browser_sessions (user_id, tenant_id)",
            "CREATE INDEX browser_sessions_by_expiry ON browser_sessions (expires_at)",
            """
            CREATE TABLE consents (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, user_id text NOT NULL,
              client_id text NOT NULL, scopes text[] NOT NULL, granted_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, user_id, client_id))
            """,
            """
            CREATE FUNCTION identity_find_refresh3(p_tenant text, p_key text)
            RETURNS TABLE (lookup_key text, session_id text, client_id text, state text, created_at timestamptz, rotated_at timestamptz,
              parent_key text, grace_uses integer, superseded boolean, s_user_id text, s_client_id text, s_scopes text[], s_acr text,
              s_amr text[], s_auth_time timestamptz, s_created_at timestamptz, s_last_used_at timestamptz, s_idle_expires_at timestamptz,
              s_absolute_expires_at timestamptz, s_access_expires_at timestamptz, s_status text, s_revoked_at timestamptz, s_dpop_jkt text,
              s_ip text, s_user_agent text, s_browser_session_id text)
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM set_config('app.tenant_id', p_tenant, true);
              RETURN QUERY SELECT t.lookup_key, t.session_id, t.client_id, t.state, t.created_at, t.rotated_at, t.parent_key,
                t.grace_uses, t.superseded, s.user_id, s.client_id, s.scopes, s.acr, s.amr, s.auth_time, s.created_at, s.last_used_at,
                s.idle_expires_at, s.absolute_expires_at, s.access_expires_at, s.status, s.revoked_at, s.dpop_jkt, s.ip, s.user_agent,
                s.browser_session_id
              FROM refresh_tokens t
              CROSS JOIN LATERAL (SELECT * FROM sessions x WHERE x.tenant_id = t.tenant_id AND x.id = t.session_id LIMIT 1) s
              WHERE t.tenant_id = p_tenant AND t.lookup_key = p_key;
            END $$
            """,
        ] + signInTables.flatMap { table in
            [
                "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
                """
                CREATE POLICY tenant_wall ON \(table)
                  USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.cross_tenant', true) = 'on')
                """,
            ]
        },
        // Version 12: the outbox of alert webhooks (issue 21), walled by tenant like the others; the dispatcher
        // claims across tenants (`app.cross_tenant`), with SKIP LOCKED so that nodes claiming at once split it.
        [
            """
            CREATE TABLE webhook_outbox (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id text NOT NULL,
              body text NOT NULL, created_at timestamptz NOT NULL, attempts integer NOT NULL, next_attempt_at timestamptz NOT NULL,
              lease_until timestamptz, PRIMARY KEY (tenant_id, id))
            """,
            "CREATE INDEX webhook_outbox_by_due ON webhook_outbox (next_attempt_at)",
            "ALTER TABLE webhook_outbox ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE webhook_outbox FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tenant_wall ON webhook_outbox
              USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.cross_tenant', true) = 'on')
            """,
        ],
    ]

    /// The SQLSTATE `identity_apply_refresh` raises when its compare-and-set finds the token changed.
    static let tokenChangedState = "IDT01"
}
