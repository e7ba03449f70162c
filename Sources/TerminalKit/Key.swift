// Keys as a terminal reports them, before any meaning is given to them.

/// A key as an application sees it (the backend turns ncurses key codes into these).
public enum Key: Hashable, Sendable {
    case character(Character)
    case left, right, up, down, home, end, pageUp, pageDown
    case escape, enter, tab, backspace

    /// How the key is written on screen and in the README: `space`, `←`, `End`, `q`.
    public var display: String {
        switch self {
        case let .character(c):
            switch c {
            case " ": return "space"
            default: return String(c)
            }
        case .left: return "←"
        case .right: return "→"
        case .up: return "↑"
        case .down: return "↓"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .escape: return "Esc"
        case .enter: return "Enter"
        case .tab: return "Tab"
        case .backspace: return "Backspace"
        }
    }
}

extension Key {
    /// The key for a character code as ncurses' `get_wch` reports it (not a function
    /// key): 27 Esc, 9 Tab, 10 or 13 Enter, 8 or 127 Backspace, any other printable
    /// character as itself; `nil` for other control codes and invalid scalars. Function
    /// keys (arrows, End) are mapped by the backend, which knows the `KEY_` codes.
    public init?(characterCode code: UInt32) {
        switch code {
        case 27: self = .escape
        case 9: self = .tab
        case 10, 13: self = .enter
        case 8, 127: self = .backspace
        case 0..<32: return nil
        default:
            guard let scalar = Unicode.Scalar(code) else { return nil }
            self = .character(Character(scalar))
        }
    }
}
