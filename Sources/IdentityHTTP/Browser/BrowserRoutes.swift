import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore

/// The endpoints a browser visits under `/t/{tenant}`: authorize (`GET` with a query, `POST` with a form),
/// the sign-in pages' forms (`POST /signin`) and RP-initiated logout (`/oauth/end_session`). Thin: parse,
/// call the core, render the outcome as a page, a redirect or an HTML error page, with the cookies.
///
/// Cookies, both on the issuer's path (`/t/{tenant}`, behind the public URL's own path), `HttpOnly`, and
/// `Secure` when the public URL is https:
/// - `identityd_sso` — the browser session (`bs_…` id and secret; only the secret's hash is stored),
///   `SameSite=Lax` so that it comes along on the top-level navigation from the client, until the browser
///   session's expiry.
/// - `identityd_csrf` — 128 random bits, `SameSite=Strict`, for the browser's session; every form carries the
///   same value (in a field, and inside the sealed interaction), and a post whose cookie differs is refused.
struct BrowserRoutes: Sendable {
    let runtime: IdentityRuntime
    let pages: Pages

    static let sessionCookie = "identityd_sso"
    static let csrfCookie = "identityd_csrf"

    func register(on router: Router<IdentityRequestContext>) {
        let browser = router.group("t/:tenant")
            .add(middleware: ErrorRenderingMiddleware<IdentityRequestContext, PageErrorResponse>())
        browser.get("oauth/authorize") { request, context in
            try await self.authorize(try Self.query(request), request, context, redirect: .found)
        }
        browser.post("oauth/authorize") { request, context in
            try await self.authorize(try await FormBody.parameters(of: request), request, context, redirect: .seeOther)
        }
        browser.post("signin") { request, context in try await self.signIn(request, context) }
        browser.get("oauth/end_session") { request, context in
            try await self.endSession(try Self.query(request), confirmed: false, request, context, redirect: .found)
        }
        browser.post("oauth/end_session") { request, context in
            let form = try await FormBody.parameters(of: request)
            return try await self.endSession(form, confirmed: form["confirm"] != nil, request, context, redirect: .seeOther)
        }
    }

    // MARK: handlers

    private func authorize(_ parameters: [String: String], _ request: Request, _ context: IdentityRequestContext,
                           redirect: HTTPResponse.Status) async throws -> Response {
        let tenantID = Self.tenantID(context)
        let outcome = try await runtime.authorize.start(tenantID: tenantID, parameters: parameters, browser: browser(request, context))
        return respond(outcome, tenantID: tenantID, redirect: redirect)
    }

    private func signIn(_ request: Request, _ context: IdentityRequestContext) async throws -> Response {
        let tenantID = Self.tenantID(context)
        let form = try await FormBody.parameters(of: request)
        var browser = browser(request, context)
        // The form's copy of the CSRF value must be the cookie's too (the sealed interaction holds a third).
        if form["csrf"] != browser.csrfCookie { browser.csrfCookie = nil }
        let outcome = try await runtime.authorize.submit(tenantID: tenantID, form: form, browser: browser)
        return respond(outcome, tenantID: tenantID, redirect: .seeOther)
    }

    private func endSession(_ parameters: [String: String], confirmed: Bool, _ request: Request, _ context: IdentityRequestContext,
                            redirect: HTTPResponse.Status) async throws -> Response {
        let tenantID = Self.tenantID(context)
        let cookies = CookieScope(issuer: runtime.directory.issuer(of: tenantID))
        switch try await runtime.endSession.endSession(tenantID: tenantID, parameters: parameters, confirmed: confirmed,
                                                       browser: browser(request, context)) {
        case .redirect(let location):
            var response = pages.redirect(to: location, status: redirect)
            response.headers[values: .setCookie].append(cookies.expired(Self.sessionCookie))
            return response
        case .signedOut(let tenantName):
            var response = pages.render(.signedOut, ["title": "Signed out", "tenant": tenantName])
            response.headers[values: .setCookie].append(cookies.expired(Self.sessionCookie))
            return response
        case .confirm(let tenantName, let fields, let csrf):
            let hidden = fields.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }
            var response = pages.render(.logout, ["title": "Sign out", "tenant": tenantName, "fields": hidden,
                                                  "action": cookies.path + "/oauth/end_session"],
                                        formTargets: fields["post_logout_redirect_uri"].map { [$0] } ?? [])
            response.headers[values: .setCookie].append(cookies.csrf(Self.csrfCookie, csrf))
            return response
        case .errorPage(let status, let message):
            return pages.error(message, status: .init(code: status))
        }
    }

    // MARK: rendering

    private func respond(_ outcome: AuthorizeEndpoint.Outcome, tenantID: String, redirect: HTTPResponse.Status) -> Response {
        let cookies = CookieScope(issuer: runtime.directory.issuer(of: tenantID))
        switch outcome {
        case .page(let page):
            var values: [String: Any] = ["tenant": page.tenantName, "client": page.clientName, "interaction": page.interaction,
                                         "csrf": page.csrf, "action": cookies.path + "/signin"]
            if let error = page.error { values["error"] = error }
            let template: Pages.Template
            switch page.kind {
            case .login(let username):
                template = .login
                values["title"] = "Sign in"
                if let username, !username.isEmpty { values["username"] = username }
            case .otp:
                template = .otp
                values["title"] = "Two-step verification"
            case .consent(let scopes):
                template = .consent
                values["title"] = "Allow access?"
                values["scopes"] = scopes.map { ["scope": $0.scope, "words": $0.words] }
            }
            var response = pages.render(template, values, status: .init(code: page.status), formTargets: [page.redirectURI])
            response.headers[values: .setCookie].append(cookies.csrf(Self.csrfCookie, page.csrf))
            return response
        case .redirect(let location, let browserCookie):
            var response = pages.redirect(to: location, status: redirect)
            if let browserCookie {
                let maxAge = max(0, Int(browserCookie.expiresAt.timeIntervalSince(runtime.clock.now())))
                response.headers[values: .setCookie].append(cookies.session(Self.sessionCookie, browserCookie.value, maxAge: maxAge))
            }
            return response
        case .errorPage(let status, let message):
            return pages.error(message, status: .init(code: status))
        }
    }

    // MARK: parsing

    private static func tenantID(_ context: IdentityRequestContext) -> String { context.parameters.get("tenant") ?? "" }

    private func browser(_ request: Request, _ context: IdentityRequestContext) -> AuthorizeEndpoint.Browser {
        let cookies = request.cookies
        return AuthorizeEndpoint.Browser(sessionCookie: cookies[Self.sessionCookie]?.value, csrfCookie: cookies[Self.csrfCookie]?.value,
                                         origin: context.origin)
    }

    /// The query string, as strictly as a form body (each parameter once, no control characters).
    static func query(_ request: Request) throws -> [String: String] {
        guard let query = request.uri.query, !query.isEmpty else { return [:] }
        guard query.utf8.count <= FormBody.limit else { throw BodyTooLarge() }
        return try FormBody.parse(Array(query.utf8))
    }
}

/// The `Set-Cookie` values of one tenant: its issuer's path, `Secure` on https.
struct CookieScope {
    /// The issuer's path (`/t/acme`, or `/identity/t/acme` behind a public URL with a path).
    let path: String
    let secure: Bool

    init(issuer: String) {
        path = URLComponents(string: issuer)?.path ?? ""
        secure = issuer.lowercased().hasPrefix("https://")
    }

    func session(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    func csrf(_ name: String, _ value: String) -> String {
        "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    func expired(_ name: String) -> String {
        "\(name)=; Path=\(path); Max-Age=0; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }
}
