import Basics
import Foundation
import NeuralNet
import Tensor

/// Checkpoints: safetensors files with the spec's tensor names (PyTorch layouts), plus,
/// for training checkpoints, the Adam moments (`optim.g.<name>.m|v`, `optim.d.<name>.m|v`),
/// the pools (`pool.st.<i>.fake|mask`, `pool.ts.<i>.fake|mask`), the attention average
/// while stage 1 keeps one (`average.<name>`, `Config.attentionAverage`) and metadata: `format`
/// ("aggan"), `format_version`, `config` (JSON), `step`, `epoch`, `rng`, `adam_steps`
/// (JSON), `tau`, and whatever the caller adds (the data sampler's state). A weights-only
/// file (the reference's `export`, or any `safetensors.torch.save_file` of a spec model)
/// loads too: the architecture follows from the tensor shapes.
public enum Checkpoint {
    public static let format = "aggan"
    public static let formatVersion = "1"

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let path: String, reason: String
        public var description: String { "cannot load checkpoint '\(path)': \(reason)" }
    }

    /// A checkpoint that was not written because what it would hold is unsafe.
    public struct Refused: Error, CustomStringConvertible, Equatable {
        public let path: String, reason: String
        public var description: String { "cannot write checkpoint '\(path)': \(reason)" }
    }

    /// Writes the model, optimiser state, pools and random state; atomically. A model or
    /// optimiser state holding a NaN or an infinity is refused: such a file is never written.
    public static func save(_ trainer: Trainer, to path: String, extra: [String: String] = [:]) throws {
        var file = weightsFile(trainer.model)
        for (prefix, opt) in [("optim.g", trainer.optG), ("optim.d", trainer.optD)] {
            for (name, shape, values) in opt.stateTensors(prefix: prefix) { file.tensors[name] = .init(values, shape: shape) }
        }
        for (prefix, pool) in [("pool.st", trainer.poolST), ("pool.ts", trainer.poolTS)] {
            for (i, item) in pool.items.enumerated() {
                file.tensors["\(prefix).\(i).fake"] = .init(item.fake.data, shape: item.fake.shape)
                file.tensors["\(prefix).\(i).mask"] = .init(item.mask.data, shape: item.mask.shape)
            }
        }
        if let average = trainer.attentionAverage {
            for ((name, t), a) in zip(trainer.model.attentionParameters, average) { file.tensors["average.\(name)"] = .init(a, shape: t.shape) }
        }
        for (name, tensor) in file.tensors.sorted(by: { $0.key < $1.key }) {
            if let values = tensor.floats, let i = Adam.firstNonFinite(values) {
                throw Refused(path: path, reason: "tensor '\(name)' holds \(values[i])")
            }
        }
        // Sorted keys: the same state gives the same file, byte for byte.
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys
        let config = String(decoding: try json.encode(trainer.config), as: UTF8.self)
        let steps = String(decoding: try json.encode(["g": trainer.optG.steps, "d": trainer.optD.steps]), as: UTF8.self)
        file.metadata = extra.merging([
            "format": format, "format_version": formatVersion, "config": config,
            "step": String(trainer.step), "epoch": String(trainer.epoch), "rng": String(trainer.rng.state),
            "adam_steps": steps, "tau": String(trainer.tau),
            "pool_sizes": "\(trainer.poolST.items.count),\(trainer.poolTS.items.count)",
        ]) { _, ours in ours }
        try Safetensors.write(file, to: path)
    }

    /// The model's parameters under their spec names.
    public static func weightsFile(_ model: AGGANModel, metadata: [String: String] = [:]) -> Safetensors.File {
        var file = Safetensors.File(metadata: metadata)
        for (name, t) in model.namedParameters { file.tensors[name] = .init(t.data, shape: t.shape) }
        return file
    }

    /// Loads the six networks from any checkpoint (training or weights-only). Every model
    /// name must be present as F32 with the shape the architecture implies.
    public static func loadModel(_ path: String) throws -> (model: AGGANModel, config: Config?, file: Safetensors.File) {
        let file: Safetensors.File
        do { file = try Safetensors.read(path) } catch let e as Safetensors.Failure { throw Failure(path: path, reason: e.reason) }
        return try loadModel(file, path: path)
    }

    /// `loadModel` of a file already read (`path` is what errors name).
    static func loadModel(_ file: Safetensors.File, path: String) throws -> (model: AGGANModel, config: Config?, file: Safetensors.File) {
        func fail(_ r: String) -> Failure { Failure(path: path, reason: r) }
        var config: Config?
        if file.metadata["format"] == format {
            guard file.metadata["format_version"] == formatVersion else {
                throw fail("format version \(file.metadata["format_version"] ?? "none") is not supported (this aggan reads \(formatVersion))")
            }
            guard let json = file.metadata["config"], let c = try? JSONDecoder().decode(Config.self, from: Data(json.utf8)) else {
                throw fail("its metadata has no readable config")
            }
            do { try c.validate() } catch { throw fail("its config is invalid: \(error)") }
            config = c
        }
        // The architecture from the shapes.
        guard let enc1 = file.tensors["gen_st.enc1.conv.weight"], enc1.shape.count == 4,
              let c1 = file.tensors["disc_s.c1.conv.weight"], c1.shape.count == 4 else {
            throw fail("not an AGGAN checkpoint (no gen_st.enc1.conv.weight or disc_s.c1.conv.weight)")
        }
        let channels = enc1.shape[1], ngf = enc1.shape[0], ndf = c1.shape[0]
        var blocks = 0
        while file.tensors["gen_st.res\(blocks).conv1.weight"] != nil { blocks += 1 }
        guard channels == 1 || channels == 3, ngf >= 1, ndf >= 1 else {
            throw fail("unsupported architecture: \(channels) channels, ngf \(ngf), ndf \(ndf)")
        }
        if let c = config, (c.channels, c.ngf, c.blocks, c.ndf) != (channels, ngf, blocks, ndf) {
            throw fail("config (c \(c.channels), ngf \(c.ngf), blocks \(c.blocks), ndf \(c.ndf)) disagrees with the tensors (c \(channels), ngf \(ngf), blocks \(blocks), ndf \(ndf))")
        }
        let model = AGGANModel(channels: channels, ngf: ngf, blocks: blocks, ndf: ndf,
                               attentionNormEpsilon: config?.attentionNormEpsilon
                                   ?? Float(file.metadata["attention_norm_eps"] ?? "") ?? 1e-5)
        try fill(model.namedParameters, from: file, fail: fail)
        // A weights-only file from `aggan export` says whether it is the CycleGAN baseline.
        model.attentionIsOne = config?.baseline ?? (file.metadata["baseline"] == "true")
        return (model, config, file)
    }

    /// The metadata of a weights-only file (`aggan export`): the architecture, and what
    /// `loadModel` and `scale(config:file:)` need beyond the tensors to give the same
    /// outputs (baseline, image scale, the attention's norm eps).
    public static func weightsMetadata(_ model: AGGANModel, config: Config?) -> [String: String] {
        var meta = ["format": "aggan-weights", "channels": "\(model.channels)", "ngf": "\(model.ngf)",
                    "blocks": "\(model.blocks)", "ndf": "\(model.ndf)"]
        if let config {
            meta["baseline"] = "\(config.baseline)"
            meta["scale"] = "\(config.scale)"
            meta["attention_norm_eps"] = "\(config.attentionNormEpsilon)"
        }
        return meta
    }

    /// The image scale a model file asks for (`Config.scale`): its config's, or a
    /// weights-only file's `scale` metadata; 1 when neither says.
    public static func scale(config: Config?, file: Safetensors.File) -> Double {
        config?.scale ?? Double(file.metadata["scale"] ?? "") ?? 1
    }

    static func fill(_ params: [(name: String, tensor: Tensor)], from file: Safetensors.File, fail: (String) -> Failure) throws {
        var missing: [String] = []
        for (name, t) in params {
            guard let e = file.tensors[name] else { missing.append(name); continue }
            guard e.dtype == .f32, e.shape == t.shape, let v = e.floats else {
                throw fail("tensor '\(name)' is \(e.dtype.rawValue) \(e.shape), expected F32 \(t.shape)")
            }
            t.data = v
        }
        if !missing.isEmpty {
            throw fail("\(missing.count) tensor(s) missing, e.g. \(missing.prefix(3).joined(separator: ", "))")
        }
    }

    /// Restores a training checkpoint: model, optimiser moments and steps, pools, random
    /// state and step. Returns the trainer and the file's metadata (for the caller's extras).
    public static func resume(_ path: String) throws -> (trainer: Trainer, metadata: [String: String]) {
        try resume(loadModel(path), path: path)
    }

    /// `resume` of a checkpoint's bytes, as if read from `path` (what errors name): the
    /// fuzz tests decode their mutants without writing them.
    public static func resume(data: Data, path: String) throws -> (trainer: Trainer, metadata: [String: String]) {
        let file: Safetensors.File
        do { file = try Safetensors.parse(data, path: path) } catch let e as Safetensors.Failure { throw Failure(path: path, reason: e.reason) }
        return try resume(loadModel(file, path: path), path: path)
    }

    static func resume(_ loaded: (model: AGGANModel, config: Config?, file: Safetensors.File), path: String)
        throws -> (trainer: Trainer, metadata: [String: String]) {
        let (model, config, file) = loaded
        func fail(_ r: String) -> Failure { Failure(path: path, reason: r) }
        guard let config else { throw fail("it holds weights only (no training state), so training cannot resume from it") }
        let trainer = try Trainer(config: config, model: model)
        let meta = file.metadata
        guard let step = meta["step"].flatMap(Int.init), step >= 0, let rng = meta["rng"].flatMap(UInt64.init),
              let tau = meta["tau"].flatMap(Float.init),
              let stepsJSON = meta["adam_steps"], let steps = try? JSONDecoder().decode([String: [Int]].self, from: Data(stepsJSON.utf8)),
              let sizes = meta["pool_sizes"]?.split(separator: ",").compactMap({ Int($0) }), sizes.count == 2 else {
            throw fail("its training metadata (step, rng, tau, adam_steps, pool_sizes) is missing or malformed")
        }
        for (prefix, opt, key) in [("optim.g", trainer.optG, "g"), ("optim.d", trainer.optD, "d")] {
            var m: [[Float]] = [], v: [[Float]] = []
            for (name, t) in opt.parameters {
                guard let em = file.tensors["\(prefix).\(name).m"]?.floats, let ev = file.tensors["\(prefix).\(name).v"]?.floats,
                      em.count == t.count, ev.count == t.count else { throw fail("optimiser state for '\(name)' is missing or has the wrong size") }
                m.append(em); v.append(ev)
            }
            guard let s = steps[key], s.count == opt.parameters.count else { throw fail("adam_steps does not match the parameters") }
            try opt.restore(m: m, v: v, steps: s)
        }
        for (k, prefix) in ["pool.st", "pool.ts"].enumerated() {
            var items: [(fake: Tensor, mask: Tensor)] = []
            for i in 0..<sizes[k] {
                guard let f = file.tensors["\(prefix).\(i).fake"], let mk = file.tensors["\(prefix).\(i).mask"],
                      let fv = f.floats, let mv = mk.floats,
                      let ft = try? Tensor(shape: f.shape, data: fv), let mt = try? Tensor(shape: mk.shape, data: mv) else {
                    throw fail("pool entry \(prefix).\(i) is missing or malformed")
                }
                items.append((ft, mt))
            }
            if k == 0 { trainer.poolST.items = items } else { trainer.poolTS.items = items }
        }
        if Trainer.keepsAttentionAverage(config, afterSteps: step) {
            trainer.attentionAverage = try model.attentionParameters.map { p in
                guard let a = file.tensors["average.\(p.name)"]?.floats, a.count == p.tensor.count else {
                    throw fail("the attention average for '\(p.name)' is missing or has the wrong size")
                }
                return a
            }
        } else {
            trainer.attentionAverage = nil
        }
        trainer.rng = SplitMix64(seed: rng)
        trainer.step = step
        trainer.tau = tau
        model.setStage(trainer.stage, freezeAttention: config.freezeAttention)
        return (trainer, meta)
    }
}
