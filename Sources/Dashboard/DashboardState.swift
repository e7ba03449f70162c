// What the dashboard shows besides the snapshot, and what a key does to it: a pure
// function (key, view state, snapshot) -> (view state, engine commands, quit?).
import TerminalKit
import AGGAN
import TrainingEngine

/// The unit of the loss charts' x axis.
public enum XAxisUnit: String, Sendable, Equatable {
    case step, epoch
}

/// Which preview image fills the lower pane (`z` cycles them, then back to the strips).
public enum ZoomTarget: String, Sendable, Equatable, CaseIterable {
    case input, attention, generated, composite

    /// input -> attention -> generated -> composite -> nil (the strips).
    public var next: ZoomTarget? {
        let all = Self.allCases
        let i = all.firstIndex(of: self)!
        return i + 1 < all.count ? all[i + 1] : nil
    }
}

/// Everything the user chose that is not part of the run: what to look at and how.
public struct ViewState: Sendable, Equatable {
    /// The preview direction: A -> B (`.st`) or B -> A (`.ts`).
    public var direction: Direction = .st
    /// Index into the snapshot's `previews` (clamped when drawn).
    public var sampleIndex = 0
    /// EMA weight of the loss curves (one of `ViewState.smoothingLevels`).
    public var smoothing = 0.6
    /// Log y axes: on by default, as g_total is an order of magnitude above its terms.
    public var logScale = true
    public var xAxis: XAxisUnit = .step
    /// The attention panel: ASCII ramp or colour half-blocks.
    public var attentionRendering: MapRendering = .ascii
    public var helpShown = false
    /// Auto-contrast on percentiles for the preview images (display only).
    public var stretch = true
    /// Looking at finished runs (`aggan view`): nothing can be sent to an engine.
    public var readOnly = false
    /// The preview image drawn large in the lower pane (nil: the strips).
    public var zoom: ZoomTarget?
    /// The attention panel shows the attention's health over time instead of its map
    /// (`a` cycles ASCII map, colour map, health). With room below the map it shows both.
    public var health = false
    /// The snapshot history position, as an offset back from the live snapshot into
    /// `engine.snapshotHistory`: 0 is live. It is kept as the `sequence` of the snapshot
    /// shown (`scrubbedSequence`), so that the picture stays put while training goes on
    /// and the ring buffer moves under it; `scrubOffset(in:)` gives the offset.
    public var scrubbedSequence: Int?
    /// Index into the dashboard's list of themes.
    public var themeIndex = 0
    /// "save before quitting? (y/n/c)" is showing.
    public var quitPrompt = false
    /// A stop was sent; waiting for the engine to end.
    public var stopping = false
    /// Tau and mode asked for but not yet seen in a snapshot (so that quick key presses
    /// add up instead of each starting from a stale snapshot).
    public var requestedTau: Float?
    public var requestedMode: ThresholdMode?

    public init() {}

    /// The smoothing weights `<` and `>` step through.
    public static let smoothingLevels: [Double] = [0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99]
    /// How much `+` and `-` change tau, and its range.
    public static let tauStep: Float = 0.05
    public static let tauRange: ClosedRange<Float> = 0...0.95

    /// True when showing a snapshot from the history rather than the live one.
    public var isScrubbing: Bool { scrubbedSequence != nil }

    /// Offset back from live into `history` (oldest first): 0 when live.
    public func scrubOffset(in history: [TrainingSnapshot]) -> Int {
        guard let i = scrubIndex(in: history) else { return 0 }
        return history.count - i
    }

    /// The index in `history` of the snapshot shown, nil when live. A sequence that has
    /// dropped out of the ring shows the oldest snapshot still there.
    public func scrubIndex(in history: [TrainingSnapshot]) -> Int? {
        guard let seq = scrubbedSequence, !history.isEmpty else { return nil }
        return history.firstIndex { $0.sequence >= seq } ?? history.count - 1
    }

    /// Clears the requests a snapshot has caught up with (or that can no longer be met).
    public func reconciled(with live: TrainingSnapshot?) -> ViewState {
        guard let live else { return self }
        var v = self
        let ended = live.state == .finished || live.state == .stopped || live.state == .failed
        if let t = v.requestedTau, t == live.tau || ended { v.requestedTau = nil }
        if let m = v.requestedMode, m == live.mode || ended { v.requestedMode = nil }
        return v
    }

    /// Tau and mode as the user last asked for them.
    public func effectiveTau(_ live: TrainingSnapshot?) -> Float? { requestedTau ?? live?.tau }
    public func effectiveMode(_ live: TrainingSnapshot?) -> ThresholdMode? { requestedMode ?? live?.mode }
}

/// What a key did.
public struct KeyOutcome: Sendable, Equatable {
    public var view: ViewState
    public var commands: [EngineCommand]
    /// Leave the dashboard once the engine has ended (a stop was sent, or it had ended).
    public var quit: Bool

    public init(view: ViewState, commands: [EngineCommand] = [], quit: Bool = false) {
        self.view = view
        self.commands = commands
        self.quit = quit
    }
}

extension ThresholdMode {
    /// soft -> zero below tau -> binary -> soft.
    public var next: ThresholdMode {
        switch self {
        case .soft: return .zeroBelow
        case .zeroBelow: return .binary
        case .binary: return .soft
        }
    }

    /// How the screen names the mode: `soft`, `zero<tau`, `binary`.
    public var label: String {
        switch self {
        case .soft: return "soft"
        case .zeroBelow: return "zero<tau"
        case .binary: return "binary"
        }
    }
}

extension RunState {
    /// The run has ended: nothing will change any more.
    public var hasEnded: Bool { self == .finished || self == .stopped || self == .failed }
}

extension TrainingSnapshot {
    /// Steps done since the last checkpoint (all of them when there is none).
    public var hasUnsavedSteps: Bool { step > 0 && (lastCheckpointStep ?? -1) < step }
}

public enum DashboardInput {
    /// Applies `key` to `view`, given the live snapshot, the engine's snapshot history
    /// (oldest first) and the number of themes. Pure: the caller sends the commands.
    ///
    /// While the help is shown any key closes it and does nothing else. While the quit
    /// prompt is shown only `y` (save, then quit), `n` (quit without saving) and `c` or
    /// Esc (cancel) count.
    public static func handle(_ key: Key, view: ViewState, snapshot live: TrainingSnapshot?,
                              history: [TrainingSnapshot] = [], themeCount: Int = 1) -> KeyOutcome {
        var v = view
        if v.quitPrompt {
            switch key {
            case .character("y"), .character("Y"):
                v.quitPrompt = false
                v.stopping = true
                return KeyOutcome(view: v, commands: [.stop(save: true)], quit: true)
            case .character("n"), .character("N"):
                v.quitPrompt = false
                v.stopping = true
                return KeyOutcome(view: v, commands: [.stop(save: false)], quit: true)
            case .character("c"), .character("C"), .escape:
                v.quitPrompt = false
                return KeyOutcome(view: v)
            default:
                return KeyOutcome(view: v)
            }
        }
        if v.helpShown {
            v.helpShown = false
            return KeyOutcome(view: v)
        }
        guard let action = KeyTable.action(for: key) else { return KeyOutcome(view: v) }
        let ended = live?.state.hasEnded ?? false
        var commands: [EngineCommand] = []
        switch action {
        case .pauseResume:
            guard let live, !ended, !v.stopping else { break }
            commands = [live.state == .running ? .pause : .resume]
        case .stepOnce:
            guard let live, !ended, !v.stopping else { break }
            // While running, `n` pauses first: the step that follows is then exactly one.
            commands = live.state == .running ? [.pause, .step(1)] : [.step(1)]
        case .tauUp, .tauDown:
            guard let tau = v.effectiveTau(live), !ended else { break }
            let hundredths = Int((Double(tau) * 100).rounded())
            let stepHundredths = Int((Double(ViewState.tauStep) * 100).rounded())
            let next = hundredths + (action == .tauUp ? stepHundredths : -stepHundredths)
            let lo = Int((Double(ViewState.tauRange.lowerBound) * 100).rounded())
            let hi = Int((Double(ViewState.tauRange.upperBound) * 100).rounded())
            let newTau = Float(min(max(next, lo), hi)) / 100
            guard newTau != tau else { break }
            v.requestedTau = newTau
            commands = [.setTau(newTau)]
        case .cycleThresholdMode:
            guard let mode = v.effectiveMode(live), !ended else { break }
            v.requestedMode = mode.next
            commands = [.setMode(mode.next)]
        case .previousSample, .nextSample:
            let n = max(1, live?.previews.count ?? 1)
            let current = min(max(v.sampleIndex, 0), n - 1)
            v.sampleIndex = (current + (action == .nextSample ? 1 : n - 1)) % n
        case .swapDirection:
            v.direction = v.direction == .st ? .ts : .st
        case .toggleAttentionRendering:
            // ASCII map -> colour map -> health -> ASCII map.
            if v.health {
                v.health = false
                v.attentionRendering = .ascii
            } else if v.attentionRendering == .ascii {
                v.attentionRendering = .halfBlock
            } else {
                v.health = true
            }
        case .zoom:
            if let z = v.zoom { v.zoom = z.next } else { v.zoom = .input }
        case .toggleStretch:
            v.stretch.toggle()
        case .scrubBack:
            let timeline = scrubbable(history, live: live)
            guard !timeline.isEmpty else { break }
            if let i = v.scrubIndex(in: timeline) {
                v.scrubbedSequence = timeline[max(0, i - 1)].sequence
            } else {
                v.scrubbedSequence = timeline[timeline.count - 1].sequence
            }
        case .scrubForward:
            let timeline = scrubbable(history, live: live)
            guard v.isScrubbing else { break }
            if let i = v.scrubIndex(in: timeline), i + 1 < timeline.count {
                v.scrubbedSequence = timeline[i + 1].sequence
            } else {
                v.scrubbedSequence = nil
            }
        case .returnToLive:
            v.scrubbedSequence = nil
        case .smoothingDown, .smoothingUp:
            let levels = ViewState.smoothingLevels
            let nearest = levels.indices.min { abs(levels[$0] - v.smoothing) < abs(levels[$1] - v.smoothing) } ?? 0
            let i = action == .smoothingUp ? min(nearest + 1, levels.count - 1) : max(nearest - 1, 0)
            v.smoothing = levels[i]
        case .toggleLogScale:
            v.logScale.toggle()
        case .toggleXAxis:
            v.xAxis = v.xAxis == .step ? .epoch : .step
        case .save:
            guard !ended, !v.stopping else { break }
            commands = [.save]
        case .nextTheme:
            v.themeIndex = (v.themeIndex + 1) % max(1, themeCount)
        case .help:
            v.helpShown = true
        case .quit:
            if v.stopping { break }
            guard let live, !ended else { return KeyOutcome(view: v, quit: true) }
            if live.hasUnsavedSteps {
                v.quitPrompt = true
            } else {
                v.stopping = true
                return KeyOutcome(view: v, commands: [.stop(save: false)], quit: true)
            }
        }
        return KeyOutcome(view: v, commands: commands)
    }

    /// The history entries one can scrub to: all but the live snapshot itself.
    static func scrubbable(_ history: [TrainingSnapshot], live: TrainingSnapshot?) -> [TrainingSnapshot] {
        guard let live else { return history }
        return history.filter { $0.sequence < live.sequence }
    }
}
