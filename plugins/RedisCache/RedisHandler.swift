import CHiredis
import NIOCore
import NIOPosix
import Synchronization

/// Redis's protocol on a NIO channel, with hiredis doing the protocol: its formatter writes the commands, its
/// reader parses the replies. Requests may follow each other before the first is answered (Redis answers in
/// order), so the requests of every task on the loop share one connection without waiting for each other.
/// Requests are written at once but flushed by one task queued on the loop behind them, so the requests that
/// the loop's tasks make in one turn leave in one system call, and Redis reads and answers them together.
/// A request unanswered after `timeout` fails every request in flight and closes the connection.
final class RedisHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct InFlight {
        let expected: Int
        var replies: [RedisReply]
        let promise: EventLoopPromise<[RedisReply]>
        let deadline: NIODeadline
    }

    private let reader: UnsafeMutablePointer<redisReader>
    private var inFlight = CircularBuffer<InFlight>()
    private var timer: Scheduled<Void>?
    /// Whether a flush is queued on the loop for the requests written since the last one.
    private var flushQueued = false
    private let timeout: TimeAmount
    private let address: String

    init(timeout: TimeAmount, address: String) {
        reader = redisReaderCreate()
        self.timeout = timeout
        self.address = address
    }

    deinit { redisReaderFree(reader) }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if request.commands.isEmpty {
            request.promise.succeed([])
            promise?.succeed(())
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands {
            var formatted: UnsafeMutablePointer<CChar>?
            let length = RedisArguments.with(command) { count, argv, lengths in redisFormatCommandArgv(&formatted, count, argv, lengths) }
            guard length > 0, let formatted else {
                request.promise.fail(RedisError("redis: cannot format \(command.first ?? "a command")"))
                promise?.fail(RedisError("redis: cannot format a command"))
                return
            }
            buffer.writeBytes(UnsafeRawBufferPointer(start: formatted, count: Int(length)))
            redisFreeCommand(formatted)
        }
        inFlight.append(InFlight(expected: request.commands.count, replies: [], promise: request.promise, deadline: .now() + timeout))
        if timer == nil { arm(context: context, at: inFlight.first!.deadline) }
        context.write(wrapOutboundOut(buffer), promise: promise)
        if !flushQueued {
            flushQueued = true
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.flushQueued = false
                context.flush()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let fed = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard fed == REDIS_OK else { return fail(context: context, RedisError("redis \(address): unreadable reply")) }
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                return fail(context: context, RedisError("redis \(address): protocol error"))
            }
            guard let raw else { return }
            let reply = RedisReply(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            guard !inFlight.isEmpty else { return fail(context: context, RedisError("redis \(address): a reply nobody asked for")) }
            inFlight[inFlight.startIndex].replies.append(reply)
            if inFlight.first!.replies.count == inFlight.first!.expected {
                let done = inFlight.removeFirst()
                done.promise.succeed(done.replies)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError("redis \(address): connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, RedisError("redis \(address): \(error)"))
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        timer?.cancel()
        timer = nil
        while let request = inFlight.popFirst() { request.promise.fail(error) }
    }

    /// One timer per connection, set for the oldest request's deadline.
    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard let oldest = handler.inFlight.first else { return }
            if oldest.deadline <= .now() {
                handler.fail(context: context, RedisError("redis \(handler.address): no reply within \(handler.timeout.nanoseconds / 1_000_000) ms"))
            } else {
                handler.arm(context: context, at: oldest.deadline)
            }
        }
    }
}
