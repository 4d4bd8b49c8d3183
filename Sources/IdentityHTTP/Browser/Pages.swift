import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Mustache

/// The sign-in pages: swift-mustache templates compiled into the binary (`Resources/pages`), each rendered
/// inside `layout` with the stylesheet inline, and answered with the headers every page carries:
///
/// - `Content-Security-Policy`: nothing may load but the inline stylesheet (by its hash); forms may post to
///   this origin and to where the sign-in ends (browsers apply `form-action` to a form's redirects too);
///   no framing (`frame-ancestors 'none'`), no `<base>`.
/// - `X-Frame-Options: DENY` for browsers without CSP 2, `Referrer-Policy: no-referrer` (the page's URL holds
///   the authorize request), `Cache-Control: no-store` (a page holds a sealed sign-in), `nosniff`.
struct Pages: Sendable {
    enum Template: String, CaseIterable, Sendable {
        case login, otp, consent, error, logout, signedOut = "signed-out"
    }

    private let library: MustacheLibrary
    private let css: String
    /// `'sha256-…'` of the stylesheet, for `style-src`.
    private let styleSource: String

    /// The templates as compiled into the binary.
    static let standard: Pages = {
        do {
            return try Pages(templates: [
                "layout": PackageResources.layout_mustache, "login": PackageResources.login_mustache, "otp": PackageResources.otp_mustache,
                "consent": PackageResources.consent_mustache, "error": PackageResources.error_mustache,
                "logout": PackageResources.logout_mustache, "signed-out": PackageResources.signed_out_mustache,
            ], css: PackageResources.identityd_css)
        } catch {
            preconditionFailure("the page templates compiled into identityd do not parse: \(error)")
        }
    }()

    init(templates: [String: [UInt8]], css: [UInt8]) throws {
        var library = MustacheLibrary()
        for (name, bytes) in templates { try library.register(String(decoding: bytes, as: UTF8.self), named: name) }
        self.library = library
        // Trailing whitespace is cut, so the hash is of exactly what the page holds.
        self.css = String(decoding: css, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        styleSource = "'sha256-" + Data(SHA256.hash(data: Array(self.css.utf8))).base64EncodedString() + "'"
    }

    /// The page `template` with `values` (and `title`, `tenant`, optionally `client` and `error`), with the
    /// security headers; `formTargets`: the URLs the page's forms may end up at besides this origin.
    func render(_ template: Template, _ values: [String: Any], status: HTTPResponse.Status = .ok, formTargets: [String] = []) -> Response {
        var values = values
        values["css"] = css
        let html = library.render(values, withTemplate: template.rawValue) ?? ""
        var response = Response(status: status, headers: headers(formTargets: formTargets),
                                body: .init(byteBuffer: ByteBuffer(string: html)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        return response
    }

    /// The error page: `message` is shown as it is (it must be safe to show).
    func error(_ message: String, status: HTTPResponse.Status, tenant: String? = nil) -> Response {
        render(.error, ["title": "Something went wrong", "tenant": tenant ?? "Sign-in", "message": message], status: status)
    }

    /// A redirect out of the sign-in, with the same caching and referrer rules as the pages (the location
    /// holds a code or an error).
    func redirect(to location: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.location: location, .cacheControl: "no-store", .pragma: "no-cache", .referrerPolicy: "no-referrer"])
    }

    func headers(formTargets: [String]) -> HTTPFields {
        let targets = formTargets.compactMap(Self.source).joined(separator: " ")
        let policy = "default-src 'none'; style-src \(styleSource); img-src 'self'; form-action 'self'\(targets.isEmpty ? "" : " " + targets); "
            + "frame-ancestors 'none'; base-uri 'none'"
        return [
            .contentSecurityPolicy: policy, .xFrameOptions: "DENY", .referrerPolicy: "no-referrer", .cacheControl: "no-store",
            .pragma: "no-cache", .xContentTypeOptions: "nosniff",
        ]
    }

    /// A CSP source for a URL: its origin for http(s), its scheme (`com.example.app:`) for an app's URL;
    /// nil when it has neither in a form fit for a header.
    static func source(_ uri: String) -> String? {
        if let origin = TenantDirectory.origin(uri) {
            return origin.utf8.allSatisfy({ $0.isASCIIAlphanumeric || [0x2E, 0x2D, 0x3A, 0x2F, 0x5B, 0x5D].contains($0) }) ? origin : nil
        }
        guard let colon = uri.firstIndex(of: ":") else { return nil }
        let scheme = uri[..<colon].lowercased()
        guard let first = scheme.utf8.first, (0x61...0x7A).contains(first),
              scheme.utf8.allSatisfy({ $0.isASCIIAlphanumeric || [0x2B, 0x2D, 0x2E].contains($0) }) else { return nil }
        return scheme + ":"
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
