import Basics
import Foundation
import XCTest
import AGGAN
import NeuralNet
import Tensor

/// Damaged checkpoints with fixed seeds: every mutant resumes or is refused with one
/// line that names its file; none crashes. Loading only (from memory, through the same
/// checks as a file), no training.
final class CheckpointFuzzTests: XCTestCase {
    static func mutate(_ seed: [UInt8], headerEnd: Int, _ rng: inout SplitMix64) -> [UInt8] {
        var file = seed
        // Most mutations hit the length and the JSON header, where the parsing is; a
        // mutant that still loads costs a whole load, so few go into the tensors' bytes.
        func position() -> Int { rng.nextInt(below: 16) == 0 ? rng.nextInt(below: file.count) : rng.nextInt(below: headerEnd) }
        switch rng.nextInt(below: 7) {
        case 0:  // flipped bits
            for _ in 0...rng.nextInt(below: 4) { file[position()] ^= UInt8(1 << rng.nextInt(below: 8)) }
        case 1:  // truncated
            file = Array(file.prefix(position()))
        case 2:  // the header length replaced: small, near the truth or absurd
            let n: UInt64 = [UInt64(rng.nextInt(below: 64)), UInt64(headerEnd - 8 + rng.nextInt(below: 17) - 8), rng.next()][rng.nextInt(below: 3)]
            for i in 0..<8 { file[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        case 3:  // a digit in the header changed (shapes, offsets, metadata numbers)
            let digits = (8..<headerEnd).filter { (48...57).contains(file[$0]) }
            for _ in 0...rng.nextInt(below: 3) { file[digits[rng.nextInt(below: digits.count)]] = UInt8(48 + rng.nextInt(below: 10)) }
        case 4:  // a header byte replaced by JSON punctuation
            let marks = Array("{}[]\",:-0e.".utf8)
            file[8 + rng.nextInt(below: headerEnd - 8)] = marks[rng.nextInt(below: marks.count)]
        case 5:  // random bytes inserted
            file.insert(contentsOf: (0...rng.nextInt(below: 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: position())
        default:  // a range cut out
            let from = position()
            file.removeSubrange(from..<min(file.count, from + 1 + rng.nextInt(below: 64)))
        }
        return file
    }

    func testAThousandDamagedCheckpoints() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A small training checkpoint (optimiser moments, a pool, metadata): quick to load.
        var c = Config()
        c.imageSize = 24; c.channels = 1; c.ngf = 2; c.blocks = 1; c.ndf = 2; c.poolSize = 1; c.seed = 9
        let trainer = try Trainer(config: c)
        var rng = SplitMix64(seed: 0xC0FFEE)
        try trainer.step(try Tensor(shape: [1, 1, 24, 24], data: (0..<576).map { _ in Float(rng.nextDouble()) }),
                         try Tensor(shape: [1, 1, 24, 24], data: (0..<576).map { _ in Float(rng.nextDouble()) }))
        let original = dir.appendingPathComponent("ok.safetensors").path
        try Checkpoint.save(trainer, to: original)
        let seed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let headerEnd = 8 + Int(seed[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })

        var refused = 0, loaded = 0
        for i in 0..<1200 {
            let path = dir.appendingPathComponent("mutant-\(i).safetensors").path
            do {
                _ = try Checkpoint.resume(data: Data(Self.mutate(seed, headerEnd: headerEnd, &rng)), path: path)
                loaded += 1
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains(path), "mutant \(i): the error does not name the file: \(text)")
                XCTAssertFalse(text.contains("\n"), "mutant \(i): more than one line: \(text)")
                refused += 1
            }
        }
        print("checkpoint fuzz: 1200 mutants, \(refused) refused with a one-line error naming the file, \(loaded) loaded")
        XCTAssertEqual(refused + loaded, 1200)
        XCTAssertGreaterThan(refused, 900, "the mutations should break most files (loaded \(loaded))")
    }
}
