import AGGAN
import Imaging
import Tensor
import Foundation

/// A small image for the screen and for preview files: planar [C, H, W] in [0, 1].
public struct PreviewImage: Sendable, Equatable {
    public let width: Int, height: Int, channels: Int
    public let pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// The pixels of `image`.
    public init(_ image: Image) {
        self.init(width: image.width, height: image.height, channels: image.channels, pixels: image.pixels)
    }

    /// An attention map [1, 1, H, W] with values in [0, 1], as they are.
    public init(attention a: Tensor) {
        self.init(width: a.shape[3], height: a.shape[2], channels: a.shape[1], pixels: a.data)
    }
}

/// One direction of one preview sample, computed in eval mode.
public struct DirectionPreview: Sendable, Equatable {
    public let input: PreviewImage
    /// The soft attention map A (1 channel).
    public let attention: PreviewImage
    /// The raw generator output G(x).
    public let generated: PreviewImage
    /// The composite with the current threshold mode and tau.
    public let composite: PreviewImage
    /// Mean |composite - input| outside the thresholded attention, in 8-bit levels: how
    /// much the background moved.
    public let backgroundDrift: Double
    /// Fraction of pixels with A > tau.
    public let fractionAboveTau: Double

    public init(input: PreviewImage, attention: PreviewImage, generated: PreviewImage, composite: PreviewImage,
                backgroundDrift: Double, fractionAboveTau: Double) {
        self.input = input; self.attention = attention; self.generated = generated; self.composite = composite
        self.backgroundDrift = backgroundDrift; self.fractionAboveTau = fractionAboveTau
    }
}

/// A fixed preview sample in both directions: A -> B from a domain-A image and B -> A
/// from a domain-B image.
public struct SamplePreview: Sendable, Equatable {
    public let index: Int
    public let nameA: String, nameB: String
    public let ab: DirectionPreview, ba: DirectionPreview

    public init(index: Int, nameA: String, nameB: String, ab: DirectionPreview, ba: DirectionPreview) {
        self.index = index; self.nameA = nameA; self.nameB = nameB; self.ab = ab; self.ba = ba
    }

    public func direction(_ d: Direction) -> DirectionPreview { d == .st ? ab : ba }
}

/// One logged iteration: its losses, the attention of its training crops and the
/// discriminators' mean outputs.
public struct LossPoint: Sendable, Equatable {
    public let step: Int
    public let losses: Losses
    /// A_S on the S crop and A_T on the T crop (nil for the baseline and in old logs).
    public let attention: AttentionPair?
    /// D_S and D_T on real and fake images (nil in old logs).
    public let discriminator: DiscriminatorOutputs?

    public init(step: Int, losses: Losses, attention: AttentionPair? = nil, discriminator: DiscriminatorOutputs? = nil) {
        self.step = step; self.losses = losses; self.attention = attention; self.discriminator = discriminator
    }
}

extension DiscriminatorOutputs {
    /// The metrics.jsonl fields, in order: the one place that names them.
    enum Field: String, CodingKey, CaseIterable {
        case sReal = "d_s_real", sFake = "d_s_fake", tReal = "d_t_real", tFake = "d_t_fake"
    }

    /// The metrics.jsonl fields, `d_s_real` ... `d_t_fake`, in order.
    public var fields: [(String, Float)] {
        zip(Field.allCases.map(\.rawValue), [realS, fakeS, realT, fakeT]).map { ($0, $1) }
    }

    /// The outputs written by `fields` in a JSON object, or nil when any is missing.
    init?(decodingFieldsOf decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Field.self)
        let v = try Field.allCases.compactMap { try c.decodeIfPresent(Float.self, forKey: $0) }
        guard v.count == Field.allCases.count else { return nil }
        self.init(realS: v[0], fakeS: v[1], realT: v[2], fakeT: v[3])
    }
}

/// The attention statistics of both directions.
public struct AttentionPair: Sendable, Equatable {
    public let s: AttentionStats, t: AttentionStats
    public init(s: AttentionStats, t: AttentionStats) { self.s = s; self.t = t }

    /// The metrics.jsonl fields, in order: the one place that names them.
    enum Field: String, CodingKey, CaseIterable {
        case sMean = "att_s_mean", sAbove = "att_s_above", sSpread = "att_s_spread"
        case tMean = "att_t_mean", tAbove = "att_t_above", tSpread = "att_t_spread"
    }

    /// The metrics.jsonl fields, `att_s_mean` ... `att_t_spread`, in order.
    public var fields: [(String, Float)] {
        zip(Field.allCases.map(\.rawValue), [s.mean, s.aboveTau, s.spread, t.mean, t.aboveTau, t.spread]).map { ($0, $1) }
    }

    /// The pair written by `fields` in a JSON object, or nil when any field is missing
    /// (lines from before the statistics existed).
    init?(decodingFieldsOf decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Field.self)
        let v = try Field.allCases.compactMap { try c.decodeIfPresent(Float.self, forKey: $0) }
        guard v.count == Field.allCases.count else { return nil }
        self.init(s: AttentionStats(mean: v[0], aboveTau: v[1], spread: v[2]),
                  t: AttentionStats(mean: v[3], aboveTau: v[4], spread: v[5]))
    }
}

/// Every iteration's losses, in chunks so that a snapshot can share them and the engine
/// can append without copying the whole history.
public struct LossHistory: Sendable, Equatable {
    static let chunkSize = 1024
    public private(set) var chunks: [[LossPoint]] = []
    public private(set) var count = 0

    public init() {}

    /// A history of `points`, oldest first (for tests, benchmarks and replays).
    public init(points: [LossPoint]) {
        for p in points { append(p) }
    }

    mutating func append(_ p: LossPoint) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Self.chunkSize)
        }
        chunks[chunks.count - 1].append(p)
        count += 1
    }

    public var last: LossPoint? { chunks.last?.last }

    /// All points, oldest first.
    public var points: [LossPoint] { chunks.flatMap { $0 } }

    /// The points with step > `step`. Steps increase along the history, so this finds
    /// the first such point by binary search and copies only what follows it: a recorder
    /// that asks for the newest few points on every snapshot does not walk the whole run.
    public func points(after step: Int) -> [LossPoint] {
        // The first chunk whose last point is past `step`.
        var lo = 0, hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if (chunks[mid].last?.step ?? Int.min) > step { hi = mid } else { lo = mid + 1 }
        }
        guard lo < chunks.count else { return [] }
        let chunk = chunks[lo]
        var first = 0, end = chunk.count
        while first < end {
            let mid = (first + end) / 2
            if chunk[mid].step > step { end = mid } else { first = mid + 1 }
        }
        var out = Array(chunk[first...])
        for c in chunks[(lo + 1)...] { out.append(contentsOf: c) }
        return out
    }
}

/// What the engine is doing.
public enum RunState: String, Sendable, Equatable {
    case idle, running, paused, finished, stopped, failed
}

/// An immutable picture of the training run, published to observers.
public struct TrainingSnapshot: Sendable {
    public let runName: String
    public let config: Config
    /// Iterations done (the last finished step is `step`).
    public let step: Int
    public let totalSteps: Int
    /// 0-based epoch of the next iteration.
    public let epoch: Int
    public let stage: Int
    /// The step at which stage 2 starts (nil for the baseline).
    public let stageSwitchStep: Int?
    public let learningRate: Float
    /// The last iteration's losses (nil before the first).
    public let losses: Losses?
    public let history: LossHistory
    public let iterationsPerSecond: Double
    /// Seconds to the end at the current speed (nil while unknown).
    public let eta: Double?
    public let tau: Float
    public let mode: ThresholdMode
    public let state: RunState
    public let previews: [SamplePreview]
    /// Step of the previews (they are recomputed every few steps).
    public let previewStep: Int
    public let lastCheckpointStep: Int?
    public let checkpointSteps: [Int]
    /// The latest event worth a line ("saved checkpoint step-0001200", an error).
    public let message: String?
    /// Set while an attention map has stayed all-black or all-white for a while.
    public let attentionAlarm: String?
    /// Set once a step was refused for a NaN or infinite loss or gradient: the step, the
    /// term and the last good checkpoint, in one line. Nothing trains or saves after it.
    public let fault: String?
    /// Increases with every published snapshot.
    public let sequence: Int
    /// The newest histograms of the networks' weights (nil when not asked for).
    public let weightHistograms: WeightHistograms?

    public init(runName: String, config: Config, step: Int, totalSteps: Int, epoch: Int, stage: Int,
                stageSwitchStep: Int?, learningRate: Float, losses: Losses?, history: LossHistory,
                iterationsPerSecond: Double, eta: Double?, tau: Float, mode: ThresholdMode, state: RunState,
                previews: [SamplePreview], previewStep: Int, lastCheckpointStep: Int?, checkpointSteps: [Int],
                message: String?, attentionAlarm: String? = nil, fault: String? = nil, sequence: Int,
                weightHistograms: WeightHistograms? = nil) {
        self.runName = runName; self.config = config; self.step = step; self.totalSteps = totalSteps
        self.epoch = epoch; self.stage = stage; self.stageSwitchStep = stageSwitchStep
        self.learningRate = learningRate; self.losses = losses; self.history = history
        self.iterationsPerSecond = iterationsPerSecond; self.eta = eta; self.tau = tau; self.mode = mode
        self.state = state; self.previews = previews; self.previewStep = previewStep
        self.lastCheckpointStep = lastCheckpointStep; self.checkpointSteps = checkpointSteps
        self.message = message; self.attentionAlarm = attentionAlarm; self.fault = fault; self.sequence = sequence
        self.weightHistograms = weightHistograms
    }
}

/// Histograms of each network's weights (`gen_st` ... `disc_t`) at one step.
public struct WeightHistograms: Sendable, Equatable {
    public let step: Int
    public let networks: [(name: String, histogram: Histogram)]

    public init(step: Int, networks: [(name: String, histogram: Histogram)]) {
        self.step = step; self.networks = networks
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.step == b.step && a.networks.map(\.name) == b.networks.map(\.name)
            && a.networks.map(\.histogram) == b.networks.map(\.histogram)
    }
}
