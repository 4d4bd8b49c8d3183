import Foundation

/// RFC 8707 `resource`: the audience an access token is issued for.
public enum ResourceIndicator {
    /// The audience for `resource`: the URI asked for, or the tenant's default (its issuer) when none was;
    /// `invalid_request` when it is not an absolute URI without a fragment.
    public static func audience(_ resource: String?, issuer: String) throws -> String {
        guard let resource else { return issuer }
        guard resource.utf8.count <= 2048, let url = URL(string: resource), url.scheme != nil, url.host != nil, url.fragment == nil else {
            throw OAuthError.invalidRequest(description: "resource must be an absolute URI without a fragment")
        }
        return resource
    }
}
