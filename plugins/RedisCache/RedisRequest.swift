import CHiredis
import NIOCore
import NIOPosix
import Synchronization

/// Commands for one round trip and the promise of their replies, written to a `RedisHandler`.
struct RedisRequest: Sendable {
    let commands: [[String]]
    let promise: EventLoopPromise<[RedisReply]>
}
