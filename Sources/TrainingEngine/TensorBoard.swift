import AGGAN
import Basics
import Foundation
import Imaging

/// Writes a run's progress as TensorBoard events into `tb/`: every logged step's loss
/// terms, learning rate, attention statistics and discriminator outputs, the speed at
/// each snapshot, the preview strip as an image every `imageEvery` steps and the
/// histograms of the networks' weights when the snapshots carry them. Each
/// training session (a new run or a resume) starts a new events file that begins after
/// `after`, so TensorBoard shows one curve per tag across sessions.
public final class TensorBoardRecorder: TrainingObserver, @unchecked Sendable {
    private let dir: RunDirectory
    private let imageEvery: Int
    private var written: Int
    private var speedWritten: Int
    private var imageWritten: Int
    private var histogramsWritten: Int
    private var writer: EventFileWriter?
    public private(set) var error: String?

    /// `after`: the last step already recorded (0 for a new run).
    public init(_ dir: RunDirectory, after step: Int = 0, imageEvery: Int) {
        self.dir = dir
        self.imageEvery = max(1, imageEvery)
        written = step
        speedWritten = step
        imageWritten = step
        histogramsWritten = step
    }

    public func didPublish(_ snapshot: TrainingSnapshot) {
        guard error == nil else { return }
        var events = snapshot.history.points(after: written).map { Self.event($0, config: snapshot.config) }
        let now = Date().timeIntervalSince1970
        let speed = snapshot.step > speedWritten && snapshot.iterationsPerSecond > 0
        if speed {
            events.append(Event(wallTime: now, step: snapshot.step,
                                values: [.scalar(tag: "speed/iterations_per_second", value: Float(snapshot.iterationsPerSecond))]))
        }
        var image: Event?
        if PreviewRecorder.isDue(snapshot, every: imageEvery, lastWritten: imageWritten) {
            do {
                let strip = try PreviewRecorder.strip(snapshot.previews)
                image = Event(wallTime: now, step: snapshot.previewStep, values: [Self.image(strip, png: try strip.pngData())])
            } catch {
                self.error = "cannot encode the preview image for TensorBoard: \(error)"
            }
        }
        if let image { events.append(image) }
        let weights = snapshot.weightHistograms.flatMap { $0.step > histogramsWritten ? $0 : nil }
        if let weights {
            events.append(Event(wallTime: now, step: weights.step,
                                values: weights.networks.map { .histogram(tag: "weights/" + $0.name, $0.histogram) }))
        }
        guard !events.isEmpty else { return }
        do {
            if writer == nil { writer = try EventFileWriter(folder: dir.tensorBoardDir) }
            try writer?.write(events)
            written = max(written, snapshot.history.last?.step ?? written)
            if speed { speedWritten = snapshot.step }
            if image != nil { imageWritten = snapshot.previewStep }
            if let weights { histogramsWritten = weights.step }
        } catch {
            self.error = "cannot write TensorBoard events in '\(dir.tensorBoardDir)': \(error)"
        }
    }

    /// The scalars of one logged step, stamped now (the wall time is not logged).
    public static func event(_ p: LossPoint, config: Config, wallTime: Double = Date().timeIntervalSince1970) -> Event {
        let epoch = config.epoch(ofStep: p.step - 1)
        var values: [SummaryValue] = p.losses.terms.map { .scalar(tag: "loss/" + $0.rawValue, value: $1) }
        values.append(.scalar(tag: "train/learning_rate", value: config.learningRate(epoch: epoch)))
        values += (p.attention?.fields ?? []).map { .scalar(tag: "attention/" + $0, value: $1) }
        values += (p.discriminator?.fields ?? []).map { .scalar(tag: "discriminator/" + $0, value: $1) }
        return Event(wallTime: wallTime, step: p.step, values: values)
    }

    /// A preview strip as a TensorBoard image (`previews`).
    public static func image(_ strip: Image, png: [UInt8]) -> SummaryValue {
        .image(tag: "previews", width: strip.width, height: strip.height, channels: strip.channels, png: png)
    }

    /// On resume: removes from the run's events files every event after `step` (a killed
    /// run may have recorded steps after its last checkpoint) and a last record cut short,
    /// so that the new session's file continues the curves without repeating a step.
    /// Files are replaced atomically; a file that is not a readable events file is left
    /// as it is and named in the returned warnings.
    public static func truncate(_ dir: RunDirectory, after step: Int) -> [String] {
        var warnings: [String] = []
        for path in eventFiles(dir) {
            guard let data = FileManager.default.contents(atPath: path) else { warnings.append("cannot read '\(path)'"); continue }
            let bytes = Array(data)
            do {
                let (records, complete) = try TFRecord.records(bytes, name: path)
                var kept: [UInt8] = []
                var dropped = complete < bytes.count
                for r in records {
                    guard let e = Event(decoding: r) else { throw EngineError("'\(path)': a record is not an Event") }
                    if e.step > step { dropped = true; continue }
                    kept += TFRecord.frame(r)
                }
                if dropped { try AtomicFile.write(kept, to: path) }
            } catch {
                warnings.append("\(error) (left as it is)")
            }
        }
        return warnings
    }

    /// The run's events files, by name.
    public static func eventFiles(_ dir: RunDirectory) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.tensorBoardDir)) ?? []
        return names.filter { $0.hasPrefix("events.out.tfevents.") && !$0.hasPrefix(".") }.sorted()
            .map { dir.tensorBoardDir + "/" + $0 }
    }
}

extension TensorBoardRecorder {
    /// What `export` wrote.
    public struct Export: Sendable {
        public let path: String
        public let steps: Int
        public let images: Int
        /// Files that could not be read, skipped.
        public let problems: [String]
    }

    /// Writes one events file into `tb/` of a run made before runs had them, from its
    /// `metrics.jsonl` and `previews/step-*.png` (the wall time of every event is the time
    /// of the export: the logs do not keep it; there is no speed curve). A folder that
    /// already has events files is refused, so nothing is recorded twice; so is a run that
    /// another process holds.
    public static func export(_ dir: RunDirectory) throws -> Export {
        let record = try RunRecord.load(dir)
        let existing = eventFiles(dir)
        guard existing.isEmpty else {
            throw EngineError("'\(dir.tensorBoardDir)' already holds events (\(existing.count) file(s)); "
                              + "remove them to export again")
        }
        let lock = try dir.open()
        defer { withExtendedLifetime(lock) {} }
        let now = Date().timeIntervalSince1970
        var events = record.history.points.map { event($0, config: record.config, wallTime: now) }
        var problems = record.problems
        var images = 0
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.previewsDir)) ?? []).sorted()
        for name in names where name.hasPrefix("step-") && name.hasSuffix(".png") {
            guard let step = Int(name.dropFirst(5).dropLast(4)) else { continue }
            let path = dir.previewsDir + "/" + name
            guard let data = FileManager.default.contents(atPath: path), let strip = try? Image(pngData: Array(data), name: path) else {
                problems.append("'\(path)': not a readable PNG, skipped")
                continue
            }
            events.append(Event(wallTime: now, step: step, values: [image(strip, png: Array(data))]))
            images += 1
        }
        // Steps in order, as a live run writes them.
        events = events.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
        let writer = try EventFileWriter(folder: dir.tensorBoardDir, wallTime: now)
        try writer.write(events)
        return Export(path: writer.path, steps: record.history.count, images: images, problems: problems)
    }
}
