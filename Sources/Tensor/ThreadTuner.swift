import Dispatch

/// Picks the thread count of a loop of like iterations (training steps) by timing them,
/// for `--threads auto`. With the cores to itself, a step at 2 threads is the faster; when
/// another process keeps a core busy, every parallel region waits for the thread that
/// shares its core and the same step can take 4x as long as on 1 thread (measured, B1 on
/// 2 cores beside `yes`: docs/PERFORMANCE.md). So the tuner times `probeIterations` steps
/// at each candidate count (the most threads first, halving down to 1), keeps the fastest,
/// and probes again every `recheckEvery` steps, or sooner when steps run `slowdown` times
/// slower than the chosen count's probe for `patience` steps in a row. Results do not depend
/// on the thread count (the kernels never split a sum between threads; tested), so the
/// switches change only the speed.
public struct ThreadTuner: Sendable {
    /// The counts tried, most first.
    public let candidates: [Int]
    /// The count for the next iteration.
    public private(set) var current: Int
    /// The count the last probe chose (nil while the first probe runs).
    public private(set) var chosen: Int?
    public var probeIterations = 2
    public var recheckEvery = 100
    public var slowdown = 1.5
    public var patience = 3

    private var probe: [Double] = []        // the best seconds per candidate so far in this probe
    private var probeIndex = 0, probeCount = 0
    private var probing = true
    private var reference = 0.0, sinceProbe = 0, slowInARow = 0

    public init(maximum: Int) {
        var counts = [max(1, maximum)]
        while counts.last! > 1 { counts.append(counts.last! / 2) }
        candidates = counts
        current = counts[0]
        probe = Array(repeating: .infinity, count: counts.count)
        if counts.count == 1 { probing = false; chosen = counts[0] }
    }

    /// Runs one iteration at `current` threads (`Compute.setThreads`), times it and
    /// records the time.
    public mutating func run<T>(_ iteration: () throws -> T) rethrows -> T {
        Compute.setThreads(current)
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try iteration()
        record(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return result
    }

    /// Records the seconds the last iteration took at `current` threads; `current` is then
    /// the count for the next one.
    public mutating func record(_ seconds: Double) {
        guard candidates.count > 1 else { return }
        if probing {
            probe[probeIndex] = min(probe[probeIndex], seconds)
            probeCount += 1
            guard probeCount >= probeIterations else { return }
            probeCount = 0
            probeIndex += 1
            if probeIndex < candidates.count { current = candidates[probeIndex]; return }
            let best = probe.indices.min { probe[$0] < probe[$1] }!
            (current, chosen, reference) = (candidates[best], candidates[best], probe[best])
            (probing, sinceProbe, slowInARow) = (false, 0, 0)
            return
        }
        sinceProbe += 1
        slowInARow = seconds > slowdown * reference ? slowInARow + 1 : 0
        if sinceProbe >= recheckEvery || slowInARow >= patience { startProbe() }
    }

    private mutating func startProbe() {
        probing = true
        probeIndex = 0
        probeCount = 0
        probe = Array(repeating: .infinity, count: candidates.count)
        current = candidates[0]
    }
}
