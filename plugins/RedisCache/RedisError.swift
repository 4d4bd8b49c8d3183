import CHiredis
import Foundation
import Logging
import NIOPosix
import Synchronization

public struct RedisError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
