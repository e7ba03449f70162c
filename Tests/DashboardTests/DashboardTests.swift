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
            │ input 28–213  attention     generated     composite    │ bg drift 0.12/255   │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ > tau    25.6%      │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ ckpt     step 1200  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ lr       1.6e-4     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ preview  step 1280  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ A→B a_003.png       │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀ │ saved checkpoint s… │
            ╰─ space pause  n step  +/- tau  t mode  z zoom  s save  ? help  q quit ───────╯
            """)
    }

    func testDashboardAt160x50() {
        assertFrame(frame(live, 160, 50), """
            ╭ aggan · nuclei ────────────────────────────────── stage 2 · epoch 13/20 · step 1284 · 31.2 it/s · ETA 23s · lr 1.6e-4 · tau 0.10 · soft · ckpt 1200 RUNNING ─╮
            │ Losses  EMA 0.6 · log · by step                                                                            │ Attention A→B                   tau 0.10 · soft │
            │   6.03┤⠉⠒⠲⠤⣤⣀⡀                          ┊     ┆stage 2                  ┊             ┊ckpt                │                                                 │
            │       │     ⠈⠉⠙⠑⠲⠦⠤⣄⣀⡀                  ┊     ┆                         ┊             ┊                    │                       .....                     │
            │       │             ⠉⠉⠉⠓⠲⠶⠤⣤⣠⣀⣀⢀        ┊     ┆                         ┊             ┊                    │                    .::----::.                   │
            │       │                     ⠁⠈⠉⠉⠙⠓⠲⠲⠦⠤⣤⣤⣀⣀⣀⣀⡀⡀⡀                         ┊             ┊                    │                   .:-=+#**+=-.                  │
            │   1.76┤                                 ⠉⠉⠈⠉⠉⠉⠛⠓⠛⠞⠖⠖⠴⠦⢦⠤⣦⣤⣤⣤⣠⣀⣠⣀⣀⣀⣀⣀⣀⣀⣀⣀⡀⡀⡀⣀⡀⢀⢀⢀⢀⢀⡀⡀⢀⡀⡀⡀⢀                  │                  ..:=*#%%%*+-:.                 │
            │       │                                 ┊     ┆         ⠁ ⠉⠉⠉⠈⠈⠁⠈⠈⠁⠉⠉⠋⠉⠙⠉⠙⠙⠙⠛⠋⠛⠛⠋⠛⠳⠓⠻⠛⠛⠚⠞⠻⠒⠓               │                   .:=+*###+=-..                 │
            │       │⣢⣄⣀                              ┊     ┆                         ┊             ┊                    │                    .:--===-:..                  │
            │       │⣭⣽⣞⣯⣶⣤⣄⣀⣀⢀⢀⡀⣀⣀⣀⣀⡀⣀⣀  ⡀           ┊     ┆                         ┊             ┊                    │                     ........                    │
            │  0.568┤⠁⠈⠈⠉⠉⠉⠉⠙⠛⠿⢿⢿⣛⡛⠻⠻⠻⠿⠾⠷⠶⠶⠶⢶⣶⣶⣶⣶⣶⣴⣶⣴⣦⣤⣴⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣠⣤⣤⣀⣠⣤⣄⣀⣤⣤⣀⣤⣤⣀⣠⣤⣄⣀⣤⣄⣀⣠⣄⣀⣀⣤⣀⣀⣠⣄⣀⣀               │                                  .......        │
            │       │           ⠈⠈⠉⠛⠶⢦⢤⣄⣀⣀   ⠈ ⠁⠈⠉⠉⠉⠉⠈⠁⠉⠈⠁⠉⠈⠁⠉⠈⠉⠉⠉⠉⠘⠛⠋⠛⠋⠛⠙⠛⠛⠛⠋⠛⠙⠛⠛⠙⠋⠛⠹⠛⠻⠛⠋⠿⠻⠏⠟⠹⠟⠻⠻⠟⠻⠟⠛⠿⠻⠿⠋               │                                ..:--=--::.      │
            │       │                 ⠈⠈⠘⠛⠛⡶⣶⣤⣄⣀⣀⣀    ┊     ┆                         ┊             ┊                    │                               ..:=+*##*+-:.     │
            │       │                       ⠁⠉⠋⠛⠹⢻⢷⣶⢤⣤⣄⣀⣀⣀⢀⡀┆                         ┊             ┊                    │                               .:-+*#%%#*=-.     │
            │  0.184┤                             ⠈⠈⠉⠋⠋⠟⢿⣿⢺⢶⣦⣦⣤⣤⣀⣀⣀⣀⣀⣀⡀               ┊             ┊                    │         ....::....            ..:=+*##*+-:.     │
            │       │                                 ┊  ⠉⠈⠈⠘⠛⠊⠛⠟⡿⢻⢷⣿⢾⣶⣶⣤⣦⣤⣄⣤⡀⣀⣀⡀⣤⣤⣠⣀⣠⣀⡀⣀⡀⡀ ⢀       ┊                    │       .::--===--::..           ..:--=--::.      │
            │       │                                 ┊     ┆   ⠁⠁⠘⠙⠈⠈⠘⠋⠎⠏⠿⠿⢿⢻⢻⢿⣿⡾⣿⣿⣿⣶⣷⣶⣶⣶⣦⡴⣴⣴⣴⣤⡄⣄⣄⣠⣠⢠⣠⣀⣤⡄               │     ..:--=+****+=-:..            .......        │
            │       │                                 ┊     ┆            ⠁⠁⠃⠉⠘⠘⠈⠻⠉⠁⠁⠋⠉⠙⠙⠙⠙⠛⠟⠟⠿⠏⠿⠿⠿⠿⠻⣿⡟⣿⢿⣿⡷               │     ..:=+*#%%%##+=-:..                          │
            │ 0.0536┤                                 ┊     ┆                         ⠈ ⠈⠉⠉⠁⠛⠋⠋⠘⠟⠛⠻⠸⠿⠛⢿⠿⠟⠏               │     ..:=+*#%%%%#*=-:..                          │
            │ ━ g_total 1.43  ━ cyc_s 0.0841  ━ cyc_t 0.0659  ━ adv_st 0.486  ━ adv_ts 0.564                             │     ..:-=+*###**+=-:.                           │
            │   0.3┤⢰ ⢸⢀⢰⢰⡄⡆ ⣴⢠⡆⡆⡀⡇ ⡆⣄⡀⡇ ⡇⣰⣠⢠⢠⡆⢸⢠⢰⢰⡀⢰┊⣴⢠⡄⡇⡀⣧⢀⣆⣄⣀⡇⡀⡇⣰⢠⣄⢠⡆⣰⣠⢰⢰⡀⢰ ⣤⢰⡄⢸ ⡇⡀⡆⣄ ⡇ ⡇⣴⢰⣀⢰⡆⢰⢰⢠⢸⡀⢰⢀⣤                │      ..::-======-::.                            │
            │      │⣾⣶⣾⣾⣼⢸⣧⣧⣶⣿⣼⡇⣷⣧⣷⣶⡇⣿⣿⣿⡆⣧⣿⣿⣸⣸⣷⣿⣼⣾⢸⣷⣾⣾⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣾⣿⣾⣧⣿⣿⣿⣿⣿⣼⣼⣿⣾⣇⣾⣷⣿⣿⣇⣿⣇⣷⣿⣇⣿⣼⣿⣸⣇⣿⢸⣾⢸⣧⣸⣼⣿⡀               │        ...::::::...                             │
            │      │⣄⣿⢀⣿⣿⢀⣿⣿⣿⢀⢀⣷⡀⣿⡀⣿⡀⡀⣿⡀⣿⡀⣿⣿⣿⣿⡀⢀⢀⣿⢀⣿⢀⣿⢀⢀⣿⡀⣿⣀⣿⡀⡀⣿⡀⣿⡀⣿⣿⡀⣿⡀⢀⢀⣿⢀⡀⢀⢀⢀⢀⣿⢀⣿⡀⢀⣿⡀⣿⡀⣿⡀⣿⣿⡀⣿⡀⢀⢀⣿⢀⡀⢀⢀⢀⡇               │           .....                                 │
            │      │⣿⣼⣿⣿⣿⣼⣿⣇⣾⣾⣾⣷⣿⣿⣷⣾⣇⣷⣷⣿⣷⣷⣿⣿⣼⣿⣷⣿⣿⣿⣾⣿⣿⣾⣿⣾⣷⣿⣿⣿⣧⣧⣷⣶⣷⣿⣷⣿⣿⣷⣿⣷⣿⣾⣼⣼⣷⣼⣾⣿⣾⣷⣾⣾⣿⣿⣧⣷⣿⣷⣷⣧⣿⣿⣿⣿⣷⣿⣾⣼⣾⣷⣿⣾⣿⡆               │                                                 │
            │      │⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡇               │                                                 │
            │ 0.233┤⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡿⡿⣿⣿⣿⢿⢿⣿⣿⡿⡿⣿⣿⠿⠻⠻⣿⡿⡏⠋⡟⣿⢿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⢹⢻⡇               │ 25.6% > tau                      0 ·.:-=+*#%@ 1 │
            │      │⡿⠛⠹⠙⠟⠟⠇⠏⠻⠻⠻⠸⠘⠟⠟⠃⠛⠛⠛⠛⠙⠋⠋⠃⠃⠉⠉⠉⠈⠈⠁⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⠈⠈⠈⠉⠉⠁⠁⠙⠛⠛⠘⠛⠛⠛⠃⠛⠛⠛⠙⠙⠛⠛⠋⠋⠛⠛⠛⠙⠙⠛⠛⠃⠃⠛⠛⠛⠘⠘⠈⠈⣿⠁               ├ Health  A→B ─────────────── B→A ────────────────┤
            │      │⠃⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡿⡟⣿⣿⣿⢸⣿⣿⢿⢿⢿⡿⢻⢻⣿⣿⡿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡇               │ mean    ▄▃▃▃▃▃▂▂▂▂▂▂ 0.201  ▄▄▃▃▃▃▃▃▃▂▂▂ 0.204  │
            │      │⡿⡿⢻⢹⣿⣿⡟⡿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⣿⡿⣿⣿⣿⢿⣿⣿⡟⡏⣿⣿⣿⢿⢸⡿⡿⠇⠇⠻⠋⠉⠘⠉⠘ ⠘⠘⠁⠸ ⠏⠁⠁⠃⠇⡿⢸⢿⢹⠙⡿⡿⡟⣿⣿⣿⣿⢻⣿⣿⡟⡿⣿⣿⣿⢿⢹⣿⣿⡏⡇⣿⣿⣿⢸⢻⡇               │ > tau   ▇▅▄▄▃▃▃▃▃▃▃▃ 0.251  ▇▆▅▄▄▃▃▃▃▃▃▃ 0.260  │
            │  0.19┤ ⠁⠈⠘⠘⠘ ⠇⠇⠇⠇⢸⢸⢸⢸⠈⡏⡏⡇⡇⢹⢹⠹⠈⠏⠏⠇⠃⠙⠘⠈⠈ ┊      ┆                ⠈ ⠁⠁⠃⠘⠘⠸⠹⠈⠏⠟⠇⠇⠻⠻⠿⠸⠸⠿⠿⠇⠇⠿⠟⠛⠘⠘⠁               │ spread  ▂▃▄▅▅▅▅▅▅▅▅▅ 0.300  ▂▃▄▄▄▅▅▅▅▅▅▅ 0.296  │
            │                   200          400           600          800          1000         1200          1400     │ D real  ▅▅▅▅▅▅▅▅▅▅▅▆ 0.619  ▅▅▅▅▅▅▆▆▆▆▆▆ 0.715  │
            │ ━ d_s 0.217  ━ d_t 0.209                                                                                   │ D fake  ▄▄▄▄▄▄▄▄▄▄▃▃ 0.362  ▄▄▄▄▄▄▃▃▃▃▃▃ 0.310  │
            ├ Preview A→B · sample 1/4 ──────────────────────────────────────────────────────────────────────────────────┴────────────────┬────────────────────────────────┤
            │ input                  28–213  attention                      generated              31–127  composite              28–142  │ bg drift 0.12/255              │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │ > tau    25.6%                 │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │ ckpt     step 1200             │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │ lr       1.6e-4                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │ preview  step 1280             │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │ A→B a_003.png                  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │                                │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  │ saved checkpoint step-0000120… │
            ╰─ space pause  n step  +/- tau  t mode  a attention  z zoom  c stretch  [/] sample  d dir  ←/→ history  End live  </> smooth  l log  s save  ? help  q quit ──╯
            """)
    }

    func testHelpOverlay() {
        var v = ViewState()
        v.helpShown = true
        assertFrame(frame(live, 80, 24, view: v), """
            ╭ agg╭ keys ──────────────────────────────────────────────────────────────╮NG ─╮
            │ Los│ space  pause or resume training                                    │oft │
            │   6│ n      run one training step (while paused)                        │    │
            │    │ + =    raise tau, the attention threshold                          │    │
            │  0.│ - _    lower tau                                                   │    │
            │    │ t      threshold mode: soft, zero below tau, binary 1[A>tau]       │    │
            │ 0.0│ a      attention panel: ASCII map, colour map, health over time    │    │
            │ ━ g│ z      zoom a preview: input, attention, generated, composite, off │    │
            │ ━ c│ c      display stretch (auto-contrast) of the previews on or off   │    │
            │ ━ a│ [      previous preview sample                                     │    │
            │   0│ ]      next preview sample                                         │    │
            │    │ d      swap direction A→B / B→A                                    │    │
            │  0.│ ←      back through the snapshot history                           │    │
            │    │ →      forward through the snapshot history                        │    │
            │ ━ d│ End G  back to the live snapshot                                   │@ 1 │
            ├ Pre│ < ,    less smoothing of the loss curves                           │────┤
            │ inp│ > .    more smoothing of the loss curves                           │5   │
            │ ▀▀▀│ l      log scale for the losses on or off                          │    │
            │ ▀▀▀│ x      loss x axis in steps or epochs                              │00  │
            │ ▀▀▀│ s      save a checkpoint now                                       │    │
            │ ▀▀▀│ T      next colour theme                                           │80  │
            │ ▀▀▀│ ? h    show or hide this help                                      │    │
            │ ▀▀▀│ q      quit (asks to save if the last checkpoint is old)           │ s… │
            ╰─ sp╰───────────────────────────────────────── any key closes this help ─╯────╯
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

/// The second pass: zoom, display stretch, health panel.
final class DashboardImageTests: XCTestCase {
    func frame(_ s: TrainingSnapshot, _ w: Int, _ h: Int, view: ViewState = ViewState()) -> Canvas {
        Dashboard.render(s, view: view, size: Size(width: w, height: h), theme: testTheme)
    }

    /// The widest run of half-blocks on a row of the preview area.
    func widestImage(_ c: Canvas, _ l: DashboardLayout) -> Int {
        var best = 0
        for y in l.images.y..<l.images.maxY {
            var run = 0
            for x in l.images.x..<l.images.maxX {
                run = c[x, y].character == "▀" ? run + 1 : 0
                best = max(best, run)
            }
        }
        return best
    }

    func testZoomDrawsA64PixelCropAtLeast48PixelsAcrossAt160x50() {
        let s = SyntheticSnapshot.make(step: 1284, imageSize: 64)
        var v = ViewState()
        v.zoom = .composite
        let c = frame(s, 160, 50, view: v)
        let l = DashboardLayout(size: c.size, view: v)
        XCTAssertGreaterThanOrEqual(widestImage(c, l), 48)
        XCTAssertTrue(c.lines()[l.dividerY].contains("Zoom A→B composite · sample 1/4"), c.lines()[l.dividerY])
        let labels = c.lines()[l.images.y]
        XCTAssertTrue(labels.hasPrefix("│ composite"), labels)
        XCTAssertTrue(labels.contains("input"), "the input beside it: \(labels)")
        // The strips draw the same crop smaller: the zoom is what makes it large.
        XCTAssertLessThan(widestImage(frame(s, 160, 50), DashboardLayout(size: c.size)), 48)
        // Each slot is filled: a square crop as wide as its slot.
        let plain = DashboardLayout(size: c.size)
        XCTAssertEqual(plain.strips, 1)
        XCTAssertGreaterThanOrEqual(widestImage(frame(s, 160, 50), plain), 29)
    }

    func testZoomedFrameAt80x24() {
        var v = ViewState()
        v.zoom = .attention
        assertFrame(frame(SyntheticSnapshot.make(step: 1284, state: .running, sequence: 100), 80, 24, view: v), """
            ╭ aggan · nuclei ────── stage 2 · epoch 13/20 · step 1284 · 31.2 it/s RUNNING ─╮
            │ Losses  EMA 0.6 · log · by step            │ Attention A→B   tau 0.10 · soft │
            │  6.03┤⠛⠛⠛⠻⠿⠿⠿⠿⠷⠶⠶⠶⠶⠶⠶stage 2⣶⣶⣶⣶⣶⣶⣶ckpt    │               .:.               │
            │ ━ g_total 1.43  ━ cyc_s 0.0841             │              .+#-               │
            │ ━ cyc_t 0.0659  ━ adv_st 0.486             │                .  ..            │
            │ ━ adv_ts 0.564                             │            ..    .+*-           │
            │   0.3┤⣤⣤⣤⣤⣤⣤⣄⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣤⣠⣤⣤⣤⣤⣄      │          .-**-.   ..            │
            │  0.19┤⠋⠉⠋⠋⠉⠙⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠙⠛⠛⠛⠛⠛⠛⠋⠉⠉⠉      │          .-++:                  │
            │                  500        1000      1500 │                                 │
            │ ━ d_s 0.217  ━ d_t 0.209                   │ 25.6% > tau      0 ·.:-=+*#%@ 1 │
            ├ Zoom A→B attention · sample 1/4 ───────────┴───────────┬─────────────────────┤
            │ attention                   input           28–213     │ bg drift 0.12/255   │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │ > tau    25.6%      │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │ ckpt     step 1200  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │ lr       1.6e-4     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │ preview  step 1280  │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │ A→B a_003.png       │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │                     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │                     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │                     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │                     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │                     │
            │ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀      ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀     │ saved checkpoint s… │
            ╰─ space pause  n step  +/- tau  t mode  z zoom  s save  ? help  q quit ───────╯
            """)
    }

    func testStretchSpreadsDimPreviewsOverTheLevels() {
        let s = SyntheticSnapshot.make(step: 1284)
        var v = ViewState()
        v.direction = .ts  // B→A: the dim input (levels 0.2-0.45)
        func levels(_ c: Canvas) -> ClosedRange<Int> {
            let l = DashboardLayout(size: c.size, view: v)
            // The first slot: the input image.
            var lo = 255, hi = 0
            for y in (l.images.y + 1)..<l.images.maxY {
                for x in l.images.x..<(l.images.x + 12) {
                    for color in [c[x, y].fg, c[x, y].bg] {
                        if case let .rgb(r, _, _) = color { lo = min(lo, Int(r)); hi = max(hi, Int(r)) }
                    }
                }
            }
            return lo...hi
        }
        let stretched = frame(s, 80, 24, view: v)
        // The cells average the crop's pixels, so the ends are a little inside 0 and 255.
        XCTAssertGreaterThanOrEqual(levels(stretched).upperBound, 200)
        XCTAssertLessThanOrEqual(levels(stretched).lowerBound, 40)
        let row = stretched.lines()[DashboardLayout(size: stretched.size, view: v).images.y]
        XCTAssertNotNil(row.range(of: #"input \d+–\d+"#, options: .regularExpression), row)
        v.stretch = false
        let raw = frame(s, 80, 24, view: v)
        XCTAssertLessThan(levels(raw).upperBound, 130, "raw levels: the input stays dim")
        XCTAssertTrue(raw.text().contains("raw levels"))
        XCTAssertFalse(raw.lines()[DashboardLayout(size: raw.size, view: v).images.y].contains("–"))
    }

    func testHealthPanelAlone() {
        var v = ViewState()
        v.health = true
        let c = frame(SyntheticSnapshot.make(step: 1284, state: .running, sequence: 100), 80, 24, view: v)
        let l = DashboardLayout(size: c.size, view: v)
        XCTAssertFalse(l.showsMap)
        let r = l.column
        var panel = Canvas(width: r.width, height: r.height)
        for y in 0..<r.height { for x in 0..<r.width { panel.set(c[r.x + x, r.y + y].character, x: x, y: y, style: Style()) } }
        assertFrame(panel, """
            Attention A→B   tau 0.10 · soft
            Health
            mean   A→B ▄▃▃▃▃▃▃▂▂▂▂▂▂▂ 0.201
                   B→A ▄▄▃▃▃▃▃▃▃▃▂▂▂▂ 0.204
            > tau  A→B ▇▅▄▄▃▃▃▃▃▃▃▃▃▃ 0.251
                   B→A ▇▆▅▅▄▄▃▃▃▃▃▃▃▃ 0.260
            spread A→B ▂▃▄▄▅▅▅▅▅▅▅▅▅▅ 0.300
                   B→A ▂▃▃▄▄▄▅▅▅▅▅▅▅▅ 0.296
            D real A→B ▅▅▅▅▅▅▅▅▅▅▅▅▆▆ 0.619
                   B→A ▅▅▅▅▅▅▅▆▆▆▆▆▆▆ 0.715
            D fake A→B ▄▄▄▄▄▄▄▄▄▄▄▄▃▃ 0.362
                   B→A ▄▄▄▄▄▄▄▃▃▃▃▃▃▃ 0.310
            """)
    }

    func testHealthPanelFlagsACollapsedAttention() {
        let base = SyntheticSnapshot.make(step: 300, state: .running, sequence: 100)
        let dead = AttentionStats(mean: 0.001, aboveTau: 0, spread: 0.001)
        let points = base.history.points.map {
            LossPoint(step: $0.step, losses: $0.losses, attention: AttentionPair(s: dead, t: $0.attention!.t),
                      discriminator: $0.discriminator)
        }
        let s = TrainingSnapshot(
            runName: base.runName, config: base.config, step: base.step, totalSteps: base.totalSteps, epoch: base.epoch,
            stage: base.stage, stageSwitchStep: base.stageSwitchStep, learningRate: base.learningRate, losses: base.losses,
            history: LossHistory(points: points), iterationsPerSecond: 1, eta: nil, tau: base.tau, mode: base.mode,
            state: .running, previews: base.previews, previewStep: base.previewStep, lastCheckpointStep: nil,
            checkpointSteps: [], message: nil, attentionAlarm: "attention collapsed: A_S all-black since step 1",
            sequence: 1)
        let c = frame(s, 160, 50)
        let l = DashboardLayout(size: c.size)
        let title = c.lines()[l.health!.y]
        XCTAssertTrue(title.contains("A→B all-black"), title)
        let x = title.distance(from: title.startIndex, to: title.range(of: "all-black")!.lowerBound)
        XCTAssertEqual(c[x, l.health!.y].fg, testTheme[.warningFg])
        XCTAssertTrue(c.lines()[l.health!.y + 1].contains("0.001"), "the mean of the dead map")
    }
}
