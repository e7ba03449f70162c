import Foundation

/// SIGINT, SIGTERM and SIGHUP as requests to stop: each one is counted and reported to
/// `onSignal` (with the count so far) on a queue of its own. The one place that turns
/// signals into stopping, for the dashboard and the headless loop alike.
public final class StopSignals: @unchecked Sendable {
    private let count = LockedBox(0)
    private let onSignal: @Sendable (Int) -> Void
    private var sources: [DispatchSourceSignal] = []

    /// `listening: false` installs no handler (tests call `deliver()` instead).
    public init(listening: Bool = true, onSignal: @escaping @Sendable (Int) -> Void) {
        self.onSignal = onSignal
        guard listening else { return }
        let queue = DispatchQueue(label: "aggan.signals")
        sources = [SIGINT, SIGTERM, SIGHUP].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in self?.deliver() }
            source.resume()
            return source
        }
    }

    deinit { for s in sources { s.cancel() } }

    /// Signals received so far.
    public var received: Int { count.current }

    /// Counts one signal and reports it, as a real one would be.
    public func deliver() {
        let n = count.withLock { c -> Int in c += 1; return c }
        onSignal(n)
    }
}
