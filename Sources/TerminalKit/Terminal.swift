// What an application needs of a full-screen terminal, so that an app loop can be
// driven in tests by a fake one. `NCursesTerminal` is the real backend.

/// Something the terminal reported.
public enum TerminalEvent: Sendable, Equatable {
    case key(Key)
    /// The terminal changed size (`size` is already the new one).
    case resize
}

/// Why the terminal could not be opened.
public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// What `Terminal.wait` saw.
public enum TerminalWait: Sendable, Equatable {
    /// Input, a wake-up or the timeout: read the events and go on.
    case ready
    /// The terminal went away (hang-up or error on its input).
    case hangUp
}

/// A full-screen terminal: size, colours, events and frames.
public protocol Terminal: AnyObject {
    /// The colours cells are drawn with.
    var depth: ColorDepth { get }
    var size: Size { get }
    /// Waits up to `timeoutMilliseconds` for input or for a byte on `wakeFD`.
    func wait(timeoutMilliseconds: Int32, wakeFD: Int32) -> TerminalWait
    /// The keys and resizes since the last call (never waits).
    func readEvents() -> [TerminalEvent]
    /// Draws `canvas` at the top left.
    func blit(_ canvas: Canvas)
    /// Puts the terminal back as it was; safe to call more than once.
    func restore()
}
