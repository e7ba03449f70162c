import Foundation

/// A value behind a lock, for state shared between threads.
public final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    public var current: Value { withLock { $0 } }
}

/// Receives snapshots of a training run. Each observer is called on its own serial queue,
/// one snapshot at a time; while it is busy, newer snapshots replace older undelivered
/// ones, so a slow observer skips intermediate snapshots but always gets the latest, and
/// the training queue never waits for it.
public protocol TrainingObserver: AnyObject, Sendable {
    func didPublish(_ snapshot: TrainingSnapshot)
}

/// The thread-safe set of observers and their coalescing mailboxes.
public final class ObserverRegistry: Sendable {
    final class Slot: @unchecked Sendable {
        let observer: any TrainingObserver
        let queue: DispatchQueue
        let mailbox = LockedBox<(pending: TrainingSnapshot?, scheduled: Bool, removed: Bool)>((nil, false, false))
        init(_ observer: any TrainingObserver, queue: DispatchQueue) { self.observer = observer; self.queue = queue }
    }

    private let slots = LockedBox<[ObjectIdentifier: Slot]>([:])

    public init() {}

    /// Adds an observer (from any thread); `queue` defaults to a new serial queue.
    public func add(_ observer: any TrainingObserver, queue: DispatchQueue? = nil) {
        let slot = Slot(observer, queue: queue ?? DispatchQueue(label: "aggan.observer"))
        slots.withLock { $0[ObjectIdentifier(observer)] = slot }
    }

    /// Removes an observer (from any thread); it receives nothing after its current call.
    public func remove(_ observer: any TrainingObserver) {
        let slot = slots.withLock { $0.removeValue(forKey: ObjectIdentifier(observer)) }
        slot?.mailbox.withLock { $0.removed = true; $0.pending = nil }
    }

    public var count: Int { slots.withLock { $0.count } }

    /// Hands `snapshot` to every observer without waiting for any of them.
    public func publish(_ snapshot: TrainingSnapshot) {
        let current = slots.withLock { Array($0.values) }
        for slot in current {
            let schedule = slot.mailbox.withLock { box -> Bool in
                if box.removed { return false }
                box.pending = snapshot
                if box.scheduled { return false }
                box.scheduled = true
                return true
            }
            if schedule { slot.queue.async { Self.drain(slot) } }
        }
    }

    /// Waits until every observer has handled what was published before this call.
    public func flush() {
        for slot in slots.withLock({ Array($0.values) }) { slot.queue.sync {} }
    }

    private static func drain(_ slot: Slot) {
        while true {
            let next = slot.mailbox.withLock { box -> TrainingSnapshot? in
                guard let s = box.pending, !box.removed else { box.scheduled = false; box.pending = nil; return nil }
                box.pending = nil
                return s
            }
            guard let s = next else { return }
            slot.observer.didPublish(s)
        }
    }
}
