/// A float32 tensor in row-major (NCHW for images) layout with reverse-mode autograd.
///
/// A tensor made by an op remembers its inputs and a closure that turns the gradient of
/// its output into gradients of its inputs ("backward", written beside each op's
/// forward). `backward()` on a scalar walks that graph once in reverse topological order;
/// gradients of a tensor used twice add up. After the walk the graph is released, so the
/// activations it kept alive are freed (PyTorch's `retain_graph=False`).
///
/// Tensors are not thread-safe: one thread (the training engine's queue) owns a graph.
public final class Tensor {
    /// Dimensions, outermost first: [N, C, H, W] for images.
    public let shape: [Int]
    /// The values, `shape.product` of them. Every write (in place or whole) bumps
    /// `version`, so `backward()` can tell when an op's input changed under it.
    public var data: [Float] {
        get { storage }
        set { storage = newValue; version &+= 1 }
        // In-place writes (`data[i] = v`, `data.withUnsafeMutableBufferPointer`) mutate the
        // storage where it is. A `didSet` would do the same inside this module but, called
        // from another module (Adam, checkpoints), copy the whole array on every write.
        _modify { version &+= 1; yield &storage }
    }
    var storage: [Float]
    /// How many times `data` was written. An op records the versions of the inputs its
    /// backward reads; `backward()` throws if one changed since (an in-place write to a
    /// tensor that a pending backward still reads, which would give wrong gradients).
    public private(set) var version = 0
    /// The accumulated gradient of the last `backward()`, or nil when none reached it.
    public var grad: [Float]?
    /// Leaves with `requiresGrad` receive gradients; ops propagate it to their outputs.
    public var requiresGrad: Bool
    /// Name of the op that made this tensor ("leaf" for inputs and parameters).
    public let op: String

    var parents: [Tensor]
    var backwardFn: (([Float]) -> Void)?
    /// The parents the backward reads (index into `parents`) and their versions when the
    /// op ran.
    var savedVersions: [(parent: Int, version: Int)] = []
    /// The size of a gradient `accumulate` refused (wrong count), until `backward()` reports it.
    var rejectedGradient: Int?

    /// A leaf tensor holding `data` (which must have `shape.product` values).
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) throws {
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw TensorError.invalid(op: "Tensor", "shape \(shape) has a dimension below 1")
        }
        guard data.count == shape.reduce(1, *) else {
            throw TensorError.invalid(op: "Tensor", "shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        }
        self.shape = shape
        self.storage = data
        self.requiresGrad = requiresGrad
        self.op = "leaf"
        self.parents = []
        self.backwardFn = nil
    }

    /// A leaf of zeros.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) throws {
        try self.init(shape: shape, data: [Float](repeating: 0, count: max(0, shape.reduce(1, *))),
                      requiresGrad: requiresGrad)
    }

    /// Internal constructor for op outputs: shape already validated. `reads` are the
    /// parents whose values `backward` reads (nil: all of them); their versions are
    /// recorded and checked by `backward()`.
    init(op: String, shape: [Int], data: [Float], parents: [Tensor], reads: [Tensor]? = nil,
         backward: (([Float]) -> Void)?) {
        self.shape = shape
        self.storage = data
        self.op = op
        let tracked = Tensor.gradEnabled && backward != nil && parents.contains { $0.requiresGrad }
        self.requiresGrad = tracked
        self.parents = tracked ? parents : []
        self.backwardFn = tracked ? backward : nil
        if tracked {
            if let reads {
                savedVersions = reads.map { r in (parents.firstIndex { $0 === r }!, r.version) }
            } else {
                savedVersions = parents.indices.map { ($0, parents[$0].version) }
            }
        }
    }

    /// Number of values.
    public var count: Int { data.count }

    /// The single value of a one-element tensor (losses).
    public var item: Float { data[0] }

    /// A copy of the values cut off from the graph.
    public func detached() -> Tensor {
        Tensor(op: "detach", shape: shape, data: data, parents: [], backward: nil)
    }

    /// Drops the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Adds `g` into this tensor's gradient. A `g` of the wrong size is not added but
    /// kept in `rejectedGradient`, for `backward()` to report with the op that made it.
    func accumulate(_ g: [Float]) {
        guard requiresGrad else { return }
        guard g.count == count else {
            if rejectedGradient == nil { rejectedGradient = g.count }
            return
        }
        if grad == nil {
            grad = g
        } else {
            grad!.withUnsafeMutableBufferPointer { dst in
                g.withUnsafeBufferPointer { src in
                    for i in 0..<dst.count { dst[i] += src[i] }
                }
            }
        }
    }

    /// Reverse-mode differentiation from this one-element tensor: every tensor of the
    /// graph that requires a gradient gets d(self)/d(tensor) added to its `grad`.
    ///
    /// Throws `TensorError.invalid` naming the op when an op's backward would read an
    /// input that was written in place after the op ran, or when an op's backward produced
    /// a gradient of the wrong size. No backward runs after the first such error (the
    /// gradients are then incomplete), but the graph is released all the same.
    public func backward() throws {
        guard count == 1 else {
            throw TensorError.invalid(op: "backward", "needs a one-element tensor, got shape \(shape)")
        }
        guard requiresGrad else { return }
        // Topological order by iterative depth-first search (graphs are deep: no recursion).
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !seen.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !seen.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        accumulate([1])
        var failure: TensorError?
        for node in order.reversed() {
            guard let fn = node.backwardFn else { continue }
            if failure == nil, let g = node.grad {
                failure = node.modifiedInput()
                if failure == nil {
                    fn(g)
                    failure = node.rejectedParentGradient()
                }
            }
            // Release the graph and intermediate gradients as soon as they are used.
            node.backwardFn = nil
            node.parents = []
            node.savedVersions = []
            node.grad = nil
        }
        if let failure { throw failure }
    }

    /// The error for the first input this op's backward reads that was written since the op ran.
    private func modifiedInput() -> TensorError? {
        for (i, v) in savedVersions where parents[i].version != v {
            return .invalid(op: op, "input \(i) was modified in place after the op (version \(v) -> \(parents[i].version))")
        }
        return nil
    }

    /// The error for a gradient of the wrong size that this op's backward gave a parent.
    private func rejectedParentGradient() -> TensorError? {
        var error: TensorError?
        for p in parents {
            guard let n = p.rejectedGradient else { continue }
            p.rejectedGradient = nil
            if error == nil { error = .invalid(op: op, "gradient of \(n) values for shape \(p.shape)") }
        }
        return error
    }

    // MARK: - Gradient mode

    @TaskLocal static var gradEnabledLocal = true

    /// Whether ops record the graph (false inside `withoutGrad`).
    public static var gradEnabled: Bool { gradEnabledLocal }

    /// Runs `body` without recording a graph: for inference and evaluation.
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $gradEnabledLocal.withValue(false) { try body() }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(\(op), shape \(shape))" }
}

/// What went wrong in an op: the op's name and the shapes or values involved.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(op: String, String)
    case invalid(op: String, String)
    case backend(op: String, String)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let m): return "\(op): shape mismatch: \(m)"
        case .invalid(let op, let m): return "\(op): \(m)"
        case .backend(let op, let m): return "\(op): oneDNN failed: \(m)"
        }
    }
}
