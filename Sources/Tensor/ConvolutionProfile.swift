import Dispatch
import Synchronization

/// Timing of conv2d's paths per layer geometry, for `aggan bench-ops` (the measurements
/// behind `Conv2dTuning`), and a count of the convolutions a computation runs, for the
/// FLOPs `aggan bench` prints.
public struct ConvolutionGeometry: Hashable, Sendable, CustomStringConvertible {
    /// Input channels, output channels, the (already transformed) input's height and
    /// width, square kernel size, stride and zero padding.
    public var channels, outputs, height, width, kernel, stride, padding: Int

    public init(channels: Int, outputs: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        (self.channels, self.outputs, self.height, self.width) = (channels, outputs, height, width)
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
    }

    var window: Window {
        Window(channels: channels, height: height, width: width, kh: kernel, kw: kernel, stride: stride, pad: padding,
               outH: (height + 2 * padding - kernel) / stride + 1, outW: (width + 2 * padding - kernel) / stride + 1)
    }

    /// Multiply-adds times two of the forward pass (each backward pass costs the same).
    public var flops: Double {
        let w = window
        return 2 * Double(outputs) * Double(w.rows) * Double(w.cols)
    }

    public var description: String {
        "\(kernel)x\(kernel)\(stride > 1 ? "/\(stride)" : "") \(channels)->\(outputs) \(height)x\(width)\(padding > 0 ? " pad \(padding)" : "")"
    }
}

/// The ways conv2d can compute a layer that is not pointwise or direct.
public enum ConvolutionMethod: String, CaseIterable, Sendable {
    case columns, primitive, winograd
}

/// Best-of-`repetitions` milliseconds of one image's forward, backward-data and
/// backward-weights passes of `geometry` by `method` (nil when the layer has no such path:
/// no oneDNN primitive, or Winograd for a layer other than 3x3 of stride 1), on the
/// current thread count.
public func timeConvolution(_ geometry: ConvolutionGeometry, method: ConvolutionMethod, repetitions: Int)
    -> (forward: Double, backwardData: Double, backwardWeights: Double)? {
    let g = geometry.window
    var tuning = Conv2dTuning.standard
    tuning.directMaxOutputs = 0
    tuning.primitives = method == .primitive ? .all : []
    tuning.winograd = method == .winograd
    let path = Conv2dPath(window: g, outputs: geometry.outputs, tuning: tuning)
    switch (method, path) {
    case (.columns, _), (.winograd, .winograd): break
    case (.primitive, _) where path.primitive(.all) != nil: break
    default: return nil
    }
    let transform = InputTransform(channels: g.channels, height: g.height, width: g.width, upsample: false, reflect: 0)
    let k = Conv2dKernel(transform: transform, window: g, outputs: geometry.outputs, path: path, tuning: tuning)
    let x = (0..<k.inCount).map { Float($0 % 17) / 17 - 0.5 }
    let w = (0..<geometry.outputs * g.rows).map { Float($0 % 13) / 13 - 0.5 }
    let gy = (0..<k.outCount).map { Float($0 % 11) / 11 - 0.5 }
    var y = [Float](repeating: 0, count: k.outCount), dx = [Float](repeating: 0, count: k.inCount)
    var dw = [Float](repeating: 0, count: w.count), columns = [Float](repeating: 0, count: max(1, k.columnFloats))
    var paddedGrad = [Float](repeating: 0, count: 1), flipped = [Float](repeating: 0, count: 1)
    func best(_ body: () -> Void) -> Double {
        body()
        var t = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            t = min(t, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return t
    }
    let forward = best { k.forward(image: x, weight: w, output: &y, columns: &columns) }
    let data = best {
        k.backwardData(gradOutput: gy, weight: w, flipped: &flipped, imageGrad: &dx, dColumns: &columns, paddedGrad: &paddedGrad)
    }
    let weights = best { k.backwardWeights(gradOutput: gy, image: x, weightGrad: &dw, accumulate: false, columns: &columns) }
    return (forward, data, weights)
}

/// FLOPs of the convolutions run since the process started (forward and backward passes,
/// twice the multiply-adds of each layer as written: an upsampled convolution counts the
/// 3x3 kernel on the upsampled image, whatever the folded path does), for `aggan bench`,
/// and the geometries of the conv2d layers that can take either path, for `bench-ops`.
public enum ConvolutionCount {
    static let flopTotal = Atomic<Int>(0)
    static let recording = Atomic<Bool>(false)
    static let layers = Mutex<[ConvolutionGeometry: Int]>([:])

    /// FLOPs so far.
    public static var flops: Double { Double(flopTotal.load(ordering: .relaxed)) }

    /// Runs `body` and returns the geometries of the conv2d layers it ran (input after
    /// padding and upsampling) and how many forward passes each ran. Outside such a call
    /// nothing is recorded, so training and translation pay no lock for it.
    public static func layers(of body: () throws -> Void) rethrows -> [ConvolutionGeometry: Int] {
        layers.withLock { $0 = [:] }
        recording.store(true, ordering: .relaxed)
        defer { recording.store(false, ordering: .relaxed) }
        try body()
        return layers.withLock { $0 }
    }

    static func add(_ flops: Double) { flopTotal.add(Int(flops), ordering: .relaxed) }

    /// Adds the backward passes of a layer of `flops` per pass: one per input that needs
    /// its gradient.
    static func addBackward(_ flops: Double, _ x: Tensor, _ w: Tensor) {
        add(flops * Double((x.requiresGrad ? 1 : 0) + (w.requiresGrad ? 1 : 0)))
    }

    static func saw(_ g: Window, outputs: Int) {
        guard recording.load(ordering: .relaxed) else { return }
        let key = ConvolutionGeometry(channels: g.channels, outputs: outputs, height: g.height, width: g.width, kernel: g.kh,
                                      stride: g.stride, padding: g.pad)
        layers.withLock { $0[key, default: 0] += 1 }
    }
}

extension ConvolutionMethod {
    /// The paths conv2d takes for `geometry`'s forward, backward-data and backward-weights
    /// passes with the standard tuning.
    public static func taken(_ geometry: ConvolutionGeometry) -> [ConvolutionMethod] {
        let path = Conv2dPath(window: geometry.window, outputs: geometry.outputs, tuning: .standard)
        if case .winograd = path { return [.winograd, .winograd, .winograd] }
        return [Conv2dPasses.forward, .data, .weights].map { path.primitive($0) == nil ? .columns : .primitive }
    }
}
