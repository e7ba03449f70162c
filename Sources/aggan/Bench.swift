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
    @Flag(inversion: .prefixedNo, help: "Winograd's convolutions where the measured rule takes them (docs/PERFORMANCE.md).")
    var winograd = true

    func run() throws {
        var config = model.config
        config.channels = channels ?? config.channels
        config.baseline = baseline
        // Stage 2 from the first step when asked: the switch at epoch 0.
        if stage == 2 { config.switchFraction = 0 }
        try config.validate()
        guard iters >= 1, warmup >= 0 else { throw ValidationError("iters >= 1 and warmup >= 0 please") }
        threads.apply()
        Compute.winograd = winograd
        let trainer = try Trainer(config: config)
        let params = trainer.model.networks.map { "\($0.0)=\($0.1.parameterCount)" }.joined(separator: " ")
        print("aggan bench  cpu=\(Compute.cpuName)  isa=\(Compute.isa)  threads=\(threads.adaptive ? "auto (1...\(threads.count))" : "\(Compute.threads)")  onednn=\(Compute.backendVersion)  winograd=\(winograd ? "on" : "off")")
        print("config size=\(config.imageSize) channels=\(config.channels) ngf=\(config.ngf) blocks=\(config.blocks) ndf=\(config.ndf) stage=\(trainer.stage) tau=\(config.tau) seed=\(config.seed)")
        print("parameters \(params) total=\(trainer.model.parameterCount)")
        let s = smoothImage(size: config.imageSize, channels: config.channels, seed: 1)
        let t = smoothImage(size: config.imageSize, channels: config.channels, seed: 2)
        let rssBuilt = peakRSSMiB()
        var times: [Double] = []
        var losses = Losses()
        let guide = try trainer.benchmarkGuide(s, t)
        var flops = 0.0
        var tuner = ThreadTuner(maximum: threads.count)
        var used: [Int: Int] = [:]
        for i in 0..<(warmup + iters) {
            let before = ConvolutionCount.flops
            let ms = try milliseconds {
                losses = threads.adaptive ? try tuner.run { try trainer.step(s, t, guide: guide) } : try trainer.step(s, t, guide: guide)
            }
            if i >= warmup { times.append(ms); used[Compute.threads, default: 0] += 1 }
            flops = ConvolutionCount.flops - before
        }
        if threads.adaptive {
            print("threads auto: timed iterations ran at " + used.sorted { $0.key > $1.key }.map { "\($0.key) thread\($0.key == 1 ? "" : "s") x\($0.value)" }.joined(separator: ", "))
            Compute.setThreads(tuner.chosen ?? threads.count)
        }
        print("losses " + losses.terms.map { "\($0.rawValue)=\(String(format: "%.4f", $1))" }.joined(separator: " "))
        let tr = stats(times)
        print(String(format: "train ms/iter: median=%.2f min=%.2f max=%.2f (n=%d, warmup %d)", tr.median, tr.min, tr.max, iters, warmup))
        let peak = Compute.sgemmGFLOPS()
        // FLOPs as the layers are written: a Winograd layer does fewer multiplications, so
        // with Winograd on this is the rate of the direct computation it replaces.
        print(String(format: "train convolution GFLOP/iter=%.2f  GFLOP/s at the median=%.1f (%.0f %% of the sgemm peak %.1f at %d threads%@)",
                     flops / 1e9, flops / tr.median / 1e6, 100 * flops / tr.median / 1e6 / peak, peak, Compute.threads,
                     (winograd ? "; direct-convolution FLOPs, Winograd layers do fewer" : "") as NSString))
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
        abstract: "The machine's sgemm peak and each convolution layer's GFLOP/s by both paths.",
        discussion: "Runs one training iteration of the model the preset and options give, to find its convolution layers, then times one image's forward, backward-data and backward-weights passes of each layer by im2col + GEMM (columns), by oneDNN's primitives and, for 3x3 layers of stride 1, by Winograd (oneDNN's F(4x4, 3x3) where the CPU has it, else CKernels' F(2x2, 3x3)), and marks the path conv2d takes. docs/PERFORMANCE.md runs it as `--preset paper --size 256 --ngf 32 --blocks 9 --ndf 64` (B3).")

    @OptionGroup var model: ModelOptions
    @Option(help: "Image channels (1 or 3).") var channels: Int = 3
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Timed repetitions per pass (best counts).") var reps: Int = 5

    func run() throws {
        threads.apply()
        var config = model.config
        config.channels = channels
        try config.validate()
        print("bench-ops  cpu=\(Compute.cpuName)  isa=\(Compute.isa)  threads=\(Compute.threads)  onednn=\(Compute.backendVersion)")
        let peak = Compute.sgemmGFLOPS()
        print(String(format: "sgemm peak %.1f GFLOP/s (1536^3, best of 8)", peak))
        let trainer = try Trainer(config: config)
        let s = smoothImage(size: config.imageSize, channels: config.channels, seed: 1)
        let t = smoothImage(size: config.imageSize, channels: config.channels, seed: 2)
        let guide = try trainer.benchmarkGuide(s, t)
        let geometries = try ConvolutionCount.layers { _ = try trainer.step(s, t, guide: guide) }
        print("config size=\(config.imageSize) ngf=\(config.ngf) blocks=\(config.blocks) ndf=\(config.ndf); layers by FLOPs, GFLOP/s of forward / backward data / backward weights")
        let layers = geometries.keys.sorted { ($0.flops, $0.channels) > ($1.flops, $1.channels) }
        for g in layers {
            var line = String(format: "%-30@", g.description as NSString)
            for method in ConvolutionMethod.allCases {
                guard let ms = timeConvolution(g, method: method, repetitions: reps) else { line += "  \(method.rawValue) -"; continue }
                line += String(format: "  %@ %6.1f %6.1f %6.1f", method.rawValue as NSString,
                               g.flops / ms.forward / 1e6, g.flops / ms.backwardData / 1e6, g.flops / ms.backwardWeights / 1e6)
            }
            print(line + "  taken: " + ConvolutionMethod.taken(g).map(\.rawValue).joined(separator: "/"))
        }
    }
}
