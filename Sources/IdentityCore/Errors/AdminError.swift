import Foundation

/// An error of the admin API; rendered as `{"error": …, "message": …}` with `field` naming the bad field.
public enum AdminError: Error, Sendable, Equatable {
    case invalidBody(String)
    case invalidField(String, String)
    case unauthorized
    case forbidden
    case notFound(String)
    case conflict(String)
    case unavailable

    public var status: Int {
        switch self {
        case .invalidBody, .invalidField: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .unavailable: 503
        }
    }

    public var code: String {
        switch self {
        case .invalidBody, .invalidField: "invalid_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .unavailable: "unavailable"
        }
    }

    /// The bad field, when there is one.
    public var field: String? {
        if case .invalidField(let field, _) = self { return field }
        return nil
    }

    public var message: String {
        switch self {
        case .invalidBody(let message): message
        case .invalidField(let field, let message): "\(field): \(message)"
        case .unauthorized: "missing or unknown admin key"
        case .forbidden: "this key may not manage that resource"
        case .notFound(let what): "\(what) not found"
        case .conflict(let message): message
        case .unavailable: "the store is unavailable"
        }
    }
}
