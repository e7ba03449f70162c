import AGGAN
import XCTest
import TrainingEngine
@testable import Dashboard
import TerminalKit
import TestSupport

/// The whole dashboard as golden text frames, from a synthetic snapshot.
final class DashboardTests: XCTestCase {
    let live = SyntheticSnapshot.make(step: 1284, state: .running, sequence: 100)

    func frame(_ snapshot: TrainingSnapshot?, _ width: Int, _ height: Int, view: ViewState = ViewState(),
               history: [TrainingSnapshot] = [], theme: Theme = testTheme, colors: ColorDepth = .truecolor) -> Canvas {
        Dashboard.render(snapshot, view: view, history: history, size: Size(width: width, height: height),
                         theme: theme, colors: colors)
    }

    func testDashboardAt80x24() {
        assertFrame(frame(live, 80, 24), """
            ╭ aggan · nuclei ────── stage 2 · epoch 13/20 · step 1284 · 31.2 it/s RUNNING ─╮
            │ Losses  EMA 0.6 · log · by step            │ Attention A→B   tau 0.10 · soft │
            │   6.03┤⠉⠓⠒⠲⠤⢤⣀⣀⣀⡀ ┊  ┆stage 2 ┊   ┊ckpt    │                                 │
            │       │⣀       ⠈⠉⠉⠉⠙⠛⠒⠒⠒⠒⠲⠶⠶⠶⠶⠤⠤⠤⠤⠤⠤⠤      │              :-==:.             │
            │  0.568┤⠛⠛⠓⠲⠶⣶⣶⣶⠶⠶⠶⠦⠤⠤⠤⠤⠤⠤⢤⢤⣤⣤⣤⣤⣤⣤⣤⡤⣤⣤      │             .-*%#=.             │
            │       │      ⠈⠉⠉⠛⠓⠶⠶⣤⣤⣤⣀⣀⣀⣀⣀⣀⣀┊   ┊        │              .---:              │
            │ 0.0536┤           ┊  ⠈⠉⠉⠉⠉⠛⠙⠛⠛⠛⠛⠿⠿⠿⠿⠶      │                     ....        │
            │ ━ g_total 1.43  ━ cyc_s 0.0841             │                    :=**+:.      │
            │ ━ cyc_t 0.0659  ━ adv_st 0.486             │        ..::.       :=**+:.      │
            │ ━ adv_ts 0.564                             │      .:-+*+=:.      ....        │
            │   0.3┤⣀⣀⣀⢀⣀⣀⡀⣀⣀⡀⣀⣀⣀⣀⣀⣀⢀⣀⡀⣀⣀⣀⡀⣀⣀⢀⣀⣀⣀⢀⡀      │      .-+#%%*-:                  │
            │      │⣾⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⠿⠿⠿⠿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡿⡷      │       :-=++=:.                  │
            │  0.19┤⠁⠿⣿⣿⣿⣿⣿⣿⣿⣿⠿⠿⠿⠿⠛⠛⠛⠟⠛⠻⠿⠿⢿⣿⣿⣿⣿⣿⣿⣿⠟      │        .....                    │
            │                  500        1000      1500 │                                 │
            │ ━ d_s 0.217  ━ d_t 0.209                   │ 25.6% > tau      0 ·.:-=+*#%@ 1 │
            ├ Preview A→B · sample 1/4 ──────────────────┴───────────┬─────────────────────┤
            │ input         attention     generated     composite    │ bg drift 0.12/255   │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ > tau    25.6%      │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ ckpt     step 1200  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ lr       1.6e-4     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ preview  step 1280  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ A→B a_003.png       │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ saved checkpoint s… │
            ╰─ space pause  n step  +/- tau  t mode  s save  ? help  q quit ───────────────╯
            """)
    }

    func testDashboardAt160x50() {
        assertFrame(frame(live, 160, 50), """
            ╭ aggan · nuclei ────────────────────────────────── stage 2 · epoch 13/20 · step 1284 · 31.2 it/s · ETA 23s · lr 1.6e-4 · tau 0.10 · soft · ckpt 1200 RUNNING ─╮
            │ Losses  EMA 0.6 · log · by step                                                                        │ Attention A→B                       tau 0.10 · soft │
            │   6.03┤⠉⠓⠒⠦⠤⣀⣀⡀                       ┊      ┆stage 2                 ┊           ┊ckpt                │                                                     │
            │       │      ⠈⠉⠙⠒⠲⠦⢤⣀⣀⣀⡀⡀             ┊      ┆                        ┊           ┊                    │                         ....                        │
            │       │             ⠈⠈⠈⠉⠉⠓⠒⠶⠴⠤⣠⣀⣀⣀⣀  ⡀┊      ┆                        ┊           ┊                    │                      ..::--:::.                     │
            │       │                        ⠈⠈⠉⠉⠉⠙⠓⠒⠖⠶⠦⠤⡤⣤⣠⣄⣠⣀⣀⣀⡀⡀⣀⡀⢀⡀⡀⡀   ⢀       ┊           ┊                    │                     .:-=+*++==:..                   │
            │   1.49┤                               ┊      ┆⠈⠈⠉⠉⠉⠉⠉⠉⠋⠉⠛⠛⠚⠛⠟⠒⠺⠒⠲⠶⠲⠲⠶⠶⠖⠦⠶⡴⠤⡶⠴⠴⢤⢤⢦⢤⢤⣤⢤⡤⣤⣤⠄              │                    .:-=*#%%%*+=:.                   │
            │       │⢄⡀                             ┊      ┆                        ┊  ⠁ ⠁   ⠈ ⠈┊⠁  ⠃                │                    .:-=*#%%%*+=:.                   │
            │       │⣹⣺⣻⣶⣤⣤⣀⣀⣀⣀⣀⣀⣀⢀⣀  ⡀             ┊      ┆                        ┊           ┊                    │                     .:-=+***+=-:.                   │
            │  0.568┤⠁⠉⠉⠉⠉⠉⠙⠛⠛⠿⠿⣟⣛⡛⠛⠿⠾⠿⠶⠶⠶⠶⠶⠶⢶⢶⣶⣶⣴⣶⣶⣤⣤⣦⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣄⣠⣠⣤⣠⣤⣤⣀⣤⣤⣄⣤⣤⣄⣠⣤⣤⣀⣤⣤⣀⣠⣤⣀⣠⣤⣄⣠⣤⣄⣀⡀              │                      ..::---::..                    │
            │       │           ⠈⠉⠉⠛⠲⢶⢤⣄⣀⣀⣀    ⠈  ⠈⠉⠉⠉⠉⠁⠉⠁⠉⠁⠉⠈⠉⠈⠁⠉⠈⠉⠉⠉⠉⠘⠋⠋⠋⠛⠙⠛⠙⠛⠛⠙⠋⠛⠋⠛⠙⠋⠛⠋⠛⠙⠛⠛⠋⠛⠙⠛⠙⠋⠛⠙⠃              │                         ....                        │
            │       │                 ⠈⠉⠉⠋⠛⠷⣶⣦⣤⣄⣀⢀⣀⣀┊      ┆                        ┊           ┊                    │                                     ...::...        │
            │       │                        ⠁⠉⠉⠛⠻⠻⢿⣷⣶⣤⣄⣤⣀⣀⡀⣀⣀                      ┊           ┊                    │                                   ..:-====-:..      │
            │  0.158┤                              ⠈⠈⠈⠉⠛⠋⠏⠟⡿⣿⣿⣷⣶⣶⣦⣤⣤⣄⣀⣀⡀⣀⣤⣀⢀⣀⣀  ⡀   ┊           ┊                    │                                  .:-=+*###+=-:.     │
            │       │                               ┊      ┆⠉⠁⠉⠈⠙⠘⠙⠙⠿⠛⠟⡿⡿⡿⡿⣷⣶⣶⣦⣶⣶⣦⣤⣤⣤⣤⣠⣤⣠⣠⣠⣠⣀⡀⡀⡀⡀⡀⣀⡀⣀⢀⡀              │                                  .:-+*#%%%*+-:.     │
            │       │                               ┊      ┆        ⠈⠈ ⠋⠁⠋⠁⠁⠁⠙⠈⠘⠙⠙⠉⠹⠻⠏⠟⠿⠟⡿⡿⡟⡿⢷⣿⣿⣿⣿⢿⣿⣿⣾⡇              │          ..........              .:-=+*###+=-:.     │
            │ 0.0536┤                               ┊      ┆                       ⠈⠈ ⠋⠉⠉⠛⠛⠋⠻⠟⠛⠻⠈⠿⠈⣿⠉⠻⠇              │       ...::------::...            ..:-====-:..      │
            │ ━ g_total 1.43  ━ cyc_s 0.0841  ━ cyc_t 0.0659  ━ adv_st 0.486  ━ adv_ts 0.564                         │      ..:--=++**++=-::..             ...::...        │
            │   0.3┤⢰ ⣸⢠⡆⡆⡄⡆⢠⡆⣴⢸⢠⢸ ⣦⣠⡄⡇⡀⡇⣴⢠⣤⢰ ⣼⢠⡆⡆⡄⡆⢰⡆⣶⣸⣀⣸⣀⣦⣰⣄⣇⣠⣧⣴⣠⣦⢰ ⣸⣰⡆⣰⡄⡆⢰⡆⣦ ⣇⢸⢀⣆⢰⡄⣼⢀⡇⣴ ⣦⢰⡆⣰⢰⡆⢸⡀⡇⢰⡄               │      .::=++######++-::.                             │
            │      │⣿⣿⣿⣿⣷⣧⣷⣿⣼⣷⣿⣸⣿⣾⣿⣿⣿⣧⣿⣿⣷⣿⣼⣿⣾⣿⣿⣾⣿⣿⣿⣿⣾⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣷⣿⣿⣿⣿⣷⣿⣿⣿⣿⣼⣿⣿⣾⣿⣾⣧⣿⣿⣧⣿⡇⣿⣾⣷⣿⣸⣧⣼⣷⣷⣿⣷               │     ..:-=+*%%%%%#*+=-:..                            │
            │      │⣷⣠⣶⣰⣦⡆⣤⣆⢰⣆⣶⣴⣦⣴⣠⣶⣴⣦⣆⣤⣆⣴⣠⣦⣴⣠⣶⣰⣦⣦⣤⣦⣴⣆⣶⣴⣦⣴⣤⣶⣰⣤⣦⣤⣆⣶⣀⣦⣴⣠⣶⣰⣦⣴⣤⣆⣴⣆⣶⣄⣦⣴⣠⣴⣰⣤⣴⣴⣆⣶⡄⣦⣤⣦⣶⣰⣦⣴⣤⣆⣴⣆               │     ..::=++##%%##++-::..                            │
            │      │⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿               │      ..:-==+****+==-:..                             │
            │ 0.232┤⣿⣿⣿⢿⢿⣿⣿⣿⣿⡿⡿⣿⣿⣿⣿⣿⣿⢿⣿⣿⣿⣿⡿⣿⣿⣿⣿⣿⣿⢻⠿⠿⠿⠿⠿⠟⠟⠛⠻⠿⠃⠻⢿⣿⣿⣿⡿⡿⡿⣿⣿⣿⣿⢿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⢿⢿⢿               │       ..::---==---::..                              │
            │      │⡏⠉⠉⠈⠈⠉⠉⠉⠉⠁⠁⠉⠉⠉⠉⠉⠈⠈⠉⠈⠁⠁⠁⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡟⡿⣿⣿⣿⣿⡿⣿⣿⠈⠉⠉⠉⠈⠈⠈⠉⠉⠉⠁⠁⠁⠉⠉⠉⠉⠈⠈⠈⠉⠉⠉⠁⠁⠁⠉⠉⠁⣿⣿⣿⣿               │         ....::::....                                │
            │      │⣿⣿⣿⢿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡿⡟⡟⣿⣿⣿⣿⢹⢻⠸⡿⠿⠟⠇⠃⠇⠹⠹⠘⢸ ⡟⠋⠏⡏⡟⡟⢻⢻⢿⢿⣿⢿⢿⣿⣿⣿⣿⡿⡿⣿⣿⣿⣿⣿⣿⢿⣿⣿⣿⣿⣿⡟⣿⣿⣿               │                                                     │
            │  0.19┤⠁⠁⠃⠘⠘⠹⠹⠹⠹⠁⡏⡏⡏⡏⡏⡏⢹⢻⢻⢻⢸⢸⠘⠟⠟⠏⠇⠃⠃⠙⠉⠉⠈     ┆             ⠁ ⠈⠈⠘⠘⠘ ⠋⠏⠏⠟⠇⠇⠻⢻⢿⢿⢿⢸⠸⠿⠿⠿⠿⠇⠇⠟⠟⠛               │                                                     │
            │                  200          400          600          800         1000         1200         1400     │                                                     │
            │ ━ d_s 0.217  ━ d_t 0.209                                                                               │ 25.6% > tau                          0 ·.:-=+*#%@ 1 │
            ├ Preview · sample 1/4 ──────────────────────────────────────────────────────────────────────────────────┴────────────────────┬────────────────────────────────┤
            │ A→B input                      attention                      generated                      composite                      │ A→B a_003.png                  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ bg drift 0.12/255              │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ > tau    25.6%                 │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ ckpt     step 1200             │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ lr       1.6e-4                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ preview  step 1280             │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ B→A input                      attention                      generated                      composite                      │ B→A b_001.png                  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ bg drift 0.13/255              │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ > tau    25.6%                 │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀             │ saved checkpoint step-0000120… │
            ╰─ space pause  n step  +/- tau  t mode  a ascii/colour  [/] sample  d dir  ←/→ history  End live  </> smooth  l log  s save  T theme  ? help  q quit ─────────╯
            """)
    }

    func testHelpOverlay() {
        var v = ViewState()
        v.helpShown = true
        assertFrame(frame(live, 80, 24, view: v), """
            ╭ aggan ╭ keys ────────────────────────────────────────────────────────╮NNING ─╮
            │ Losses│ space  pause or resume training                              │· soft │
            │   6.03│ n      run one training step (while paused)                  │       │
            │       │ + =    raise tau, the attention threshold                    │       │
            │  0.568│ - _    lower tau                                             │       │
            │       │ t      threshold mode: soft, zero below tau, binary 1[A>tau] │       │
            │ 0.0536│ a      attention as ASCII or colour heat map                 │       │
            │ ━ g_to│ [      previous preview sample                               │.      │
            │ ━ cyc_│ ]      next preview sample                                   │.      │
            │ ━ adv_│ d      swap direction A→B / B→A                              │       │
            │   0.3┤│ ←      back through the snapshot history                     │       │
            │      ││ →      forward through the snapshot history                  │       │
            │  0.19┤│ End G  back to the live snapshot                             │       │
            │       │ < ,    less smoothing of the loss curves                     │       │
            │ ━ d_s │ > .    more smoothing of the loss curves                     │*#%@ 1 │
            ├ Previe│ l      log scale for the losses on or off                    │───────┤
            │ input │ x      loss x axis in steps or epochs                        │/255   │
            │ ▀▀▀▀▀▀│ s      save a checkpoint now                                 │%      │
            │ ▀▀▀▀▀▀│ T      next colour theme                                     │ 1200  │
            │ ▀▀▀▀▀▀│ ? h    show or hide this help                                │-4     │
            │ ▀▀▀▀▀▀│ q      quit (asks to save if the last checkpoint is old)     │ 1280  │
            │ ▀▀▀▀▀▀│                                                              │       │
            │ ▀▀▀▀▀▀│                                     any key closes this help │int s… │
            ╰─ space╰──────────────────────────────────────────────────────────────╯───────╯
            """)
    }

    func testTooSmall() {
        let c = frame(live, 79, 24)
        let lines = c.lines()
        XCTAssertEqual(lines[10], "            terminal 79x24 is too small: aggan needs at least 80x24")
        XCTAssertEqual(lines[12], "                                    q quits")
        XCTAssertEqual(lines.filter { !$0.isEmpty }.count, 2)
        XCTAssertTrue(frame(live, 80, 23).text().contains("terminal 80x23 is too small: aggan needs at least 80x24"))
    }

    func testQuitPrompt() {
        var v = ViewState()
        v.quitPrompt = true
        let text = frame(live, 80, 24, view: v).text()
        XCTAssertTrue(text.contains("save before quitting? (y/n/c)"), text)
        XCTAssertTrue(text.contains("last checkpoint: step 1200 · now step 1284"), text)
        XCTAssertTrue(text.contains("y save and quit · n quit without saving · c cancel"), text)
        v.quitPrompt = false
        v.stopping = true
        let stopping = frame(live, 80, 24, view: v)
        XCTAssertTrue(stopping.lines()[0].contains("STOPPING"))
        XCTAssertTrue(stopping.text().contains("stopping: finishing the step and saving…"))
    }

    func testHistoryIsLabelledAndMarked() {
        let history = (0..<5).map { SyntheticSnapshot.make(step: 800 + 100 * $0, sequence: 95 + $0) }
        var v = ViewState()
        v.scrubbedSequence = 98  // step 1100, the 4th of 5
        let c = frame(live, 80, 24, view: v, history: history + [live])
        let lines = c.lines()
        XCTAssertTrue(lines[0].contains("HISTORY step 1100 (4/5)"), lines[0])
        XCTAssertTrue(lines[0].contains("step 1284"), "the header keeps the live step: \(lines[0])")
        XCTAssertTrue(lines.contains { $0.contains("step 1100, history") }, "the preview says where it is from")
        // The loss chart marks the step shown with a cursor in hi_fg.
        let cursor = c.cells.contains { $0.character == "│" && $0.fg == testTheme[.hiFg] }
        XCTAssertTrue(cursor)
        // Live again: no label.
        XCTAssertFalse(frame(live, 80, 24, view: ViewState(), history: history + [live]).lines()[0].contains("HISTORY"))
    }

    func testStateBadges() {
        let running = frame(live, 80, 24)
        let r = running.lines()[0]
        let x = r.distance(from: r.startIndex, to: r.range(of: "RUNNING")!.lowerBound)
        XCTAssertEqual(running[x, 0].fg, testTheme[.statusRunning])
        XCTAssertTrue(running[x, 0].attributes.contains(.bold))
        let paused = frame(SyntheticSnapshot.make(step: 1284, state: .paused), 80, 24)
        XCTAssertTrue(paused.lines()[0].contains("PAUSED"))
        XCTAssertFalse(paused.lines()[0].contains("it/s"), "no speed while paused")
        XCTAssertTrue(frame(SyntheticSnapshot.make(step: 2000, state: .finished), 80, 24).lines()[0].contains("FINISHED"))
        let failed = SyntheticSnapshot.make(step: 10, state: .failed, message: "training failed at step 11: nan loss")
        let f = frame(failed, 80, 24)
        XCTAssertTrue(f.lines()[0].contains("FAILED"))
        XCTAssertTrue(f.text().contains("training failed at"))
    }

    /// A step refused for a NaN: a red banner across the header with the step and the
    /// term, the badge says HALTED.
    func testAFaultIsARedBannerInTheHeader() {
        let fault = "non-finite loss at step 1285: cyc_s = nan; the update was not applied"
        let f = frame(SyntheticSnapshot.make(step: 1284, state: .paused, message: fault, fault: fault), 120, 30)
        let top = f.lines()[0]
        XCTAssertTrue(top.contains("HALTED"), top)
        let r = try! XCTUnwrap(top.range(of: "non-finite loss at step 1285: cyc_s = nan"), top)
        let x = top.distance(from: top.startIndex, to: r.lowerBound)
        XCTAssertEqual(f[x, 0].bg, testTheme[.warningFg])
        XCTAssertTrue(f[x, 0].attributes.contains(.bold))
        XCTAssertFalse(top.contains("it/s"), "the status fields give way to the banner")
    }

    func testAttentionFollowsTheThresholdMode() {
        func mapCells(_ c: Canvas) -> [Character] {
            let l = DashboardLayout(size: c.size)
            let r = l.attention
            var out: [Character] = []
            for y in (r.y + 1)..<(r.maxY - 1) { for x in r.x..<r.maxX { out.append(c[x, y].character) } }
            return out
        }
        let soft = mapCells(frame(live, 80, 24))
        XCTAssertTrue(soft.contains("@") || soft.contains("%"), "the ramp reaches high values")
        XCTAssertTrue(soft.contains("."))
        let binary = frame(SyntheticSnapshot.make(step: 1284, tau: 0.3, mode: .binary), 80, 24)
        XCTAssertEqual(Set(mapCells(binary)), ["#", " "], "binary: the mask 1[A > tau] only")
        XCTAssertTrue(binary.lines()[1].contains("tau 0.30 · binary"))
        let zero = frame(SyntheticSnapshot.make(step: 1284, tau: 0.3, mode: .zeroBelow), 80, 24)
        XCTAssertTrue(zero.lines()[1].contains("tau 0.30 · zero<tau"), zero.lines()[1])
        XCTAssertTrue(zero.text().contains("A·1[A>tau]"), "the preview names the attention it shows")
        var colour = ViewState()
        colour.attentionRendering = .halfBlock
        XCTAssertEqual(Set(mapCells(frame(live, 80, 24, view: colour))).subtracting([" "]), ["▀"])
        let percent = String(format: "%.1f%% > tau", live.previews[0].ab.fractionAboveTau * 100)
        XCTAssertTrue(frame(live, 80, 24).lines()[14].contains(percent))
    }

    func testSampleAndDirection() {
        var v = ViewState()
        v.sampleIndex = 2
        v.direction = .ts
        let c = frame(live, 80, 24, view: v)
        XCTAssertTrue(c.lines()[1].contains("Attention B→A"), c.lines()[1])
        XCTAssertTrue(c.text().contains("Preview B→A · sample 3/4"))
        XCTAssertTrue(c.text().contains(live.previews[2].nameB))
        v.sampleIndex = 9  // clamped to the last sample
        XCTAssertTrue(frame(live, 80, 24, view: v).text().contains("sample 4/4"))
    }

    func testBeforeTheFirstSnapshot() {
        let c = frame(nil, 80, 24)
        XCTAssertTrue(c.lines()[0].contains("STARTING"))
        XCTAssertTrue(c.text().contains("waiting for the first step…"))
    }

    func testFewColoursDrawImagesInASCII() {
        XCTAssertTrue(frame(live, 80, 24, colors: .ansi256).cells.contains { $0.character == "▀" })
        var colour = ViewState()
        colour.attentionRendering = .halfBlock
        for depth in [ColorDepth.ansi16, .none] {
            let c = frame(live, 80, 24, colors: depth)
            let l = DashboardLayout(size: c.size)
            let images = l.images
            var drawn: Set<Character> = []
            for y in images.y..<images.maxY { for x in images.x..<images.maxX { drawn.insert(c[x, y].character) } }
            XCTAssertFalse(drawn.contains("▀"), "\(depth)")
            XCTAssertTrue(drawn.contains("@") || drawn.contains("%") || drawn.contains("#"), "\(depth): the ramp")
            XCTAssertEqual(c[40, 10].bg, .default, "\(depth): the terminal's own background")
        }
        // The colour heat map stays available with 16 colours, not without colour.
        XCTAssertTrue(frame(live, 80, 24, view: colour, colors: .ansi16).cells.contains { $0.character == "▀" })
        XCTAssertFalse(frame(live, 80, 24, view: colour, colors: .none).cells.contains { $0.character == "▀" })
    }

    func testEpochAxisAndSettings() {
        var v = ViewState()
        v.xAxis = .epoch
        v.logScale = false
        v.smoothing = 0
        let c = frame(live, 160, 50, view: v)
        XCTAssertTrue(c.lines()[1].contains("Losses  raw · by epoch"), c.lines()[1])
        XCTAssertTrue(c.text().contains("epoch"))
        XCTAssertFalse(c.cells.contains { $0.attributes.contains(.dim) && $0.character != " " },
                       "no faint raw curve without smoothing")
    }

    func testEverySizeKeepsTheFrame() {
        for w in [80, 81, 99, 119, 120, 139, 140, 160, 200, 221] {
            for h in [24, 25, 39, 40, 50, 60, 71] {
                let c = frame(live, w, h)
                let lines = c.lines()
                XCTAssertEqual(lines.count, h)
                XCTAssertEqual(c[0, 0].character, "╭", "\(w)x\(h)")
                XCTAssertEqual(c[w - 1, 0].character, "╮", "\(w)x\(h)")
                XCTAssertEqual(c[0, h - 1].character, "╰", "\(w)x\(h)")
                XCTAssertEqual(c[w - 1, h - 1].character, "╯", "\(w)x\(h)")
                XCTAssertTrue(lines[0].contains("step 1284"), "\(w)x\(h): \(lines[0])")
                XCTAssertTrue(lines[0].contains("RUNNING"), "\(w)x\(h)")
                XCTAssertTrue(lines[h - 1].contains("q quit"), "\(w)x\(h)")
                XCTAssertTrue(lines[1].contains("tau 0.10"), "\(w)x\(h): \(lines[1])")
                for line in lines { XCTAssertEqual(columnWidth(line), w, "\(w)x\(h)") }
            }
        }
    }

    func testThemesChangeTheColours() {
        let light = Theme.builtin(named: "light")!
        let c = frame(live, 80, 24, theme: light)
        XCTAssertEqual(c[40, 10].bg, light[.mainBg])
        XCTAssertEqual(frame(live, 80, 24)[40, 10].bg, testTheme[.mainBg])
    }

    func testLongHistoriesAreThinnedButKeepTheirExtremes() {
        let ys = (0..<100_000).map { i -> Double in i == 77_777 ? 50 : i == 12_345 ? -3 : sin(Double(i) / 500) }
        let keep = Dashboard.thinnedIndices(ys, buckets: 400)
        XCTAssertLessThanOrEqual(keep.count, 1600)
        XCTAssertEqual(keep.first, 0)
        XCTAssertEqual(keep.last, 99_999)
        XCTAssertTrue(keep.contains(77_777))
        XCTAssertTrue(keep.contains(12_345))
        XCTAssertEqual(keep, keep.sorted())
        // A long run still draws, and fast.
        let long = SyntheticSnapshot.make(step: 20_000, samples: 2)
        let start = Date()
        let c = frame(long, 200, 60)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0)
        XCTAssertTrue(c.lines()[0].contains("step 20000"))
    }
}
