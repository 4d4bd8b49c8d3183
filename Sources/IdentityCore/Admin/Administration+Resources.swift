import Foundation

extension Administration {
    // MARK: clients

    /// `POST /tenants/{t}/clients`: a confidential client gets a secret, shown in this response only and
    /// stored as an scrypt hash. `presetSecret` (declarative tenant files only) fixes the secret instead of
    /// generating one.
    public func createClient(_ tenantID: String, _ body: JSONValue, presetSecret: String? = nil, by principal: AdminPrincipal) async throws
        -> AdminView.ClientView
    {
        _ = try await authorize(principal, tenantID)
        let reader = try JSONObjectReader(body)
        try reader.rejectUnknown(["client_id", "name", "type", "grant_types", "redirect_uris", "scopes"])
        let id = try reader.string("client_id") ?? runtime.random.identifier(prefix: "cl")
        guard Client.isValidID(id) else { throw AdminError.invalidField("client_id", "must be 1 to 100 visible ASCII characters without ':'") }
        let name = try validName(reader.requiredString("name"), field: "name")
        guard let kind = Client.Kind(rawValue: try reader.requiredString("type")) else {
            throw AdminError.invalidField("type", "must be confidential or public")
        }
        let now = self.now
        var client = Client(tenantID: tenantID, id: id, name: name, kind: kind, secretHash: nil, grantTypes: [], redirectURIs: [],
                            scopes: [], createdAt: now, updatedAt: now)
        try apply(reader, to: &client, requireGrants: true)
        var secret: String?
        if kind == .confidential {
            if let presetSecret, presetSecret.utf8.count < 16 { throw AdminError.invalidField("secret", "must be at least 16 bytes") }
            secret = presetSecret ?? "cs_" + runtime.random.token(bytes: 32)
            client.secretHash = try await runtime.hasher.hash(secret!)
        }
        do {
            try await store.createClient(client)
        } catch StoreError.conflict {
            throw AdminError.conflict("a client with id \(id) exists in this tenant")
        }
        record(tenantID, .clientCreated, client: id)
        return .init(client, secret: secret)
    }

    public func clients(_ tenantID: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.ClientView> {
        _ = try await authorize(principal, tenantID)
        return .init(items: try await store.clients(tenantID: tenantID).map { AdminView.ClientView($0) })
    }

    public func client(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> AdminView.ClientView {
        _ = try await authorize(principal, tenantID)
        guard let client = try await store.client(tenantID: tenantID, id: id) else { throw AdminError.notFound("client") }
        return .init(client)
    }

    /// `PATCH /tenants/{t}/clients/{id}`: name, grant types, redirect URIs, scopes; `rotate_secret: true`
    /// issues a new secret (shown once) and ends the old one at once.
    public func updateClient(_ tenantID: String, _ id: String, _ body: JSONValue, by principal: AdminPrincipal) async throws -> AdminView.ClientView {
        _ = try await authorize(principal, tenantID)
        guard var client = try await store.client(tenantID: tenantID, id: id) else { throw AdminError.notFound("client") }
        let reader = try JSONObjectReader(body)
        try reader.rejectUnknown(["name", "grant_types", "redirect_uris", "scopes", "rotate_secret"])
        if let name = try reader.string("name") { client.name = try validName(name, field: "name") }
        try apply(reader, to: &client, requireGrants: false)
        var secret: String?
        if try reader.bool("rotate_secret") == true {
            guard client.kind == .confidential else { throw AdminError.invalidField("rotate_secret", "a public client has no secret") }
            secret = "cs_" + runtime.random.token(bytes: 32)
            client.secretHash = try await runtime.hasher.hash(secret!)
        }
        client.updatedAt = now
        guard try await store.updateClient(client) else { throw AdminError.notFound("client") }
        await runtime.invalidate(tenant: tenantID)  // nodes cache clients
        record(tenantID, .clientUpdated, client: id, detail: secret == nil ? nil : "secret_rotated")
        return .init(client, secret: secret)
    }

    /// `DELETE /tenants/{t}/clients/{id}`: revokes the client's sessions, then deletes it.
    public func deleteClient(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws {
        _ = try await authorize(principal, tenantID)
        guard try await store.client(tenantID: tenantID, id: id) != nil else { throw AdminError.notFound("client") }
        let now = self.now
        let revoked = try await store.revokeClientSessions(tenantID: tenantID, clientID: id, at: now)
        await runtime.afterRevoking(revoked, reason: "client_deleted", origin: .init(), now: now)
        _ = try await store.deleteClient(tenantID: tenantID, id: id)
        await runtime.invalidate(tenant: tenantID)  // nodes cache clients
        record(tenantID, .clientDeleted, client: id)
    }

    private func apply(_ reader: JSONObjectReader, to client: inout Client, requireGrants: Bool) throws {
        if let grants = try reader.strings("grant_types") {
            client.grantTypes = try grants.map {
                guard let grant = GrantType(rawValue: $0) else {
                    throw AdminError.invalidField("grant_types", "unknown grant type (password, client_credentials, refresh_token, authorization_code)")
                }
                return grant
            }
        } else if requireGrants {
            throw AdminError.invalidField("grant_types", "is required")
        }
        if let uris = try reader.strings("redirect_uris") {
            for uri in uris {
                guard let url = URL(string: uri), url.scheme != nil, url.fragment == nil, uri.utf8.count <= 2048 else {
                    throw AdminError.invalidField("redirect_uris", "must be absolute URIs without a fragment")
                }
            }
            client.redirectURIs = uris
        }
        if let scopes = try reader.strings("scopes") {
            guard scopes.allSatisfy(Scope.isValidToken) else { throw AdminError.invalidField("scopes", "contains an invalid scope") }
            client.scopes = Scope.unique(scopes)
        }
        guard !client.grantTypes.isEmpty else { throw AdminError.invalidField("grant_types", "must not be empty") }
        if client.kind == .public, client.grantTypes.contains(.clientCredentials) {
            throw AdminError.invalidField("grant_types", "a public client cannot use client_credentials")
        }
        if client.grantTypes.contains(.authorizationCode), client.redirectURIs.isEmpty {
            throw AdminError.invalidField("redirect_uris", "authorization_code needs at least one redirect URI")
        }
    }

    // MARK: users

    public func createUser(_ tenantID: String, _ body: JSONValue, by principal: AdminPrincipal) async throws -> AdminView.UserView {
        _ = try await authorize(principal, tenantID)
        let reader = try JSONObjectReader(body)
        try reader.rejectUnknown(["username", "password", "email"])
        let username = try validUsername(reader.requiredString("username"))
        let password = try validPassword(reader.requiredString("password"))
        let email = try reader.string("email").map(validEmail)
        let now = self.now
        let user = User(tenantID: tenantID, id: runtime.random.identifier(prefix: "usr"), username: username, email: email,
                        passwordHash: try await runtime.hasher.hash(password), sealedTOTPSecret: nil, createdAt: now, updatedAt: now)
        do {
            try await store.createUser(user)
        } catch StoreError.conflict {
            throw AdminError.conflict("username \(username) is taken in this tenant")
        }
        record(tenantID, .userCreated, user: user.id)
        return .init(user)
    }

    public func users(_ tenantID: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.UserView> {
        _ = try await authorize(principal, tenantID)
        return .init(items: try await store.users(tenantID: tenantID).map(AdminView.UserView.init))
    }

    public func user(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> AdminView.UserView {
        .init(try await existingUser(tenantID, id, by: principal))
    }

    /// `PATCH /tenants/{t}/users/{id}`: username, email, password. A password change revokes every session
    /// of the user.
    public func updateUser(_ tenantID: String, _ id: String, _ body: JSONValue, by principal: AdminPrincipal) async throws -> AdminView.UserView {
        var user = try await existingUser(tenantID, id, by: principal)
        let reader = try JSONObjectReader(body)
        try reader.rejectUnknown(["username", "password", "email"])
        if let username = try reader.string("username") { user.username = try validUsername(username) }
        if reader.has("email") { user.email = try reader.string("email").map(validEmail) }
        let password = try reader.string("password").map(validPassword)
        if let password { user.passwordHash = try await runtime.hasher.hash(password) }
        user.updatedAt = now
        do {
            guard try await store.updateUser(user) else { throw AdminError.notFound("user") }
        } catch StoreError.conflict {
            throw AdminError.conflict("username \(user.username) is taken in this tenant")
        }
        record(tenantID, .userUpdated, user: id)
        await runtime.invalidate(tenant: tenantID)  // nodes cache users for token claims
        if password != nil {
            record(tenantID, .passwordChanged, user: id)
            try await revokeAllSessions(of: id, in: tenantID, reason: "password_changed")
        }
        return .init(user)
    }

    /// `DELETE /tenants/{t}/users/{id}`: revokes the user's sessions, then deletes the user.
    public func deleteUser(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws {
        _ = try await existingUser(tenantID, id, by: principal)
        try await revokeAllSessions(of: id, in: tenantID, reason: "user_deleted")
        _ = try await store.deleteUser(tenantID: tenantID, id: id)
        await runtime.invalidate(tenant: tenantID)  // nodes cache users for token claims
        record(tenantID, .userDeleted, user: id)
    }

    /// `POST /tenants/{t}/users/{id}/totp`: a new TOTP secret (replacing any earlier one), returned once.
    public func enrollTOTP(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> AdminView.TOTPEnrollment {
        var user = try await existingUser(tenantID, id, by: principal)
        let secret = runtime.random.bytes(20)
        user.sealedTOTPSecret = try runtime.box.seal(secret)
        user.updatedAt = now
        _ = try await store.updateUser(user)
        record(tenantID, .totpEnrolled, user: id)
        let base32 = TOTP.base32(secret)
        let label = "\(tenantID):\(user.username)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? tenantID
        return .init(secret: base32, otpauthUri: "otpauth://totp/\(label)?secret=\(base32)&issuer=\(tenantID)&algorithm=SHA1&digits=6&period=30")
    }

    // MARK: sessions

    public func sessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.SessionView> {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(items: try await store.liveSessions(tenantID: tenantID, userID: id, now: now).map(AdminView.SessionView.init))
    }

    /// `DELETE /tenants/{t}/users/{id}/sessions`: global logout of the user.
    public func revokeSessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(revoked: try await revokeAllSessions(of: id, in: tenantID, reason: "admin_global_logout").map(\.id))
    }

    /// `DELETE /tenants/{t}/sessions/{sid}`.
    public func revokeSession(_ tenantID: String, sid: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await authorize(principal, tenantID)
        guard try await store.session(tenantID: tenantID, id: sid) != nil else { throw AdminError.notFound("session") }
        return .init(revoked: try await runtime.revokeSessions(tenantID: tenantID, ids: [sid], reason: "admin_revoked").map(\.id))
    }

    @discardableResult
    private func revokeAllSessions(of userID: String, in tenantID: String, reason: String) async throws -> [Session] {
        let now = self.now
        let revoked = try await store.revokeUserSessions(tenantID: tenantID, userID: userID, at: now)
        await runtime.afterRevoking(revoked, reason: reason, origin: .init(), now: now)
        return revoked
    }

    // MARK: events

    /// `GET /tenants/{t}/events?type=&after=&limit=`: oldest first; `next` is the `after` of the next page.
    public func events(_ tenantID: String, type: String?, after: String?, limit: String?, by principal: AdminPrincipal) async throws
        -> AdminView.Page<AdminView.EventView>
    {
        _ = try await authorize(principal, tenantID)
        var kind: AuditEvent.Kind?
        if let type, !type.isEmpty {
            guard let value = AuditEvent.Kind(rawValue: type) else { throw AdminError.invalidField("type", "unknown event type") }
            kind = value
        }
        let afterID = try after.map { text -> Int64 in
            guard let value = Int64(text), value >= 0 else { throw AdminError.invalidField("after", "must be a non-negative integer") }
            return value
        } ?? 0
        let count = try limit.map { text -> Int in
            guard let value = Int(text), (1...1000).contains(value) else { throw AdminError.invalidField("limit", "must be from 1 to 1000") }
            return value
        } ?? 100
        let events = try await runtime.audit.events(tenantID: tenantID, kind: kind, after: afterID, limit: count)
        return .init(items: events.map(AdminView.EventView.init), next: events.count == count ? events.last?.id : nil)
    }

    // MARK: validation

    private func existingUser(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> User {
        _ = try await authorize(principal, tenantID)
        guard let user = try await store.user(tenantID: tenantID, id: id) else { throw AdminError.notFound("user") }
        return user
    }

    private func validUsername(_ username: String) throws -> String {
        guard (1...200).contains(username.utf8.count), username.trimmingCharacters(in: .whitespaces) == username,
              !username.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AdminError.invalidField("username", "must be 1 to 200 bytes, printable, without surrounding spaces")
        }
        return username
    }

    private func validPassword(_ password: String) throws -> String {
        guard (8...1024).contains(password.utf8.count) else { throw AdminError.invalidField("password", "must be 8 to 1024 bytes") }
        return password
    }

    private func validEmail(_ email: String) throws -> String {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !email.contains(where: { $0.isWhitespace }) else { throw AdminError.invalidField("email", "is not an email address") }
        return email
    }
}
