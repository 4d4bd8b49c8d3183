import CHiredis
import Foundation

/// A command's arguments as the C argv and lengths hiredis takes (binary-safe): each argument's UTF-8 bytes
/// copied whole, embedded NULs included, with its exact length. (`strdup` stopped at the first NUL while
/// the length said otherwise, and hiredis read past the copy: heap bytes into Redis, or a crash.)
enum RedisArguments {
    static func with<R>(_ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let copies = arguments.map { argument -> UnsafeMutableBufferPointer<CChar> in
            let bytes = Array(argument.utf8)
            let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(copy).copyMemory(from: source)
            }
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers = copies.map { UnsafePointer($0.baseAddress) }
        let lengths = arguments.map { $0.utf8.count }
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
        }
    }
}
