import CHiredis
import NIOCore
import NIOPosix
import Synchronization

/// One connection to Redis on one event loop, opened when first needed and again after it closed.
final class RedisChannelConnection: Sendable {
    let loop: any EventLoop
    let settings: RedisSettings
    private let state = Mutex(State.idle)

    private enum State {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case ready(any Channel)
        case closed
    }

    init(loop: any EventLoop, settings: RedisSettings) {
        self.loop = loop
        self.settings = settings
    }

    /// Sends `commands` in one write and returns their replies. A connection that fails and was opened before
    /// this call (it may predate a Redis restart) is replaced and the commands are tried once more.
    func run(_ commands: [[String]]) async throws -> [RedisReply] {
        let (channel, fresh) = try await self.channel()
        do {
            return try await send(commands, on: channel)
        } catch {
            guard !fresh else { throw error }
            let (channel, _) = try await self.channel()
            return try await send(commands, on: channel)
        }
    }

    private func send(_ commands: [[String]], on channel: any Channel) async throws -> [RedisReply] {
        try await Self.request(commands, on: channel).get()
    }

    /// Writes `commands` to the channel's `RedisHandler`; the future has their replies.
    private static func request(_ commands: [[String]], on channel: any Channel) -> EventLoopFuture<[RedisReply]> {
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        // Not flushed here: the handler queues one flush for all the requests of the loop's turn.
        channel.write(RedisRequest(commands: commands, promise: promise)).cascadeFailure(to: promise)
        return promise.futureResult
    }

    private enum Next {
        case open(any Channel)
        case opening(EventLoopFuture<any Channel>)
        case connect(EventLoopPromise<any Channel>)
    }

    /// The open connection, or one being opened (`fresh`).
    private func channel() async throws -> (any Channel, fresh: Bool) {
        let next: Next = try state.withLock { state in
            switch state {
            case .ready(let channel) where channel.isActive:
                return .open(channel)
            case .connecting(let future):
                return .opening(future)
            case .idle, .ready:
                let promise = loop.makePromise(of: (any Channel).self)
                state = .connecting(promise.futureResult)
                return .connect(promise)
            case .closed:
                throw RedisError("redis: the client is closed")
            }
        }
        switch next {
        case .open(let channel): return (channel, false)
        case .opening(let future): return (try await future.get(), true)
        case .connect(let promise):
            connect(completing: promise)
            return (try await promise.futureResult.get(), true)
        }
    }

    /// Opens a connection (AUTH and SELECT as the URL says) and makes it the one in use.
    private func connect(completing promise: EventLoopPromise<any Channel>) {
        let settings = settings
        let address = "\(settings.host):\(settings.port)"
        let timeout = TimeAmount.milliseconds(Int64(settings.timeoutMilliseconds))
        let opened = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisHandler(timeout: timeout, address: address))
                }
            }
            .connect(host: settings.host, port: settings.port)
            .flatMapErrorThrowing { error in throw RedisError("redis \(address): \(error)") }
            .flatMap { channel -> EventLoopFuture<any Channel> in
                let setup = settings.connectionSetup
                guard !setup.isEmpty else { return channel.eventLoop.makeSucceededFuture(channel) }
                return Self.request(setup, on: channel).flatMapThrowing { replies in
                    for case .error(let message) in replies {
                        channel.close(promise: nil)
                        throw RedisError("redis: \(message)")
                    }
                    return channel
                }
            }
        opened.cascade(to: promise)
        promise.futureResult.whenComplete { [self] result in
            state.withLock { state in
                guard case .connecting(let future) = state, future === promise.futureResult else {
                    if case .success(let channel) = result { channel.close(promise: nil) }
                    return
                }
                switch result {
                case .success(let channel): state = .ready(channel)
                case .failure: state = .idle
                }
            }
        }
    }

    func close() {
        let channel: (any Channel)? = state.withLock { state in
            defer { state = .closed }
            switch state {
            case .ready(let channel): return channel
            default: return nil
            }
        }
        channel?.close(promise: nil)
    }
}
