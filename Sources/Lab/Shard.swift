// One of N shards of a sorted list of work, so that the tasks of a job array (Slurm's
// `--array=0-(N-1)`, `xargs -P`) split a batch without talking to each other.

import Foundation

/// Shard `index` of `count` (`--shard K/N`): K counts from 0, so K is in 0...N-1, which is
/// what Slurm puts in `SLURM_ARRAY_TASK_ID` for `--array=0-(N-1)` (and
/// `SLURM_ARRAY_TASK_COUNT` is N). Item i of the list, sorted by path (byte order), goes
/// to shard `i % N`: every task sorts the same list the same way, so the N shards cover
/// every item exactly once, each within one item of the same size.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// K, from 0.
    public let index: Int
    /// N, at least 1.
    public let count: Int

    /// The whole list: shard 0 of 1.
    public static let all = Shard(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex: Int, count: Int) {
        index = uncheckedIndex
        self.count = count
    }

    /// Shard `index` of `count`; the error says which value is wrong.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw InferenceError("--shard K/N: N must be at least 1, got \(count)") }
        guard index >= 0, index < count else {
            let hint = index == count ? " (K counts from 0: a Slurm array for N tasks is --array=0-\(count - 1))" : ""
            throw InferenceError("--shard K/N: K must be in 0...\(count - 1) for N = \(count), got \(index)\(hint)")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// `K/N`, for example `0/4`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw InferenceError("--shard takes K/N (for example 0/4, K from 0), got '\(text)'")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The items of this shard: those at positions `index`, `index + N`, ... of `items`
    /// sorted by `key` (byte order of its UTF-8), in that sorted order.
    public func select<T>(_ items: [T], by key: (T) -> String) -> [T] {
        let sorted = items.sorted { key($0).utf8.lexicographicallyPrecedes(key($1).utf8) }
        guard count > 1 else { return sorted }
        return sorted.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}
