import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// `identityd_http_requests_total{route, method, status}` and `identityd_http_request_duration_seconds{route,
/// method}` for every request, the route as its pattern (`/t/{tenant}/oauth/token`, never the tenant or an
/// id; Hummingbird names a path no route has `NotFound`). Outermost, so that it sees the status the client gets, after
/// the error renderers (as Hummingbird's `MetricsMiddleware`, with identityd's names).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private final class Cache: Sendable {
        let counters = Mutex<[String: Counter]>([:])
        let timers = Mutex<[String: Metrics.Timer]>([:])
    }

    private static var methods: Set<String> { ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] }
    private let cache = Cache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            // Until the response is ready (the bodies are small and written at once).
            let response = try await next(request, context)
            record(route: context.endpointPath, method: request.method, status: response.status, since: start)
            return response
        } catch {
            record(route: context.endpointPath, method: request.method, status: (error as? any HTTPResponseError)?.status ?? .internalServerError,
                   since: start)
            throw error
        }
    }

    private func record(route: String?, method: HTTPRequest.Method, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let route = route ?? "unmatched"
        // Any token is a method to HTTP: only the known ones are label values.
        let method = Self.methods.contains(method.rawValue) ? method.rawValue : "other"
        let key = "\(method) \(route)"
        let counterKey = "\(key) \(status.code)"
        let counter = cache.counters.withLock { counters in
            if let counter = counters[counterKey] { return counter }
            let counter = Counter(label: "identityd_http_requests_total", dimensions: [("method", method), ("route", route), ("status", "\(status.code)")])
            counters[counterKey] = counter
            return counter
        }
        counter.increment()
        let timer = cache.timers.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = Metrics.Timer(label: "identityd_http_request_duration_seconds", dimensions: [("method", method), ("route", route)],
                                      preferredDisplayUnit: .seconds)
            timers[key] = timer
            return timer
        }
        timer.record(duration: ContinuousClock.now - start)
    }
}
