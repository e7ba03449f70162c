// A made-up but plausible training snapshot, for golden frames, the UI benchmark and
// trying the dashboard without training anything. Deterministic: no clock, no randomness.
import AGGAN
import Foundation
import TrainingEngine

public enum SyntheticSnapshot {
    /// The run of the synthetic snapshots: 20 epochs of 100 steps, stage 2 from step 600.
    public static var config: Config {
        var c = Config()
        c.imageSize = 32
        c.epochs = 20
        c.iterationsPerEpoch = 100
        c.switchFraction = 0.3
        c.tau = 0.1
        return c
    }

    /// A snapshot at `step` with the loss history up to it, `samples` preview samples of
    /// `imageSize` pixels, checkpoints every 500 steps plus `extraCheckpoint`.
    public static func make(step: Int = 1284, state: RunState = .running, tau: Float = 0.1,
                            mode: ThresholdMode = .soft, samples: Int = 4, imageSize: Int = 32,
                            extraCheckpoint: Int? = 1200, previewStep: Int? = nil, sequence: Int? = nil,
                            message: String? = "saved checkpoint step-00001200.safetensors",
                            fault: String? = nil) -> TrainingSnapshot {
        let c = config
        let points = (0..<step).map {
            LossPoint(step: $0 + 1, losses: losses(atStep: $0 + 1), attention: attention(atStep: $0 + 1),
                      discriminator: discriminator(atStep: $0 + 1))
        }
        var checkpoints = Array(stride(from: 500, through: step, by: 500))
        if let e = extraCheckpoint, e <= step, !checkpoints.contains(e) { checkpoints.append(e) }
        checkpoints.sort()
        let pStep = previewStep ?? (step / 20) * 20
        let previews = (0..<samples).map { i in
            SamplePreview(index: i, nameA: String(format: "a_%03d.png", i * 7 + 3),
                          nameB: String(format: "b_%03d.png", i * 5 + 1),
                          ab: direction(sample: i, size: imageSize, tau: tau, mode: mode, step: pStep, flip: false),
                          ba: direction(sample: i, size: imageSize, tau: tau, mode: mode, step: pStep, flip: true))
        }
        let remaining = Double(c.totalSteps - step)
        return TrainingSnapshot(
            runName: "nuclei", config: c, step: step, totalSteps: c.totalSteps,
            epoch: c.epoch(ofStep: step), stage: c.stage(ofStep: step),
            stageSwitchStep: c.switchEpoch * c.iterationsPerEpoch,
            learningRate: c.learningRate(epoch: c.epoch(ofStep: step)),
            losses: points.last?.losses, history: LossHistory(points: points),
            iterationsPerSecond: 31.2, eta: remaining / 31.2, tau: tau, mode: mode, state: state,
            previews: previews, previewStep: pStep, lastCheckpointStep: checkpoints.last,
            checkpointSteps: checkpoints, message: message, fault: fault, sequence: sequence ?? step)
    }

    /// Falling generator terms with wiggles, discriminator terms near 0.25.
    public static func losses(atStep s: Int) -> Losses {
        let t = Double(s)
        func wiggle(_ k: Double) -> Double { sin(t * 0.37 * k + k) * 0.5 + sin(t * 1.91 * k) * 0.5 }
        var l = Losses()
        l.cycS = Float(0.08 + 0.9 * exp(-t / 250) + 0.03 * wiggle(1))
        l.cycT = Float(0.07 + 0.8 * exp(-t / 300) + 0.03 * wiggle(2))
        l.advST = Float(0.45 + 0.25 * exp(-t / 400) + 0.08 * wiggle(3))
        l.advTS = Float(0.5 + 0.2 * exp(-t / 350) + 0.08 * wiggle(4))
        l.gTotal = l.advST + l.advTS + 10 * (l.cycS + l.cycT) / 4
        l.dS = Float(0.25 + 0.05 * wiggle(5))
        l.dT = Float(0.24 + 0.05 * wiggle(6))
        return l
    }

    /// An attention that starts grey and flat and settles on the cells: its mean falls
    /// from 0.5 to about 0.2, the share above tau from 1 to about 0.25, its spread grows.
    public static func attention(atStep s: Int) -> AttentionPair {
        let t = Double(s)
        func stats(_ k: Double) -> AttentionStats {
            let settle = exp(-t / (200 * k))
            let wiggle = 0.02 * sin(t * 0.23 * k)
            return AttentionStats(mean: Float(0.2 + 0.3 * settle + wiggle), aboveTau: Float(0.25 + 0.75 * settle + wiggle),
                                  spread: Float(0.3 - 0.28 * settle + wiggle / 2))
        }
        return AttentionPair(s: stats(1), t: stats(1.5))
    }

    /// Discriminators that start undecided (0.5 on everything) and drift apart a little.
    public static func discriminator(atStep s: Int) -> DiscriminatorOutputs {
        let t = Double(s)
        let gap = 0.2 * (1 - exp(-t / 500))
        func w(_ k: Double) -> Float { Float(0.03 * sin(t * 0.29 * k)) }
        return DiscriminatorOutputs(realS: Float(0.5 + gap) + w(1), fakeS: Float(0.5 - gap) + w(2),
                                    realT: Float(0.5 + gap * 0.8) + w(3), fakeT: Float(0.5 - gap * 0.8) + w(4))
    }

    /// Nuclei-like blobs on a dark background; the attention covers them; the generator
    /// brightens them; the composite blends by the (thresholded) attention.
    static func direction(sample: Int, size: Int, tau: Float, mode: ThresholdMode, step: Int,
                          flip: Bool) -> DirectionPreview {
        let n = size * size
        let blobs: [(x: Double, y: Double, r: Double)] = (0..<3).map { k in
            let a = Double(sample * 3 + k) * 2.399
            return (0.5 + 0.3 * cos(a), 0.5 + 0.3 * sin(a), 0.12 + 0.04 * Double(k % 2))
        }
        var input = [Float](repeating: 0, count: n), attention = input, generated = input
        let learned = min(1, Double(step) / 1500)
        for y in 0..<size {
            for x in 0..<size {
                let u = (Double(x) + 0.5) / Double(size), v = (Double(y) + 0.5) / Double(size)
                var cell = 0.0
                for b in blobs {
                    let d2 = ((u - b.x) * (u - b.x) + (v - b.y) * (v - b.y)) / (b.r * b.r)
                    cell = max(cell, exp(-d2 * 1.5))
                }
                let i = y * size + x
                let texture = 0.04 * sin(Double(x * 7 + y * 3))
                let bright = flip ? 0.2 + 0.25 * cell : 0.15 + 0.7 * cell
                input[i] = Float(min(1, max(0, bright + texture)))
                attention[i] = Float(min(1, max(0, cell * (0.4 + 0.6 * learned))))
                generated[i] = Float(min(1, max(0, (flip ? 0.15 + 0.7 * cell : 0.2 + 0.25 * cell) + texture * 2)))
            }
        }
        let applied: [Float] = attention.map { a in
            switch mode {
            case .soft: return a
            case .zeroBelow: return a > tau ? a : 0
            case .binary: return a > tau ? 1 : 0
            }
        }
        let composite = (0..<n).map { applied[$0] * generated[$0] + (1 - applied[$0]) * input[$0] }
        var driftSum = 0.0, driftCount = 0, above = 0
        for i in 0..<n {
            if attention[i] > tau { above += 1 } else {
                driftSum += Double(abs(composite[i] - input[i])) * 255
                driftCount += 1
            }
        }
        return DirectionPreview(
            input: .init(width: size, height: size, channels: 1, pixels: input),
            attention: .init(width: size, height: size, channels: 1, pixels: attention),
            generated: .init(width: size, height: size, channels: 1, pixels: generated),
            composite: .init(width: size, height: size, channels: 1, pixels: composite),
            backgroundDrift: driftCount > 0 ? driftSum / Double(driftCount) : 0,
            fractionAboveTau: Double(above) / Double(n))
    }
}
