import Foundation

extension Administration {
    public func createUser(_ tenantID: String, _ input: AdminInput.NewUser, by principal: AdminPrincipal) async throws -> AdminView.UserView {
        _ = try await authorize(principal, tenantID)
        let username = try validUsername(input.username)
        let password = try validPassword(input.password)
        let email = try input.email.map(validEmail)
        let now = self.now
        let user = User(tenantID: tenantID, id: runtime.random.identifier(prefix: "usr"), username: username, email: email,
                        passwordHash: try await runtime.hasher.hash(password, tenant: tenantID), sealedTOTPSecret: nil, createdAt: now, updatedAt: now)
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
    public func updateUser(_ tenantID: String, _ id: String, _ input: AdminInput.UserUpdate, by principal: AdminPrincipal) async throws
        -> AdminView.UserView
    {
        var user = try await existingUser(tenantID, id, by: principal)
        if let username = input.username { user.username = try validUsername(username) }
        if let email = input.email { user.email = try email.map(validEmail) }
        let password = try input.password.map(validPassword)
        if let password { user.passwordHash = try await runtime.hasher.hash(password, tenant: tenantID) }
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
            try await endBrowserSessions(tenantID, user: id, reason: "password_changed")
            try await runtime.revoker.revoke(.user(id), tenantID: tenantID, reason: "password_changed")
        }
        return .init(user)
    }

    /// `DELETE /tenants/{t}/users/{id}`: revokes the user's sessions and browser sessions, forgets the user's
    /// consents, then deletes the user.
    public func deleteUser(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws {
        _ = try await existingUser(tenantID, id, by: principal)
        try await endBrowserSessions(tenantID, user: id, reason: "user_deleted")
        _ = try await store.revokeConsents(tenantID: tenantID, userID: id, clientID: nil)
        try await runtime.revoker.revoke(.user(id), tenantID: tenantID, reason: "user_deleted")
        _ = try await store.deleteUser(tenantID: tenantID, id: id)
        await runtime.invalidate(tenant: tenantID)  // nodes cache users for token claims
        record(tenantID, .userDeleted, user: id)
    }

    /// `POST /tenants/{t}/users/{id}/totp`: a new TOTP secret (replacing any earlier one), returned once.
    public func enrollTOTP(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> AdminView.TOTPEnrollment {
        var user = try await existingUser(tenantID, id, by: principal)
        let secret = runtime.random.bytes(20)
        user.sealedTOTPSecret = try runtime.box.seal(secret, context: SealContext.totp(tenantID: tenantID, userID: id))
        user.updatedAt = now
        _ = try await store.updateUser(user)
        record(tenantID, .totpEnrolled, user: id)
        let base32 = TOTP.base32(secret)
        let label = "\(tenantID):\(user.username)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? tenantID
        return .init(secret: base32, otpauthUri: "otpauth://totp/\(label)?secret=\(base32)&issuer=\(tenantID)&algorithm=SHA1&digits=6&period=30")
    }

    func existingUser(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> User {
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
              !email.contains(where: { $0.isWhitespace }), !email.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw AdminError.invalidField("email", "is not an email address")
        }
        return email
    }
}
