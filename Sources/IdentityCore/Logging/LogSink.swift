import Logging

/// The core's structured log: swift-log with string metadata. Callers pass ids and reasons, never a token,
/// secret or password.
public struct LogSink: Sendable {
    public var logger: Logger
    public init(_ logger: Logger) { self.logger = logger }

    public func info(_ message: String, _ metadata: [String: String] = [:]) { log(.info, message, metadata) }
    public func warning(_ message: String, _ metadata: [String: String] = [:]) { log(.warning, message, metadata) }
    public func error(_ message: String, _ metadata: [String: String] = [:]) { log(.error, message, metadata) }
    public func debug(_ message: String, _ metadata: [String: String] = [:]) { log(.debug, message, metadata) }

    private func log(_ level: Logger.Level, _ message: String, _ metadata: [String: String]) {
        logger.log(level: level, "\(message)", metadata: metadata.mapValues { .string($0) })
    }
}
