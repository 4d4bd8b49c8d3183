import Foundation

extension Administration {
    /// `POST /tenants/{t}/clients`: a confidential client gets a secret, shown in this response only and
    /// stored hashed. `presetSecret` (declarative tenant files only) fixes the secret instead of generating one.
    public func createClient(_ tenantID: String, _ input: AdminInput.NewClient, presetSecret: String? = nil, by principal: AdminPrincipal)
        async throws -> AdminView.ClientView
    {
        _ = try await authorize(principal, tenantID)
        let id = input.clientID ?? runtime.random.identifier(prefix: "cl")
        guard Client.isValidID(id) else { throw AdminError.invalidField("client_id", "must be 1 to 100 visible ASCII characters without ':'") }
        let name = try validName(input.name, field: "name")
        guard let kind = Client.Kind(rawValue: input.type) else { throw AdminError.invalidField("type", "must be confidential or public") }
        let now = self.now
        var client = Client(tenantID: tenantID, id: id, name: name, kind: kind, secretHash: nil, grantTypes: [], redirectURIs: [],
                            scopes: [], createdAt: now, updatedAt: now)
        guard input.grantTypes != nil else { throw AdminError.invalidField("grant_types", "is required") }
        client.requireConsent = input.requireConsent ?? false
        try apply(grantTypes: input.grantTypes, redirectURIs: input.redirectURIs, postLogoutRedirectURIs: input.postLogoutRedirectURIs,
                  scopes: input.scopes, to: &client)
        var secret: String?
        if kind == .confidential {
            if let presetSecret, presetSecret.utf8.count < 16 { throw AdminError.invalidField("secret", "must be at least 16 bytes") }
            let value = presetSecret ?? "cs_" + runtime.random.token(bytes: 32)
            client.secretHash = try await runtime.hasher.hash(value, tenant: tenantID)
            secret = value
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
        .init(try await existingClient(tenantID, id, by: principal))
    }

    /// `PATCH /tenants/{t}/clients/{id}`: name, grant types, redirect URIs, scopes; `rotate_secret: true`
    /// issues a new secret (shown once) and ends the old one at once.
    public func updateClient(_ tenantID: String, _ id: String, _ input: AdminInput.ClientUpdate, by principal: AdminPrincipal) async throws
        -> AdminView.ClientView
    {
        var client = try await existingClient(tenantID, id, by: principal)
        if let name = input.name { client.name = try validName(name, field: "name") }
        if let requireConsent = input.requireConsent { client.requireConsent = requireConsent }
        try apply(grantTypes: input.grantTypes, redirectURIs: input.redirectURIs, postLogoutRedirectURIs: input.postLogoutRedirectURIs,
                  scopes: input.scopes, to: &client)
        var secret: String?
        if input.rotateSecret == true {
            guard client.kind == .confidential else { throw AdminError.invalidField("rotate_secret", "a public client has no secret") }
            let value = "cs_" + runtime.random.token(bytes: 32)
            client.secretHash = try await runtime.hasher.hash(value, tenant: tenantID)
            client.secretRotatedAt = now
            secret = value
        }
        client.updatedAt = now
        guard try await store.updateClient(client) else { throw AdminError.notFound("client") }
        await runtime.invalidate(tenant: tenantID)  // nodes cache clients
        record(tenantID, .clientUpdated, client: id, detail: secret == nil ? nil : "secret_rotated")
        return .init(client, secret: secret)
    }

    /// `DELETE /tenants/{t}/clients/{id}`: revokes the client's sessions, then deletes it.
    public func deleteClient(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws {
        _ = try await existingClient(tenantID, id, by: principal)
        try await runtime.revoker.revoke(.client(id), tenantID: tenantID, reason: "client_deleted")
        _ = try await store.deleteClient(tenantID: tenantID, id: id)
        await runtime.invalidate(tenant: tenantID)  // nodes cache clients
        record(tenantID, .clientDeleted, client: id)
    }

    private func existingClient(_ tenantID: String, _ id: String, by principal: AdminPrincipal) async throws -> Client {
        _ = try await authorize(principal, tenantID)
        guard let client = try await store.client(tenantID: tenantID, id: id) else { throw AdminError.notFound("client") }
        return client
    }

    private func apply(grantTypes: [String]?, redirectURIs: [String]?, postLogoutRedirectURIs: [String]?, scopes: [String]?,
                       to client: inout Client) throws {
        if let grantTypes {
            client.grantTypes = try grantTypes.map {
                guard let grant = GrantType(rawValue: $0) else {
                    throw AdminError.invalidField("grant_types", "unknown grant type (password, client_credentials, refresh_token, authorization_code)")
                }
                return grant
            }
        }
        if let redirectURIs {
            try Self.validateRedirects(redirectURIs, field: "redirect_uris")
            client.redirectURIs = redirectURIs
        }
        if let postLogoutRedirectURIs {
            try Self.validateRedirects(postLogoutRedirectURIs, field: "post_logout_redirect_uris")
            client.postLogoutRedirectURIs = postLogoutRedirectURIs
        }
        if let scopes {
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

    /// Redirect URIs are absolute, without a fragment or control characters, at most 2 KiB, and never a
    /// scheme that runs or reads something in the browser itself (`javascript:`, `data:`, `file:`). https,
    /// http (for development and loopback) and private schemes of native apps (RFC 8252) are taken.
    static func validateRedirects(_ uris: [String], field: String) throws {
        guard uris.count <= 32 else { throw AdminError.invalidField(field, "at most 32") }
        for uri in uris {
            guard uri.utf8.count <= 2048, !uri.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }), let url = URL(string: uri),
                  let scheme = url.scheme?.lowercased(), url.fragment == nil else {
                throw AdminError.invalidField(field, "must be absolute URIs without a fragment")
            }
            if ["javascript", "data", "file", "vbscript", "blob"].contains(scheme) { throw AdminError.invalidField(field, "\(scheme): is not a redirect") }
        }
    }
}
