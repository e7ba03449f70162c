import ArgumentParser
import Dashboard
import Foundation
import TerminalKit
import TrainingEngine

/// The dashboard on run folders, read-only.
struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Look at finished or running runs in the dashboard, read-only.",
        discussion: """
            The first run's curves and health, and one point per checkpoint and preview strip \
            (previews/step-*.png): ← and → scrub through them, a checkpoint's previews \
            recomputed from its networks on the strips' sample images. With several runs, the loss charts overlay their \
            g_total and (d_s + d_t) / 2, one colour and legend entry per run. A run that another \
            process is training is read again as its files grow. q quits; nothing is written.
            """)

    @Argument(help: "Run folders (as made by `aggan train`).") var runs: [String]
    @Option(help: "Dashboard theme: a name in themes/ or a theme file.") var theme: String = "default"
    @Option(help: "Colours (default: detected).") var color: ColorDepth?
    @Option(help: "Preview images: auto (detected; half-blocks inside tmux), kitty, sixel or blocks.")
    var graphics: GraphicsMode = .auto

    func run() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run folder") }
        let viewer: RunViewer
        do { viewer = try RunViewer(runs.map { RunDirectory($0) }) } catch {
            throw ValidationError("\(error)")
        }
        let environment = ProcessInfo.processInfo.environment
        let term = environment["TERM"] ?? ""
        guard isatty(STDOUT_FILENO) != 0, !term.isEmpty, term != "dumb" else {
            throw ValidationError("aggan view needs a terminal (TERM='\(term)')")
        }
        let (themes, index) = try dashboardThemes(chosen: theme, environment: environment)
        let depth = color ?? ColorDepth.detect(environment: environment)
        _ = try DashboardApp.run(engine: viewer, options: DashboardOptions(themes: themes, themeIndex: index,
                                                                             colorDepth: depth, graphics: graphics))
    }
}
