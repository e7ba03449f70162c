import XCTest
@testable import Dashboard
import TerminalKit
import TestSupport

final class KeyTableTests: XCTestCase {
    func testEveryKeyDispatchesToItsAction() {
        var seen: Set<Key> = []
        for b in KeyTable.bindings {
            XCTAssertFalse(b.keys.isEmpty)
            for k in b.keys {
                XCTAssertTrue(seen.insert(k).inserted, "\(k.display) is bound twice")
                XCTAssertEqual(KeyTable.action(for: k), b.action, k.display)
            }
        }
        XCTAssertNil(KeyTable.action(for: .character("u")))
        XCTAssertNil(KeyTable.action(for: .up))
    }

    func testCharacterCodes() {
        XCTAssertEqual(Key(characterCode: 32), .character(" "))
        XCTAssertEqual(Key(characterCode: 0x71), .character("q"))
        XCTAssertEqual(Key(characterCode: 27), .escape)
        XCTAssertEqual(Key(characterCode: 13), .enter)
        XCTAssertEqual(Key(characterCode: 127), .backspace)
        XCTAssertNil(Key(characterCode: 3), "Ctrl-C is a signal, not a key")
        XCTAssertNil(Key(characterCode: 0xD800), "not a scalar")
        XCTAssertEqual(Key(characterCode: 32).flatMap(KeyTable.action(for:)), .pauseResume)
    }

    func testEveryActionHasExactlyOneBinding() {
        for a in KeyAction.allCases {
            XCTAssertEqual(KeyTable.bindings.filter { $0.action == a }.count, 1, a.rawValue)
        }
    }

    func testDefaultsFromTheIssue() {
        let expected: [(Key, KeyAction)] = [
            (.character(" "), .pauseResume), (.character("n"), .stepOnce), (.character("+"), .tauUp),
            (.character("-"), .tauDown), (.character("t"), .cycleThresholdMode), (.character("["), .previousSample),
            (.character("]"), .nextSample), (.character("d"), .swapDirection),
            (.character("a"), .toggleAttentionRendering), (.left, .scrubBack), (.right, .scrubForward),
            (.end, .returnToLive), (.character("l"), .toggleLogScale), (.character("s"), .save),
            (.character("T"), .nextTheme), (.character("?"), .help), (.character("q"), .quit),
            (.character("<"), .smoothingDown), (.character(">"), .smoothingUp),
        ]
        for (key, action) in expected { XCTAssertEqual(KeyTable.action(for: key), action, key.display) }
    }

    func testFooterFitsAndKeepsHelpAndQuit() {
        XCTAssertEqual(KeyTable.footer(width: 200),
                       "space pause  n step  +/- tau  t mode  a attention  z zoom  c stretch  [/] sample  d dir  "
                       + "←/→ history  End live  </> smooth  l log  s save  T theme  ? help  q quit")
        XCTAssertEqual(KeyTable.footer(width: 80),
                       "space pause  n step  +/- tau  t mode  z zoom  s save  ? help  q quit")
        XCTAssertEqual(KeyTable.footer(width: 16), "? help  q quit")
        for w in 0...200 { XCTAssertLessThanOrEqual(columnWidth(KeyTable.footer(width: w)), w) }
        let c = render(30, 1) { KeyTable.drawFooter(theme: testTheme, into: &$0, in: $1) }
        assertFrame(c, "space pause  ? help  q quit")
        XCTAssertEqual(c[0, 0].fg, testTheme[.hiFg])
        XCTAssertEqual(c[6, 0].fg, testTheme[.mainFg])
    }

    func testHelpOverlay() {
        var c = Canvas(width: 80, height: 24)
        c.fill(c.bounds, with: "~")
        KeyTable.drawHelp(theme: testTheme, into: &c)
        assertFrame(c, """
            ~~~~~╭ keys ──────────────────────────────────────────────────────────────╮~~~~~
            ~~~~~│ space  pause or resume training                                    │~~~~~
            ~~~~~│ n      run one training step (while paused)                        │~~~~~
            ~~~~~│ + =    raise tau, the attention threshold                          │~~~~~
            ~~~~~│ - _    lower tau                                                   │~~~~~
            ~~~~~│ t      threshold mode: soft, zero below tau, binary 1[A>tau]       │~~~~~
            ~~~~~│ a      attention panel: ASCII map, colour map, health over time    │~~~~~
            ~~~~~│ z      zoom a preview: input, attention, generated, composite, off │~~~~~
            ~~~~~│ c      display stretch (auto-contrast) of the previews on or off   │~~~~~
            ~~~~~│ [      previous preview sample                                     │~~~~~
            ~~~~~│ ]      next preview sample                                         │~~~~~
            ~~~~~│ d      swap direction A→B / B→A                                    │~~~~~
            ~~~~~│ ←      back through the snapshot history                           │~~~~~
            ~~~~~│ →      forward through the snapshot history                        │~~~~~
            ~~~~~│ End G  back to the live snapshot                                   │~~~~~
            ~~~~~│ < ,    less smoothing of the loss curves                           │~~~~~
            ~~~~~│ > .    more smoothing of the loss curves                           │~~~~~
            ~~~~~│ l      log scale for the losses on or off                          │~~~~~
            ~~~~~│ x      loss x axis in steps or epochs                              │~~~~~
            ~~~~~│ s      save a checkpoint now                                       │~~~~~
            ~~~~~│ T      next colour theme                                           │~~~~~
            ~~~~~│ ? h    show or hide this help                                      │~~~~~
            ~~~~~│ q      quit (asks to save if the last checkpoint is old)           │~~~~~
            ~~~~~╰───────────────────────────────────────── any key closes this help ─╯~~~~~
            """)
    }

    func testHelpOverlayMovesItsClosingLineOntoTheBorderWhenShort() {
        var c = Canvas(width: 80, height: KeyTable.bindings.count + 2)
        KeyTable.drawHelp(theme: testTheme, into: &c)
        let lines = c.lines()
        XCTAssertTrue(lines.last!.hasPrefix("     ╰"), lines.last!)
        XCTAssertTrue(lines.last!.contains(" any key closes this help ─╯"), lines.last!)
        XCTAssertTrue(lines[lines.count - 2].contains("q      quit"), "every binding still listed")
    }

    func testHelpOverlayOnASmallCanvasIsCut() {
        var c = Canvas(width: 40, height: 8)
        KeyTable.drawHelp(theme: testTheme, into: &c)
        assertFrame(c, """
            ╭ keys ────────────────────────────────╮
            │ space  pause or resume training      │
            │ n      run one training step (while p│
            │ + =    raise tau, the attention thres│
            │ - _    lower tau                     │
            │ t      threshold mode: soft, zero bel│
            │ …                                    │
            ╰──────────────────────────────────────╯
            """)
    }

    func testMarkdownListsEveryBinding() {
        let md = KeyTable.markdown()
        let lines = md.split(separator: "\n")
        XCTAssertEqual(lines.count, KeyTable.bindings.count + 2)
        XCTAssertEqual(lines[0], "| key | action |")
        XCTAssertEqual(lines[2], "| `space` | pause or resume training |")
        XCTAssertEqual(lines[3 + 1], "| `+` `=` | raise tau, the attention threshold |")
        XCTAssertEqual(lines.last, "| `q` | quit (asks to save if the last checkpoint is old) |")
    }
}
