import Basics
import AGGAN
import ArgumentParser
import Foundation
import NeuralNet
import Tensor

/// Peak resident memory of this process in MiB (ru_maxrss).
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Median, min and max of timings (0 for an empty list).
func stats(_ xs: [Double]) -> (median: Double, min: Double, max: Double) {
    let s = Stats(xs)
    return (s.median ?? 0, s.min ?? 0, s.max ?? 0)
}

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
}

/// A smooth deterministic test image in [-1, 1] ([1, C, S, S]): a few sine waves.
func smoothImage(size: Int, channels: Int, seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    let f = (0..<6).map { _ in rng.nextDouble() * 0.3 + 0.02 }
    var data = [Float](repeating: 0, count: channels * size * size)
    for c in 0..<channels {
        for y in 0..<size {
            for x in 0..<size {
                let v = sin(Double(x) * f[c % 3] + Double(c)) * cos(Double(y) * f[3 + c % 3])
                data[(c * size + y) * size + x] = Float(0.8 * v)
            }
        }
    }
    return try! Tensor(shape: [1, channels, size, size], data: data)
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time full training iterations and S->T inference.",
        discussion: "The last line is `median_ms=<x> infer_ms=<y>`, as the PyTorch reference's bench prints, so a side-by-side comparison script can compute the ratio (README, Speed and memory).")

    @OptionGroup var model: ModelOptions
    @Option(help: "Image channels (1 or 3).") var channels: Int?
    @Option(help: "Timed iterations.") var iters: Int = 20
    @Option(help: "Untimed warm-up iterations.") var warmup: Int = 3
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Stage (1 or 2).") var stage: Int = 1
    @Option(help: "Timed inference runs (default max(20, iters)).") var inferIters: Int?
    @Flag(help: "The CycleGAN baseline (attention fixed to 1).") var baseline = false

    func run() throws {
        var config = model.config
        config.channels = channels ?? config.channels
        config.baseline = baseline
        // Stage 2 from the first step when asked: the switch at epoch 0.
        if stage == 2 { config.switchFraction = 0 }
        try config.validate()
        guard iters >= 1, warmup >= 0 else { throw ValidationError("iters >= 1 and warmup >= 0 please") }
        threads.apply()
        let trainer = try Trainer(config: config)
        let params = trainer.model.networks.map { "\($0.0)=\($0.1.parameterCount)" }.joined(separator: " ")
        print("aggan bench  threads=\(Compute.threads)  onednn=\(Compute.backendVersion)")
        print("config size=\(config.imageSize) channels=\(config.channels) ngf=\(config.ngf) blocks=\(config.blocks) ndf=\(config.ndf) stage=\(trainer.stage) tau=\(config.tau) seed=\(config.seed)")
        print("parameters \(params) total=\(trainer.model.parameterCount)")
        let s = smoothImage(size: config.imageSize, channels: config.channels, seed: 1)
        let t = smoothImage(size: config.imageSize, channels: config.channels, seed: 2)
        let rssBuilt = peakRSSMiB()
        var times: [Double] = []
        var losses = Losses()
        let guide = try trainer.benchmarkGuide(s, t)
        for i in 0..<(warmup + iters) {
            let ms = try milliseconds { losses = try trainer.step(s, t, guide: guide) }
            if i >= warmup { times.append(ms) }
        }
        print("losses " + losses.terms.map { "\($0.rawValue)=\(String(format: "%.4f", $1))" }.joined(separator: " "))
        let tr = stats(times)
        print(String(format: "train ms/iter: median=%.2f min=%.2f max=%.2f (n=%d, warmup %d)", tr.median, tr.min, tr.max, iters, warmup))
        let n = inferIters ?? max(20, iters)
        var inferTimes: [Double] = []
        try Tensor.withoutGrad {
            for i in 0..<(n + 3) {
                let ms = try milliseconds { _ = try trainer.model.translate(s, .st) }
                if i >= 3 { inferTimes.append(ms) }
            }
        }
        let inf = stats(inferTimes)
        print(String(format: "infer S->T ms: median=%.2f min=%.2f max=%.2f (n=%d)", inf.median, inf.min, inf.max, n))
        print(String(format: "peak_rss_mib=%.1f (after model build %.1f)", peakRSSMiB(), rssBuilt))
        print(String(format: "median_ms=%.3f infer_ms=%.3f", tr.median, inf.median))
    }
}

struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ops",
        abstract: "GFLOP/s of conv2d forward+backward at the generator's shapes.")

    @OptionGroup var threads: ThreadOptions
    @Option(help: "Timed repetitions per shape.") var reps: Int = 10

    func run() throws {
        threads.apply()
        print("conv2d forward+backward, threads=\(Compute.threads), oneDNN \(Compute.backendVersion)")
        // (name, C in, C out, size, kernel, reflect pad)
        let shapes = [("res block 3x3 128->128 16x16", 128, 128, 16, 3, 1), ("res block 3x3 128->128 64x64", 128, 128, 64, 3, 1),
                      ("enc1 7x7 3->32 64x64", 3, 32, 64, 7, 3), ("enc1 7x7 3->32 256x256", 3, 32, 256, 7, 3)]
        var rng = SplitMix64(seed: 1)
        for (name, cin, cout, size, k, pad) in shapes {
            let x = try Tensor(shape: [1, cin, size, size], data: (0..<(cin * size * size)).map { _ in Float(rng.nextNormal()) }, requiresGrad: true)
            let conv = Conv2D(cin, cout, kernel: k, reflect: pad)
            Initializer.apply(to: conv, rng: &rng)
            // Forward 2*O*C*k*k*H*W; backward twice that (input and weight gradients).
            let flops = 3.0 * 2 * Double(cout * cin * k * k * size * size)
            var times: [Double] = []
            for i in 0..<(reps + 2) {
                let ms = try milliseconds {
                    let y = try conv(x)
                    try y.mean().backward()
                }
                if i >= 2 { times.append(ms) }
                x.zeroGrad(); conv.zeroGrad()
            }
            let st = stats(times)
            print(String(format: "%-32@ median %8.3f ms  %7.1f GFLOP/s (best %7.1f)", name as NSString, st.median, flops / st.median / 1e6, flops / st.min / 1e6))
        }
    }
}
