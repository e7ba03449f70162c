// Themes: files in themes/ in the btop theme grammar.
import Foundation

/// The colours a theme sets. The raw values are the keys of a theme file.
public enum ThemeKey: String, CaseIterable, Sendable {
    case mainBg = "main_bg"
    case mainFg = "main_fg"
    case title
    case hiFg = "hi_fg"
    case selectedBg = "selected_bg"
    case selectedFg = "selected_fg"
    case inactiveFg = "inactive_fg"
    case graphText = "graph_text"
    case divLine = "div_line"
    case lossBox = "loss_box"
    case attentionBox = "attention_box"
    case previewBox = "preview_box"
    case graph1 = "graph_1"
    case graph2 = "graph_2"
    case graph3 = "graph_3"
    case graph4 = "graph_4"
    case graph5 = "graph_5"
    case graph6 = "graph_6"
    case graph7 = "graph_7"
    case graph8 = "graph_8"
    case markerStage = "marker_stage"
    case markerCheckpoint = "marker_checkpoint"
    case heatStart = "heat_start"
    case heatMid = "heat_mid"
    case heatEnd = "heat_end"
    case statusRunning = "status_running"
    case statusPaused = "status_paused"
    case warningFg = "warning_fg"

    /// The series colours, in order.
    public static let graphs: [ThemeKey] = [.graph1, .graph2, .graph3, .graph4,
                                            .graph5, .graph6, .graph7, .graph8]
}

/// A named set of colours.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var colors: [ThemeKey: Color]

    public init(name: String, colors: [ThemeKey: Color]) {
        self.name = name
        self.colors = colors
    }

    /// The colour for `key` (`.default` when the theme does not set it).
    public subscript(key: ThemeKey) -> Color { colors[key] ?? .default }

    /// Text in the colour of `key` on whatever background is there.
    public func style(_ key: ThemeKey, _ attributes: TextAttributes = []) -> Style {
        Style(fg: self[key], bg: nil, attributes: attributes)
    }

    /// The colour of series number `index` (cycling through `graph_1`...`graph_8`).
    public func seriesColor(_ index: Int) -> Color {
        let keys = ThemeKey.graphs
        return self[keys[((index % keys.count) + keys.count) % keys.count]]
    }

    /// The heat-map gradient at `t` in 0...1: `heat_start` -> `heat_mid` -> `heat_end`.
    public func heat(_ t: Double) -> Color { heatGradient(t) }

    /// The heat-map gradient with its three colours looked up once, for drawing many cells.
    public var heatGradient: HeatGradient {
        HeatGradient(start: self[.heatStart], mid: self[.heatMid], end: self[.heatEnd])
    }

    /// The dark default theme (`themes/default.theme`, built in).
    public static let `default`: Theme = {
        Theme.parse(BuiltinThemes.sources["default"] ?? "", name: "default",
                    base: Theme(name: "", colors: [:])).theme
    }()

    /// The names of the built-in themes, in cycling order.
    public static let builtinNames: [String] = ["default", "light", "mono"]

    /// A built-in theme by name.
    public static func builtin(named name: String) -> Theme? {
        guard let source = BuiltinThemes.sources[name] else { return nil }
        return parse(source, name: name).theme
    }

    /// Parses a theme file. Never fails: a malformed line is skipped with a warning that
    /// names its line; an unknown key is skipped and listed in `ignoredKeys`; a key the
    /// file does not set keeps its colour in `base`.
    public static func parse(_ text: String, name: String, base: Theme = .default) -> ThemeParseResult {
        var colors = base.colors
        var warnings: [ThemeWarning] = []
        var ignored: [String] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            switch parseLine(line) {
            case let .failure(message):
                warnings.append(ThemeWarning(line: lineNumber, message: message))
            case let .success((key, value)):
                guard let themeKey = ThemeKey(rawValue: key) else {
                    ignored.append(key)
                    continue
                }
                if let color = parseColor(value) {
                    colors[themeKey] = color
                } else {
                    warnings.append(ThemeWarning(
                        line: lineNumber,
                        message: "\(key): cannot read colour \"\(value)\" "
                            + "(want \"#RRGGBB\", \"#GG\", \"R G B\" or \"\")"))
                }
            }
        }
        return ThemeParseResult(theme: Theme(name: name, colors: colors), warnings: warnings,
                                ignoredKeys: ignored)
    }

    private enum LineResult {
        case success((String, String))
        case failure(String)
    }

    /// `theme[key]="value"`, `key="value"` or `key=value`, with an optional trailing comment.
    private static func parseLine(_ line: String) -> LineResult {
        guard let eq = line.firstIndex(of: "=") else {
            return .failure("expected theme[key]=\"value\", found \"\(truncated(line, to: 40))\"")
        }
        var key = line[..<eq].trimmingCharacters(in: .whitespaces)
        if key.hasPrefix("theme[") {
            guard key.hasSuffix("]") else { return .failure("missing ']' after theme[\(key.dropFirst(6))") }
            key = String(key.dropFirst(6).dropLast())
        }
        let keyIsWord = !key.isEmpty && key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        guard keyIsWord else { return .failure("malformed key \"\(truncated(key, to: 40))\"") }
        let rest = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("\"") {
            let body = rest.dropFirst()
            guard let close = body.firstIndex(of: "\"") else {
                return .failure("\(key): missing closing quote")
            }
            let after = body[body.index(after: close)...].trimmingCharacters(in: .whitespaces)
            guard after.isEmpty || after.hasPrefix("#") else {
                return .failure("\(key): unexpected text after the value: \"\(truncated(after, to: 40))\"")
            }
            return .success((key, String(body[..<close])))
        }
        // Unquoted: the value runs to the first blank.
        let value = rest.prefix { !$0.isWhitespace }
        let after = rest.dropFirst(value.count).trimmingCharacters(in: .whitespaces)
        guard after.isEmpty || after.hasPrefix("#") else {
            return .failure("\(key): unexpected text after the value: \"\(truncated(after, to: 40))\"")
        }
        return .success((key, String(value)))
    }

    /// A colour value: `""` (terminal default), `#RRGGBB`, `#GG` (grey level) or
    /// `R G B` in decimal 0...255.
    public static func parseColor(_ value: String) -> Color? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if v.isEmpty { return .default }
        if v.hasPrefix("#") {
            let hex = Array(v.dropFirst())
            func byte(_ i: Int) -> UInt8? { UInt8(String(hex[i..<(i + 2)]), radix: 16) }
            if hex.count == 6, let r = byte(0), let g = byte(2), let b = byte(4) { return .rgb(r, g, b) }
            if hex.count == 2, let l = byte(0) { return .grey(l) }
            return nil
        }
        let parts = v.split(separator: " ")
        if parts.count == 3, let r = UInt8(parts[0]), let g = UInt8(parts[1]), let b = UInt8(parts[2]) {
            return .rgb(r, g, b)
        }
        return nil
    }

    /// Loads a theme given as a name (`light`) or a path (`my/dark.theme`).
    ///
    /// A word without `/` and without the `.theme` suffix is a name: `NAME.theme` is looked
    /// for in each of `searchDirectories` in order, then among the built-in themes. A file
    /// found wins over the built-in theme of the same name.
    public static func load(_ nameOrPath: String, searchDirectories: [String]) throws -> ThemeParseResult {
        let isPath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme")
        if isPath {
            let name = ((nameOrPath as NSString).lastPathComponent as NSString).deletingPathExtension
            return parse(try readFile(nameOrPath), name: name)
        }
        for dir in searchDirectories {
            let path = (dir as NSString).appendingPathComponent(nameOrPath + ".theme")
            if FileManager.default.fileExists(atPath: path) {
                return parse(try readFile(path), name: nameOrPath)
            }
        }
        if let source = BuiltinThemes.sources[nameOrPath] {
            return parse(source, name: nameOrPath)
        }
        throw ThemeError.notFound(name: nameOrPath, searched: searchDirectories,
                                  available: availableNames(searchDirectories: searchDirectories))
    }

    /// The theme names found in `searchDirectories` and built in, without repeats:
    /// built-in names first, in their order, then the others sorted.
    public static func availableNames(searchDirectories: [String]) -> [String] {
        var names = builtinNames
        var found: Set<String> = []
        for dir in searchDirectories {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for entry in entries where entry.hasSuffix(".theme") {
                found.insert(String(entry.dropLast(".theme".count)))
            }
        }
        names += found.subtracting(names).sorted()
        return names
    }

    private static func readFile(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw ThemeError.unreadable(path: path, reason: "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ThemeError.unreadable(path: path, reason: "permission denied or not a file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ThemeError.unreadable(path: path, reason: "not UTF-8 text")
        }
        return text
    }
}

/// `heat_start` -> `heat_mid` -> `heat_end` as a function of 0...1.
public struct HeatGradient: Sendable, Equatable {
    public var start: Color, mid: Color, end: Color

    public func callAsFunction(_ t: Double) -> Color {
        let t = t.isNaN ? 0 : min(max(t, 0), 1)
        if t <= 0.5 { return start.mixed(with: mid, t * 2) }
        return mid.mixed(with: end, (t - 0.5) * 2)
    }
}

/// A line of a theme file that was skipped, and why.
public struct ThemeWarning: Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// A parsed theme with what was skipped.
public struct ThemeParseResult: Equatable, Sendable {
    public var theme: Theme
    public var warnings: [ThemeWarning]
    /// Keys the file set that aggan does not know (ignored, like btop does).
    public var ignoredKeys: [String]
}

/// Why a theme could not be loaded.
public enum ThemeError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notFound(name: String, searched: [String], available: [String])

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read theme '\(path)': \(reason)"
        case let .notFound(name, searched, available):
            let looked = searched.isEmpty ? "" : " in " + searched.map { "'\($0)'" }.joined(separator: ", ") + " or"
            return "no theme named '\(name)' (looked\(looked) among the built-in themes; "
                + "available: \(available.joined(separator: ", ")))"
        }
    }
}
