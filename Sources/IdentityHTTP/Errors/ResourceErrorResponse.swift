import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// An error of a protected resource (userinfo), RFC 6750 §3 and RFC 9449 §7.1: as the OAuth JSON, but a
/// refused DPoP proof is 401 with `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (or `use_dpop_nonce`
/// with `DPoP-Nonce`), and every 401 names both schemes this resource takes.
struct ResourceErrorResponse: RenderedError {
    let inner: OAuthErrorResponse

    init(_ error: any Error, logger: Logger) { inner = OAuthErrorResponse(error, logger: logger) }

    var status: HTTPResponse.Status {
        switch inner.error {
        case .invalidDPoPProof?, .useDPoPNonce?: .unauthorized
        default: inner.status
        }
    }

    var response: Response {
        var response = inner.response
        let dpop = "DPoP algs=\"\(OAuthErrorResponse.dpopAlgorithms)\""
        switch inner.error {
        case .invalidDPoPProof?:
            response.status = status
            response.headers[values: .wwwAuthenticate] = ["DPoP error=\"invalid_dpop_proof\", algs=\"\(OAuthErrorResponse.dpopAlgorithms)\""]
        case .useDPoPNonce?:
            response.status = status
            response.headers[values: .wwwAuthenticate] = ["DPoP error=\"use_dpop_nonce\", algs=\"\(OAuthErrorResponse.dpopAlgorithms)\""]
        case .invalidToken?:
            response.headers[values: .wwwAuthenticate].append(dpop)
        default:
            break
        }
        return response
    }
}
