import CDNNL
import CKernels
import Dispatch
import Glibc
import Synchronization

/// The math kernels behind the ops: matrix products through oneDNN, im2col/col2im in
/// plain loops over contiguous buffers. Only this file imports oneDNN.
public enum Compute {
    /// Sets the number of threads oneDNN's kernels use (OpenMP). Call it from the thread
    /// that runs the math (the engine's queue), never from two threads at once. The
    /// environment variable `AGGAN_MAX_THREADS` caps it: `AGGAN_MAX_THREADS=1` keeps every
    /// computation on the calling thread, with no OpenMP team, which is how the tests run
    /// under ThreadSanitizer (libgomp is not instrumented; docs/TESTING.md).
    public static func setThreads(_ n: Int) {
        aggan_set_threads(Int32(clamping: min(max(1, n), maximumThreads)))
    }

    /// `AGGAN_MAX_THREADS`, when set to a positive number.
    public static let maximumThreads: Int = {
        guard let text = getenv("AGGAN_MAX_THREADS"), let n = Int(String(cString: text)), n >= 1 else { return Int.max }
        return n
    }()

    /// The thread count oneDNN's kernels and `parallelFor` use now.
    public static var threads: Int { Int(aggan_max_threads()) }

    /// Whether conv2d's measured rule may take Winograd's primitives (`Conv2dTuning`); on
    /// by default. `aggan bench --no-winograd` turns it off to measure what they gain. Set
    /// it before any computation: a run that changed it midway would not resume exactly.
    public static var winograd: Bool {
        get { winogradAllowed.load(ordering: .relaxed) }
        set { winogradAllowed.store(newValue, ordering: .relaxed) }
    }
    private static let winogradAllowed = Atomic<Bool>(true)

    /// One Adam update of the parameters `x` with moments `m`, `v` and gradient `g` (all of
    /// one length): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g g, x -= stepSize m /
    /// (sqrt(v) / bc2Sqrt + eps). CKernels' vector loop gives each element the bits of this
    /// scalar formula, so the result does not depend on the threads it is split over.
    public static func adam(x: UnsafeMutableBufferPointer<Float>, m: UnsafeMutableBufferPointer<Float>,
                            v: UnsafeMutableBufferPointer<Float>, g: UnsafeBufferPointer<Float>,
                            beta1: Float, beta2: Float, stepSize: Float, bc2Sqrt: Float, eps: Float) {
        precondition(m.count == x.count && v.count == x.count && g.count == x.count, "Adam: lengths differ")
        guard let xp = x.baseAddress, let mp = m.baseAddress, let vp = v.baseAddress, let gp = g.baseAddress else { return }
        parallelFor(x.count, minimumChunk: 1 << 14) { r in
            let i = r.lowerBound
            aggan_adam(xp + i, mp + i, vp + i, gp + i, r.count, beta1, beta2, stepSize, bc2Sqrt, eps)
        }
    }

    /// Runs `body` on contiguous chunks that cover 0..<count, one per OpenMP thread (the
    /// team oneDNN's GEMMs use, so nothing else competes for the cores; see
    /// CKernels/parallel.c), and returns when all are done. Runs inline when there is one
    /// thread or less than two chunks of `minimumChunk`. `body` must write disjoint memory
    /// for disjoint ranges.
    public static func parallelFor(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
        let threads = min(Compute.threads, count / max(1, minimumChunk))
        guard threads > 1 else { if count > 0 { body(0..<count) }; return }
        withoutActuallyEscaping(body) { body in
            var job = ParallelJob(count: count, body: body)
            withUnsafeMutablePointer(to: &job) { p in
                aggan_parallel(Int32(threads), { raw, thread, team in
                    let job = raw!.assumingMemoryBound(to: ParallelJob.self).pointee
                    let (t, n) = (Int(thread), Int(team))
                    let lo = job.count * t / n, hi = job.count * (t + 1) / n
                    if lo < hi { job.body(lo..<hi) }
                }, p)
            }
        }
    }

    /// Makes malloc keep freed memory for reuse instead of handing it back to the system:
    /// blocks up to 32 MiB (every activation and column buffer of the `paper` preset) come
    /// from the heap rather than fresh mappings, and the heap is not trimmed. A training
    /// iteration frees and allocates the same buffers every time; fresh pages cost a page
    /// fault and a zero fill each. Call once at start-up.
    public static func keepFreedMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
    }

    /// The instruction set oneDNN's kernels use on this CPU, e.g. "AVX-512" or "AVX2"
    /// (chosen by oneDNN at run time; `ONEDNN_MAX_CPU_ISA` caps it).
    public static var isa: String { String(cString: aggan_cpu_isa()) }

    /// Whether the CPU is AMD's (cpuid's vendor): one path rule differs (`Conv2dTuning.fourByFour`).
    public static let isAMD = aggan_cpu_is_amd() != 0

    /// The processor's name from /proc/cpuinfo ("unknown" elsewhere).
    public static var cpuName: String {
        guard let f = fopen("/proc/cpuinfo", "r") else { return "unknown" }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") {
                return String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }.prefix { $0 != "\n" })
            }
        }
        return "unknown"
    }

    /// The best GFLOP/s of `dnnl_sgemm` on square n x n matrices over `repetitions` runs
    /// at the current thread count: the machine's practical peak for the bench commands.
    public static func sgemmGFLOPS(size n: Int = 1536, repetitions: Int = 8) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<(repetitions + 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a, b: b, beta: 0, c: &c)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }

    /// oneDNN's version, "major.minor.patch".
    public static var backendVersion: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }
}

/// What `Compute.parallelFor` hands to each thread.
private struct ParallelJob {
    let count: Int
    let body: (Range<Int>) -> Void
}

/// Row-major C[M,N] = alpha * op(A) * op(B) + beta * C through `dnnl_sgemm`, where op(A)
/// is M x K (A stored K x M when `transA`), op(B) is K x N. Leading dimensions default to
/// dense storage; pass them to work on a block of columns of a wider matrix.
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil, beta: Float,
           c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let status = dnnl_sgemm(CChar(UInt8(ascii: transA ? "T" : "N")), CChar(UInt8(ascii: transB ? "T" : "N")),
                            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc ?? n))
    // Arguments are validated by the ops before they reach here; a failure is a bug.
    precondition(status == dnnl_success, "dnnl_sgemm failed (\(status)) for M=\(m) N=\(n) K=\(k)")
}

/// Geometry of a sliding window over one image: kernel, stride, zero padding, and the
/// number of window positions (outH x outW).
struct Window {
    var channels, height, width, kh, kw, stride, pad, outH, outW: Int
    var rows: Int { channels * kh * kw }
    var cols: Int { outH * outW }

    /// Bands of output rows whose columns fit in `maxColumnFloats` floats (at least one
    /// row each): conv2d unfolds and multiplies one band at a time, so its column buffer
    /// stays small enough to be reused from the heap instead of mapped and zero-filled afresh.
    func bands(maxColumnFloats: Int) -> [Range<Int>] {
        let perBand = max(1, maxColumnFloats / max(1, rows * outW))
        return Swift.stride(from: 0, to: outH, by: perBand).map { $0..<min(outH, $0 + perBand) }
    }
}

/// The walk `im2col` and `col2im` share: channels spread over the OpenMP threads, and for
/// each channel c and kernel tap (ki, kj) the row of the column matrix it fills and the
/// valid output columns x0..<x1 (0 <= ox*s - p + kj < w). Each call owns its row.
@inline(__always)
func forEachTap(_ g: Window, rows: Int, _ body: (_ c: Int, _ ki: Int, _ kj: Int, _ row: Int, _ x0: Int, _ x1: Int) -> Void) {
    let (w, s, p, ow) = (g.width, g.stride, g.pad, g.outW)
    Compute.parallelFor(g.channels, minimumChunk: max(1, parallelGrain / max(1, g.kh * g.kw * rows * ow))) { channels in
        var row = channels.lowerBound * g.kh * g.kw
        for c in channels {
            for ki in 0..<g.kh {
                for kj in 0..<g.kw {
                    body(c, ki, kj, row, max(0, (p - kj + s - 1) / s), min(ow, floorDiv(w - 1 + p - kj, s) + 1))
                    row += 1
                }
            }
        }
    }
}

/// Unfolds one image [C, H, W] into columns [C*kh*kw, outH*outW] (zero outside the image),
/// or only the columns of the output rows `band` ([C*kh*kw, band.count*outW]).
/// Channels are spread over the OpenMP threads (each writes its own rows).
func im2col(_ src: UnsafePointer<Float>, _ g: Window, _ dst: UnsafeMutablePointer<Float>, band: Range<Int>? = nil) {
    let (h, w, s, p, ow) = (g.height, g.width, g.stride, g.pad, g.outW)
    let band = band ?? 0..<g.outH, oh = band.count
    forEachTap(g, rows: oh) { c, ki, kj, row, x0, x1 in
        let plane = src + c * h * w, out = dst + row * oh * ow
        for oy in band {
            let iy = oy * s - p + ki
            let o = out + (oy - band.lowerBound) * ow
            if iy < 0 || iy >= h || x0 >= x1 {
                o.update(repeating: 0, count: ow)
                continue
            }
            if x0 > 0 { o.update(repeating: 0, count: x0) }
            if x1 < ow { (o + x1).update(repeating: 0, count: ow - x1) }
            let line = plane + iy * w - p + kj
            if s == 1 {
                (o + x0).update(from: line + x0, count: x1 - x0)
            } else {
                for ox in x0..<x1 { o[ox] = line[ox * s] }
            }
        }
    }
}

/// The adjoint of `im2col`: adds columns [C*kh*kw, outH*outW] (or those of the output rows
/// `band`) back into an image [C, H, W].
/// Channels are spread over the OpenMP threads (each adds into its own planes).
func col2im(_ src: UnsafePointer<Float>, _ g: Window, _ dst: UnsafeMutablePointer<Float>, band: Range<Int>? = nil) {
    let (h, w, s, p, ow) = (g.height, g.width, g.stride, g.pad, g.outW)
    let band = band ?? 0..<g.outH, oh = band.count
    forEachTap(g, rows: oh) { c, ki, kj, row, x0, x1 in
        guard x0 < x1 else { return }
        let plane = dst + c * h * w, col = src + row * oh * ow
        for oy in band {
            let iy = oy * s - p + ki
            if iy < 0 || iy >= h { continue }
            let line = plane + iy * w - p + kj
            let o = col + (oy - band.lowerBound) * ow
            if s == 1 {
                for ox in x0..<x1 { line[ox] += o[ox] }
            } else {
                for ox in x0..<x1 { line[ox * s] += o[ox] }
            }
        }
    }
}

/// About how many floats of work make it worth waking a second thread for.
let parallelGrain = 1 << 14

/// Division rounding toward minus infinity (Swift's `/` truncates toward zero).
@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// An array of `count` floats that the caller overwrites entirely before reading (skips
/// the zero fill, which otherwise costs a pass over memory per op).
@inline(__always)
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
}
