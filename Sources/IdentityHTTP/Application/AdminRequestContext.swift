import Hummingbird
import IdentityCore

/// The context of the authenticated admin routes: the parent's, plus who is calling (set by
/// `AdminAuthenticationMiddleware` before any handler runs).
public struct AdminRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var origin: RequestOrigin
    /// The caller; nil only before authentication.
    public var principal: AdminPrincipal?

    public init(context: IdentityRequestContext) throws {
        coreContext = context.coreContext
        origin = context.origin
    }

    public var maxUploadSize: Int { 1 << 20 }

    /// The authenticated caller.
    var caller: AdminPrincipal {
        get throws {
            guard let principal else { throw AdminError.unauthorized }
            return principal
        }
    }
}
