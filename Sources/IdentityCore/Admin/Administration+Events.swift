import Foundation

extension Administration {
    /// `GET /tenants/{t}/events?type=&after=&limit=`: oldest first; `next` is the `after` of the next page.
    public func events(_ tenantID: String, _ query: AdminInput.EventQuery, by principal: AdminPrincipal) async throws
        -> AdminView.Page<AdminView.EventView>
    {
        _ = try await authorize(principal, tenantID)
        guard query.after >= 0 else { throw AdminError.invalidField("after", "must be a non-negative integer") }
        guard (1...1000).contains(query.limit) else { throw AdminError.invalidField("limit", "must be from 1 to 1000") }
        let events = try await runtime.audit.events(tenantID: tenantID, kind: query.kind, after: query.after, limit: query.limit)
        return .init(items: events.map(AdminView.EventView.init), next: events.count == query.limit ? events.last?.id : nil)
    }
}
