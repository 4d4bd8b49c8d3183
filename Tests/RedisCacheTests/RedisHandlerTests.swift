import NIOCore
import NIOEmbedded
@testable import RedisCache
import Testing

/// The Redis handler's writes, on an embedded channel (no server): what it sends and when.
@Suite struct RedisHandlerTests {
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RedisHandler(timeout: .seconds(5), address: "test"))
        return channel
    }

    private func request(_ commands: [[String]], on channel: EmbeddedChannel) -> EventLoopFuture<[RedisReply]> {
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        channel.write(RedisRequest(commands: commands, promise: promise), promise: nil)
        return promise.futureResult
    }

    @Test func requestsWrittenInOneTurnOfTheLoopLeaveTogetherAfterIt() throws {
        let channel = try channel()
        let first = request([["GET", "a"]], on: channel)
        let second = request([["EXISTS", "b", "c"], ["PING"]], on: channel)
        // Nothing has left yet: the flush is queued on the loop behind the turn's writes.
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        (channel.eventLoop as! EmbeddedEventLoop).run()
        var sent = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { sent.writeBuffer(&part) }
        #expect(String(buffer: sent) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$6\r\nEXISTS\r\n$1\r\nb\r\n$1\r\nc\r\n*1\r\n$4\r\nPING\r\n")

        // The replies, in one read, reach their own requests.
        try channel.writeInbound(ByteBuffer(string: "$1\r\nx\r\n:1\r\n+PONG\r\n"))
        #expect(try first.wait() == [.string("x")])
        #expect(try second.wait() == [.integer(1), .string("PONG")])
        _ = try channel.finish()
    }

    @Test func aLoneRequestLeavesWithoutAnyoneFlushing() throws {
        let channel = try channel()
        let reply = request([["PING"]], on: channel)
        (channel.eventLoop as! EmbeddedEventLoop).run()
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "*1\r\n$4\r\nPING\r\n")
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(try reply.wait() == [.string("PONG")])
        _ = try channel.finish()
    }
}
