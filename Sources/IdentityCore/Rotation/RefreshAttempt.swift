import Foundation

/// One refresh request as a state machine, in postgres-nio's shape: each I/O outcome goes in as an event
/// (`found`, `wrote`), an `Action` comes out for the grant to execute, and nothing here reads a store or a
/// clock. It owns every rule of a request beyond the first decision:
///
/// - a token this node remembers (`RefreshSuccessorCache`) is decided on from memory, but anything other
///   than issuing is decided again on what the store says;
/// - a lost compare-and-set (`tokenChanged`: another request won) reads the store and decides again, which
///   turns the loser into a grace retry or, past the window, a reuse;
/// - a session that was not live at the write is a refusal, unless the decision came from memory;
/// - at most `maxWrites` compare-and-sets: past that the request is refused as `contention`.
public struct RefreshAttempt: Sendable {
    /// Where a token record came from.
    public enum Source: Sendable, Equatable {
        /// This node's memory of the successors it issued.
        case memory
        /// The store.
        case store
    }

    /// What the grant must do next.
    public enum Action: Sendable, Equatable {
        /// Look the token up in the store, then call `found(_:from: .store, now:)`.
        case readStore
        /// Apply the issue's compare-and-set, then call `wrote(_:)`.
        case write(RefreshRotation.Issue)
        /// The store applied the write: mint the tokens and answer.
        case succeed(RefreshRotation.Issue)
        /// Reuse: revoke the session's whole family, record it, refuse.
        case revokeFamily(Session)
        /// Refuse with `invalid_grant`; `reason` goes to the audit log.
        case reject(reason: String, session: Session?)
    }

    private enum State: Sendable {
        case idle
        case reading
        case writing(RefreshRotation.Issue, from: Source)
        case done
    }

    public let tenantID: String
    public let clientID: String
    public let policy: TenantPolicy
    public let maxWrites: Int
    private var state = State.idle
    private var writes = 0

    public init(tenantID: String, clientID: String, policy: TenantPolicy, maxWrites: Int = 4) {
        self.tenantID = tenantID
        self.clientID = clientID
        self.policy = policy
        self.maxWrites = maxWrites
    }

    /// The first step: decide from what this node remembers of the token, or read the store.
    public mutating func start(remembered: (RefreshTokenRecord, Session)?, now: Date) -> Action {
        guard case .idle = state else { preconditionFailure("RefreshAttempt started twice") }
        guard let remembered else {
            state = .reading
            return .readStore
        }
        return found(remembered, from: .memory, now: now)
    }

    /// What a read found (nil: no such token).
    public mutating func found(_ record: (RefreshTokenRecord, Session)?, from source: Source, now: Date) -> Action {
        guard let (token, session) = record else { return finish(.reject(reason: "unknown_token", session: nil)) }
        let input = RefreshRotation.Input(tenantID: tenantID, token: token, session: session, clientID: clientID, policy: policy, now: now)
        switch RefreshRotation.decide(input) {
        case .reject where source == .memory, .revokeFamily where source == .memory:
            // Memory only ever shortcuts the read of an issue: a refusal is decided on what the store says.
            state = .reading
            return .readStore
        case .reject(let rejection):
            return finish(.reject(reason: rejection.rawValue, session: session))
        case .revokeFamily:
            return finish(.revokeFamily(session))
        case .issue(let issue):
            guard writes < maxWrites else { return finish(.reject(reason: "contention", session: session)) }
            writes += 1
            state = .writing(issue, from: source)
            return .write(issue)
        }
    }

    /// What became of the compare-and-set that the last `.write` asked for.
    public mutating func wrote(_ result: RefreshWriteResult) -> Action {
        guard case .writing(let issue, let source) = state else { preconditionFailure("RefreshAttempt: no write under way") }
        switch result {
        case .applied:
            return finish(.succeed(issue))
        case .tokenChanged:
            state = .reading
            return .readStore
        case .sessionNotLive where source == .memory:
            state = .reading
            return .readStore
        case .sessionNotLive:
            return finish(.reject(reason: "session_not_live", session: issue.session))
        }
    }

    private mutating func finish(_ action: Action) -> Action {
        state = .done
        return action
    }
}
