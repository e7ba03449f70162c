import Basics
import ArgumentParser
import Foundation
import Dashboard
import TerminalKit
import TrainingEngine

/// The interactive dashboard: starts the engine, shows it until it ends, restores the
/// terminal and prints a one-line summary. Returns false when training failed.
///
/// - Parameters:
///   - theme: a theme name (in `themeSearchDirectories` or built in) or a theme file
///     or a path to a theme file; `T` cycles through this one and the others found.
///   - color: the colour depth asked for; nil detects it (`NO_COLOR` respected).
///   - graphics: how preview images are drawn (`auto`: from the environment).
func runDashboard(engine: Engine, theme: String, color: ColorDepth?, graphics: GraphicsMode) throws -> Bool {
    let environment = ProcessInfo.processInfo.environment
    let depth = color ?? ColorDepth.detect(environment: environment)
    let (themes, index) = try dashboardThemes(chosen: theme, environment: environment)
    let term = environment["TERM"] ?? ""
    if term.isEmpty || term == "dumb" {
        warn("TERM='\(term)' cannot show the dashboard; printing progress lines instead")
        return runHeadless(engine)
    }
    let options = DashboardOptions(themes: themes, themeIndex: index, colorDepth: depth, graphics: graphics)
    let result: DashboardResult
    do {
        result = try DashboardApp.run(engine: engine, options: options)
    } catch let error as TerminalError {
        // The terminal could not be opened (the engine has not started): progress lines instead.
        warn("\(error); printing progress lines instead")
        return runHeadless(engine)
    }
    print(DashboardApp.summary(result, runDirectory: engine.options.runDirectory?.path))
    return result.succeeded
}

/// Where theme files are looked for, in order: the share folder beside the binary
/// (`PREFIX/share/aggan/themes` for `PREFIX/bin/aggan`, as `make install` lays it out), the
/// user's config folder, then `themes/` here (a source checkout). A theme given as a path
/// is read from that path.
func themeSearchDirectories(_ environment: [String: String]) -> [String] {
    var dirs: [String] = []
    if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
        dirs.append(exe.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/aggan/themes").standardizedFileURL.path)
    }
    if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
        dirs.append(xdg + "/aggan/themes")
    } else if let home = environment["HOME"], !home.isEmpty {
        dirs.append(home + "/.config/aggan/themes")
    }
    dirs.append("themes")
    return dirs
}

/// The themes `T` cycles through (the chosen one first among them) and the index of the
/// chosen one. Warnings about a theme file go to standard error before the screen opens.
func dashboardThemes(chosen: String, environment: [String: String]) throws -> ([Theme], Int) {
    let dirs = themeSearchDirectories(environment)
    let first: ThemeParseResult
    do { first = try Theme.load(chosen, searchDirectories: dirs) } catch {
        throw ValidationError("--theme: \(error)")
    }
    for w in first.warnings { warn("theme '\(chosen)': \(w)") }
    var themes: [Theme] = []
    var index = 0
    for name in Theme.availableNames(searchDirectories: dirs) {
        if name == first.theme.name {
            index = themes.count
            themes.append(first.theme)
        } else if let t = try? Theme.load(name, searchDirectories: dirs).theme {
            themes.append(t)
        }
    }
    if !themes.contains(where: { $0.name == first.theme.name }) {
        index = themes.count
        themes.append(first.theme)
    }
    return (themes, index)
}
