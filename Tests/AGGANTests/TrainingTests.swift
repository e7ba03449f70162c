import Basics
import Foundation
import XCTest
@testable import AGGAN
import NeuralNet
import Tensor

/// A small, fast configuration (32 px) for training tests.
func tinyConfig(channels: Int = 1, seed: UInt64 = 3) -> Config {
    var c = Config()
    c.imageSize = 32; c.channels = channels; c.ngf = 4; c.blocks = 1; c.ndf = 4
    c.epochs = 10; c.iterationsPerEpoch = 2; c.poolSize = 3; c.seed = seed; c.learningRate = 1e-3
    return c
}

/// A deterministic image pair per step (no data pipeline needed).
func pair(_ step: Int, channels: Int) throws -> (Tensor, Tensor) {
    var rng = SplitMix64(seed: UInt64(step) &* 7919 &+ 1)
    let n = channels * 32 * 32
    return (try Tensor(shape: [1, channels, 32, 32], data: (0..<n).map { _ in Float(rng.nextDouble() * 2 - 1) }),
            try Tensor(shape: [1, channels, 32, 32], data: (0..<n).map { _ in Float(rng.nextDouble() * 1.6 - 0.8) }))
}

final class TrainingTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Stopped at step k and resumed gives bit for bit the losses of a run never stopped,
    /// through the pool filling up and the switch to stage 2; also with the attention
    /// average, stopped before the switch (the average is saved) and after it (it is not).
    func testResumeIsExact() throws {
        var averaged = tinyConfig()
        averaged.attentionAverage = 0.9
        for (config, stop) in [(tinyConfig(), 5), (averaged, 5), (averaged, 7)] {
            let straight = try Trainer(config: config)
            var expected: [Losses] = []
            for i in 0..<10 { let (s, t) = try pair(i, channels: 1); expected.append(try straight.step(s, t)) }
            XCTAssertEqual(straight.stage, 2, "the run should have crossed the stage switch")

            let first = try Trainer(config: config)
            for i in 0..<stop { let (s, t) = try pair(i, channels: 1); try first.step(s, t) }
            let path = dir.appendingPathComponent("k.safetensors").path
            try Checkpoint.save(first, to: path)
            let saved = try Safetensors.read(path)
            XCTAssertEqual(saved.tensors.keys.contains { $0.hasPrefix("average.") }, first.attentionAverage != nil)
            let (resumed, _) = try Checkpoint.resume(path)
            XCTAssertEqual(resumed.step, stop)
            XCTAssertEqual(resumed.poolST.items.count, 3)
            XCTAssertEqual(resumed.attentionAverage, first.attentionAverage)
            for i in stop..<10 {
                let (s, t) = try pair(i, channels: 1)
                XCTAssertEqual(try resumed.step(s, t), expected[i], "step \(i + 1), average \(config.attentionAverage), stopped at \(stop)")
            }
            for ((n, a), (_, b)) in zip(straight.model.namedParameters, resumed.model.namedParameters) {
                XCTAssertEqual(a.data, b.data, "parameter \(n) after the resumed run")
            }
        }
        XCTAssertNotNil(try Trainer(config: averaged).attentionAverage)
    }

    /// A checkpoint taken in stage 1 of a run that averages its attention, without the
    /// average, is refused: resuming without it would freeze a different attention.
    func testResumeWithoutTheAttentionAverageIsRefused() throws {
        var config = tinyConfig()
        config.attentionAverage = 0.9
        let trainer = try Trainer(config: config)
        let (s, t) = try pair(0, channels: 1)
        try trainer.step(s, t)
        let path = dir.appendingPathComponent("avg.safetensors").path
        try Checkpoint.save(trainer, to: path)
        var file = try Safetensors.read(path)
        file.tensors = file.tensors.filter { !$0.key.hasPrefix("average.att_t.") }
        try Safetensors.write(file, to: path)
        XCTAssertThrowsError(try Checkpoint.resume(path)) { e in
            XCTAssertTrue("\(e)".hasPrefix("cannot load checkpoint '\(path)'") && "\(e)".contains("attention average for 'att_t."), "\(e)")
        }
    }

    /// Stage 2 freezes the attention networks and skips the discriminators' IN*: their
    /// parameters are unchanged by a step, while generators and discriminator convs move.
    func testStage2FreezesAttention() throws {
        var config = tinyConfig()
        config.switchFraction = 0
        let trainer = try Trainer(config: config)
        XCTAssertEqual(trainer.stage, 2)
        let before = Dictionary(uniqueKeysWithValues: trainer.model.namedParameters.map { ($0.name, $0.tensor.data) })
        let (s, t) = try pair(0, channels: 1)
        try trainer.step(s, t)
        for (name, p) in trainer.model.namedParameters {
            let frozen = name.hasPrefix("att_") || (name.hasPrefix("disc_") && name.contains(".norm."))
            if frozen {
                XCTAssertEqual(p.data, before[name], "\(name) changed in stage 2")
            } else if name.hasSuffix("weight") {
                XCTAssertNotEqual(p.data, before[name], "\(name) did not move")
            }
        }
    }

    /// In stage 1 the attention networks learn.
    func testStage1TrainsAttention() throws {
        let trainer = try Trainer(config: tinyConfig())
        let w = trainer.model.attS.namedParameters[0].tensor
        let before = w.data
        let (s, t) = try pair(0, channels: 1)
        try trainer.step(s, t)
        XCTAssertEqual(trainer.stage, 1)
        XCTAssertNotEqual(w.data, before)
    }

    func testCorruptedOrForeignCheckpointIsRefused() throws {
        let trainer = try Trainer(config: tinyConfig())
        let path = dir.appendingPathComponent("ok.safetensors").path
        try Checkpoint.save(trainer, to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.safetensors").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Checkpoint.resume(cut)) { e in
            XCTAssertTrue("\(e)".hasPrefix("cannot load checkpoint '\(cut)'") && "\(e)".contains("truncated"), "\(e)")
        }
        // A valid safetensors file of something else.
        var other = Safetensors.File()
        other.tensors["encoder.weight"] = .init([1, 2], shape: [2])
        let foreign = dir.appendingPathComponent("foreign.safetensors").path
        try Safetensors.write(other, to: foreign)
        XCTAssertThrowsError(try Checkpoint.loadModel(foreign)) { e in XCTAssertTrue("\(e)".contains("not an AGGAN checkpoint"), "\(e)") }
        // A weights-only file loads as a model but cannot resume training.
        let weights = dir.appendingPathComponent("weights.safetensors").path
        try Safetensors.write(Checkpoint.weightsFile(trainer.model), to: weights)
        let (model, config, _) = try Checkpoint.loadModel(weights)
        XCTAssertNil(config)
        XCTAssertEqual([model.channels, model.ngf, model.blocks, model.ndf], [1, 4, 1, 4])
        XCTAssertThrowsError(try Checkpoint.resume(weights)) { e in XCTAssertTrue("\(e)".contains("weights only"), "\(e)") }
        // A tensor of the wrong shape.
        var bad = Checkpoint.weightsFile(trainer.model)
        let wrong = dir.appendingPathComponent("wrong.safetensors").path
        bad.tensors["gen_ts.res0.conv2.weight"] = .init([Float](repeating: 0, count: 16 * 16 * 9), shape: [16, 16, 9, 1])
        try Safetensors.write(bad, to: wrong)
        XCTAssertThrowsError(try Checkpoint.loadModel(wrong)) { e in
            XCTAssertTrue("\(e)".contains("gen_ts.res0.conv2.weight") && "\(e)".contains("[16, 16, 9, 1]"), "\(e)")
        }
    }

    func testScheduleFollowsTheSpec() throws {
        var c = Config()
        c.epochs = 100; c.iterationsPerEpoch = 10
        XCTAssertEqual(c.switchEpoch, 30)
        XCTAssertEqual(c.stage(ofStep: 299), 1)
        XCTAssertEqual(c.stage(ofStep: 300), 2)
        XCTAssertEqual(c.learningRate(epoch: 49), c.learningRate)
        XCTAssertEqual(c.learningRate(epoch: 50), c.learningRate)
        XCTAssertEqual(c.learningRate(epoch: 99), 0)
        XCTAssertEqual(c.learningRate(epoch: 74), c.learningRate * 25 / 49, accuracy: 1e-9)
        c.baseline = true
        XCTAssertEqual(c.stage(ofStep: 900), 1)
    }

    func testPoolBehaviour() throws {
        var pool = ImagePool(capacity: 2)
        var rng = SplitMix64(seed: 1)
        let a = try Tensor(shape: [1], data: [1]), b = try Tensor(shape: [1], data: [2])
        XCTAssertEqual(pool.query(a, a, rng: &rng).fake.data, [1])
        XCTAssertEqual(pool.query(b, b, rng: &rng).fake.data, [2])
        var returnedOld = 0
        for i in 0..<200 {
            let x = try Tensor(shape: [1], data: [Float(10 + i)])
            if pool.query(x, x, rng: &rng).fake.data != [Float(10 + i)] { returnedOld += 1 }
            XCTAssertEqual(pool.items.count, 2)
        }
        XCTAssertEqual(Double(returnedOld) / 200, 0.5, accuracy: 0.1)
    }

    /// The CycleGAN baseline: attention is 1 everywhere, so the composite is the generator output.
    func testBaselineComposesWithAttentionOne() throws {
        var c = tinyConfig()
        c.baseline = true
        let trainer = try Trainer(config: c)
        let (s, _) = try pair(0, channels: 1)
        let r = try Tensor.withoutGrad { try trainer.model.translate(s, .st) }
        XCTAssertEqual(r.attention.data, [Float](repeating: 1, count: 32 * 32))
        XCTAssertEqual(r.composite.data, r.generated.data)
    }
}

/// Weights-only files, as `aggan export` writes them.
final class WeightsFileTests: XCTestCase {
    func testAnExportedBaselineLoadsWithItsAttentionFixedToOne() throws {
        let model = AGGANModel(channels: 1, ngf: 4, blocks: 1, ndf: 4)
        model.initialize(seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for baseline in [false, true] {
            let path = dir.appendingPathComponent("w-\(baseline).safetensors").path
            try Safetensors.write(Checkpoint.weightsFile(model, metadata: ["format": "aggan-weights", "baseline": "\(baseline)"]),
                                  to: path)
            let (loaded, config, _) = try Checkpoint.loadModel(path)
            XCTAssertNil(config)
            XCTAssertEqual(loaded.attentionIsOne, baseline)
        }
    }

    /// An export keeps what the outputs depend on beyond the tensors: the attention's
    /// norm eps rebuilds the same attention, and the image scale comes back.
    func testAnExportKeepsTheScaleAndTheAttentionNormEps() throws {
        var c = Config()
        c.channels = 1; c.ngf = 4; c.blocks = 1; c.ndf = 4; c.scale = 0.5; c.attentionNormEpsilon = 0.01
        let trainer = try Trainer(config: c)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("w.safetensors").path
        try Safetensors.write(Checkpoint.weightsFile(trainer.model, metadata: Checkpoint.weightsMetadata(trainer.model, config: c)),
                              to: path)
        let (loaded, config, file) = try Checkpoint.loadModel(path)
        XCTAssertNil(config)
        XCTAssertEqual(Checkpoint.scale(config: config, file: file), 0.5)
        let x = try Tensor(shape: [1, 1, 16, 16], data: (0..<256).map { Float($0 % 7) / 7 - 0.5 })
        XCTAssertEqual(try Tensor.withoutGrad { try loaded.attS(x).data }, try Tensor.withoutGrad { try trainer.model.attS(x).data })
    }
}


/// NaN and infinity: a step that would train on them is refused before it changes
/// anything, and no checkpoint holds them.
final class NonFiniteTests: XCTestCase {
    func state(_ t: Trainer) -> [[Float]] {
        t.model.namedParameters.map(\.tensor.data) + t.optG.m + t.optG.v + t.optD.m + t.optD.v
            + [t.optG.steps.map(Float.init) + t.optD.steps.map(Float.init), [Float(t.step)]]
    }

    func testANaNInputIsRefusedBeforeTheUpdate() throws {
        let trainer = try Trainer(config: tinyConfig())
        let (s, t) = try pair(0, channels: 1)
        try trainer.step(s, t)
        let before = state(trainer)
        let (s2, t2) = try pair(1, channels: 1)
        var bad = s2.data
        bad[17] = .nan
        let poisoned = try Tensor(shape: s2.shape, data: bad)
        XCTAssertThrowsError(try trainer.step(poisoned, t2)) { error in
            let e = error as? NonFiniteStep
            XCTAssertEqual(e.map { [String($0.step), $0.quantity, $0.name] }, ["2", "loss", "adv_st"])
            XCTAssertTrue(e?.value.isNaN ?? false)
            XCTAssertEqual("\(error)", "non-finite loss at step 2: adv_st = nan")
        }
        XCTAssertTrue(state(trainer) == before, "a refused step changed the weights, moments or counts")
        XCTAssertTrue(trainer.model.namedParameters.allSatisfy { $0.tensor.grad == nil })
        // The trainer goes on from where it was with a good pair.
        XCTAssertNoThrow(try trainer.step(s2, t2))
        XCTAssertEqual(trainer.step, 2)
    }

    func testANonFiniteGradientIsNamed() throws {
        let trainer = try Trainer(config: tinyConfig())
        let (name, p) = trainer.optD.parameters[3]
        p.grad = [Float](repeating: 0, count: p.count)
        p.grad![p.count - 1] = -.infinity
        trainer.model.namedParameters[0].tensor.grad = [Float](repeating: 0, count: trainer.model.namedParameters[0].tensor.count)
        XCTAssertThrowsError(try trainer.refuseNonFinite(losses: ["d_s": 0.5, "d_t": 0.25], gradients: trainer.optD)) { error in
            XCTAssertEqual(error as? NonFiniteStep, NonFiniteStep(step: 1, quantity: "gradient", name: name, value: -.infinity))
        }
        XCTAssertTrue(trainer.model.namedParameters.allSatisfy { $0.tensor.grad == nil }, "every gradient is cleared")
        XCTAssertNoThrow(try trainer.refuseNonFinite(losses: ["d_s": 0.5], gradients: trainer.optD))
    }

    func testFirstNonFiniteFindsEveryKindAnywhere() {
        XCTAssertNil(Adam.firstNonFinite([]))
        XCTAssertNil(Adam.firstNonFinite([0, -0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e-40]))
        for n in [1, 7, 8, 33, 1000] {
            for i in Set([0, n / 2, n - 1]) {
                for v: Float in [.nan, .infinity, -.infinity, -.nan, Float(bitPattern: 0x7FC0_0001)] {
                    var a = [Float](repeating: 1, count: n)
                    a[i] = v
                    XCTAssertEqual(Adam.firstNonFinite(a), i, "\(v) at \(i) of \(n)")
                }
            }
        }
    }

    func testACheckpointWithNonFiniteWeightsIsNeverWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aggan-nan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(config: tinyConfig())
        let path = dir.appendingPathComponent("k.safetensors").path
        let (name, p) = trainer.model.namedParameters[5]
        p.data[0] = .nan
        XCTAssertThrowsError(try Checkpoint.save(trainer, to: path)) { error in
            XCTAssertEqual("\(error)", "cannot write checkpoint '\(path)': tensor '\(name)' holds nan")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no temporary file either")
    }
}
