#!/usr/bin/env bash
# End-to-end test of the dashboard: runs `aggan train` inside tmux at 80x24 and 160x50,
# sends keys as a user would and asserts on what the pane shows.
#
#   scripts/dashboard-e2e.sh            # builds (release) and runs both sizes
#   AGGAN_BIN=path/to/aggan scripts/dashboard-e2e.sh   # skip the build
#   SCRATCH_PATH=.build-ui scripts/dashboard-e2e.sh    # swift build --scratch-path
#   ONLY_CRASH=1 scripts/dashboard-e2e.sh              # only the crash checks
#
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exits non-zero on failure.
# Needs tmux and python3 (standard library only, to write PNGs when no dataset exists).
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/checks.sh"

for tool in tmux python3; do
    command -v "$tool" >/dev/null 2>&1 || { fail "needs $tool"; finish; }
done

# --- Build -------------------------------------------------------------------------------
if [ -z "${AGGAN_BIN:-}" ]; then
    SCRATCH_ARGS=()
    [ -n "${SCRATCH_PATH:-}" ] && SCRATCH_ARGS=(--scratch-path "$SCRATCH_PATH")
    if ! swift build -c release ${SCRATCH_ARGS[@]+"${SCRATCH_ARGS[@]}"} --product aggan >"${TMPDIR:-/tmp}/aggan-e2e-build.$$" 2>&1; then
        tail -20 "${TMPDIR:-/tmp}/aggan-e2e-build.$$"
        fail "release build"
        finish
    fi
    BIN_DIR="$(swift build -c release ${SCRATCH_ARGS[@]+"${SCRATCH_ARGS[@]}"} --show-bin-path)"
    AGGAN_BIN="$BIN_DIR/aggan"
    rm -f "${TMPDIR:-/tmp}/aggan-e2e-build.$$"
fi
AGGAN_BIN="$(cd "$(dirname "$AGGAN_BIN")" && pwd)/$(basename "$AGGAN_BIN")"
[ -x "$AGGAN_BIN" ] && pass "build: $AGGAN_BIN" || { fail "no executable at $AGGAN_BIN"; finish; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aggan-e2e.XXXXXX")"
SOCKET="aggan-e2e-$$"
cleanup() {
    tmux -L "$SOCKET" kill-server >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- A tiny dataset ----------------------------------------------------------------------
# Prefer the bundled samples; else `aggan samples` on a generated image and mask; else
# generated domain folders.
DATA=""
if [ -d samples/nuclei/trainA ] && [ -d samples/nuclei/trainB ]; then
    DATA="samples/nuclei"
else
    python3 - "$WORK" <<'EOF'
import math, os, random, struct, sys, zlib

def write_png(path, width, height, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))

def blobs_image(size, n, rng, blurred):
    centres = [(rng.uniform(0, size), rng.uniform(0, size), rng.uniform(4, 8)) for _ in range(n)]
    img, mask = [], []
    for y in range(size):
        row, mrow = [], []
        for x in range(size):
            cell = 0.0
            for cx, cy, r in centres:
                d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (r * r)
                cell = max(cell, math.exp(-d2 * (1.0 if blurred else 3.0)))
            v = 30 + (90 if blurred else 190) * cell + rng.gauss(0, 6)
            row.append(max(0, min(255, int(v))))
            mrow.append(255 if cell > 0.3 else 0)
        img.append(row)
        mask.append(mrow)
    return img, mask

work = sys.argv[1]
rng = random.Random(7)
img, mask = blobs_image(256, 60, rng, blurred=False)
write_png(os.path.join(work, "cells.png"), 256, 256, img)
write_png(os.path.join(work, "cells_mask.png"), 256, 256, mask)
for domain, blurred in (("trainA", True), ("trainB", False)):
    os.makedirs(os.path.join(work, "gen", domain), exist_ok=True)
    for i in range(8):
        im, _ = blobs_image(48, 4, rng, blurred)
        write_png(os.path.join(work, "gen", domain, "im%02d.png" % i), 48, 48, im)
EOF
    if "$AGGAN_BIN" samples --image "$WORK/cells.png" --mask "$WORK/cells_mask.png" --out "$WORK/data" \
        --block 64 >/dev/null 2>&1 && [ -d "$WORK/data/trainA" ]; then
        DATA="$WORK/data"
    else
        DATA="$WORK/gen"
    fi
fi
[ -d "$DATA/trainA" ] && pass "dataset: $DATA" || { fail "dataset"; finish; }

# --- tmux helpers ------------------------------------------------------------------------
T() { tmux -L "$SOCKET" "$@"; }
pane() { T capture-pane -p -t e2e; }
header() { pane | sed -n 1p; }
# The step counter of the header (the first "step N" on the first row).
step_now() { header | grep -o 'step [0-9]*' | head -1 | grep -o '[0-9]*'; }
tau_now() { pane | grep -o 'tau [0-9.]* ·' | head -1 | grep -o '[0-9.]*[0-9]'; }
mode_now() { pane | sed -n 2p | grep -o 'tau [0-9.]* · [a-z<]*' | head -1 | sed 's/.* · //'; }
# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_for() {
    local limit=$1; shift
    local end=$((SECONDS + limit))
    while [ $SECONDS -lt "$end" ]; do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}
has() { pane | grep -qF -- "$1"; }
# The shell printed the exit status (the typed command line holds 'EXIT=' too).
exited() { pane | grep -q 'EXIT=[0-9]'; }
hasnt() { ! pane | grep -qF -- "$1"; }
step_is() { [ "$(step_now)" = "$1" ]; }
step_above() { local s; s=$(step_now); [ -n "$s" ] && [ "$s" -gt "$1" ]; }
tau_is_not() { local t; t=$(tau_now); [ -n "$t" ] && [ "$t" != "$1" ]; }
mode_is_not() { local m; m=$(mode_now); [ -n "$m" ] && [ "$m" != "$1" ]; }

# A fresh tmux server with one plain shell of W x H cells (new_pane W H).
new_pane() {
    T kill-server >/dev/null 2>&1
    T -f /dev/null new-session -d -s e2e -x "$1" -y "$2" \
        "env -i PATH='$PATH' HOME='$WORK' TERM=screen-256color LANG=C.UTF-8 PS1='e2e\$ ' bash --norc --noprofile"
    T set-option -g status off >/dev/null
    sleep 0.3
}

run_size() {
    local W=$1 H=$2 ANSWER=$3
    local RUN="$WORK/run-${W}x${H}"
    local tag="[${W}x${H}]"
    T kill-server >/dev/null 2>&1
    T -f /dev/null new-session -d -s e2e -x "$W" -y "$H" \
        "env -i PATH='$PATH' HOME='$WORK' TERM=screen-256color LANG=C.UTF-8 PS1='e2e\$ ' bash --norc --noprofile"
    T set-option -g status off >/dev/null
    T resize-window -t e2e -x "$W" -y "$H" >/dev/null 2>&1
    sleep 0.3
    T send-keys -t e2e "cd '$ROOT' && '$AGGAN_BIN' train --data '$DATA' --size 32 --ngf 4 --blocks 1 --ndf 8 --run-dir '$RUN'; echo EXIT=\$?" Enter

    if wait_for 60 has "Losses"; then pass "$tag dashboard opens"; else fail "$tag dashboard opens"; pane; return; fi
    if wait_for 60 step_above 3; then pass "$tag steps advance (step $(step_now))"; else fail "$tag steps advance"; pane; return; fi
    [ "$(pane | wc -l)" -ge "$H" ] && pass "$tag fills the pane" || fail "$tag fills the pane"

    # Pause: the counter stands still.
    T send-keys -t e2e Space
    if wait_for 10 has "PAUSED"; then pass "$tag space shows PAUSED"; else fail "$tag space shows PAUSED"; fi
    sleep 0.5
    local s1 s2
    s1=$(step_now)
    sleep 2
    s2=$(step_now)
    [ -n "$s1" ] && [ "$s1" = "$s2" ] && pass "$tag paused: step stays $s1 over 2 s" || fail "$tag paused: step $s1 -> $s2"

    # One step.
    T send-keys -t e2e n
    if wait_for 15 step_is $((s2 + 1)); then
        sleep 1
        step_is $((s2 + 1)) && pass "$tag n: step $s2 -> $(step_now), exactly one" || fail "$tag n moved past one: $(step_now)"
    else
        fail "$tag n: step $s2 -> $(step_now), want $((s2 + 1))"
    fi

    # Tau up.
    local tau0
    tau0=$(tau_now)
    T send-keys -t e2e +
    if wait_for 10 tau_is_not "$tau0"; then pass "$tag +: tau $tau0 -> $(tau_now)"; else fail "$tag +: tau stays $tau0"; fi

    # Threshold mode.
    local mode0
    mode0=$(mode_now)
    T send-keys -t e2e t
    if wait_for 10 mode_is_not "$mode0"; then pass "$tag t: mode $mode0 -> $(mode_now)"; else fail "$tag t: mode stays '$mode0'"; fi

    # Zoom through the four images and back; the display stretch off and on.
    T send-keys -t e2e z
    if wait_for 5 has "Zoom A→B input"; then pass "$tag z: input zoomed"; else fail "$tag z: no zoom"; fi
    T send-keys -t e2e z z z z
    if wait_for 5 hasnt "Zoom A→B"; then pass "$tag z x5: back to the strips"; else fail "$tag z x5: still zoomed"; fi
    T send-keys -t e2e c
    if wait_for 5 has "raw levels"; then pass "$tag c: stretch off (raw levels)"; else fail "$tag c: no 'raw levels'"; fi
    T send-keys -t e2e c
    if wait_for 5 hasnt "raw levels"; then pass "$tag c again: stretch on"; else fail "$tag c again: still raw"; fi

    # Help on and off.
    T send-keys -t e2e '?'
    if wait_for 5 has "any key closes this help"; then pass "$tag ?: help shown"; else fail "$tag ?: help shown"; fi
    T send-keys -t e2e '?'
    if wait_for 5 hasnt "any key closes this help"; then pass "$tag ? again: help gone"; else fail "$tag ? again: help gone"; fi

    # Quit: unsaved steps, so it asks.
    T send-keys -t e2e q
    if wait_for 5 has "save before quitting? (y/n/c)"; then pass "$tag q asks to save"; else fail "$tag q asks to save"; fi
    T send-keys -t e2e "$ANSWER"
    if wait_for 60 exited; then
        if has "EXIT=0"; then pass "$tag exits 0 after '$ANSWER'"; else fail "$tag exit status: $(pane | grep -o 'EXIT=[0-9]*')"; fi
    else
        fail "$tag did not exit after q $ANSWER"; pane; return
    fi
    local summary
    summary=$(pane | grep -m1 '^aggan: ')
    [ -n "$summary" ] && pass "$tag summary: $summary" || fail "$tag no summary line"
    local ckpts
    ckpts=$(ls "$RUN/checkpoints" 2>/dev/null | grep -c safetensors)
    if [ "$ANSWER" = y ]; then
        [ "$ckpts" -ge 1 ] && pass "$tag y saved a checkpoint" || fail "$tag y saved no checkpoint"
    else
        [ "$ckpts" -eq 0 ] && pass "$tag n saved nothing" || fail "$tag n saved $ckpts checkpoint(s)"
    fi

    # The terminal is sane again: canonical mode, echo, a visible cursor, tput works.
    T send-keys -t e2e "clear; stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo)\$' | tr '\n' ' '; echo; tput cols" Enter
    sleep 1
    local modes
    modes=$(pane | grep -E 'icanon' | head -1)
    if echo "$modes" | grep -qE '(^| )icanon' && echo "$modes" | grep -qE '(^| )echo( |$)' \
        && ! echo "$modes" | grep -qE -- '-icanon|-echo( |$)'; then
        pass "$tag terminal restored: $modes"
    else
        fail "$tag terminal modes: '$modes'"
    fi
    pane | grep -qx "$W" && pass "$tag tput cols says $W" || fail "$tag tput cols"
    T kill-server >/dev/null 2>&1
}

# Resize (down below the minimum and back up) and Ctrl-C: saves, exits 0, terminal sane.
# The shell in the pane is back in canonical mode with echo.
modes_restored() {
    T send-keys -t e2e "clear; stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo)\$' | tr '\n' ' '; echo" Enter
    sleep 1
    local modes
    modes=$(pane | grep -E 'icanon' | head -1)
    if echo "$modes" | grep -qE '(^| )icanon' && ! echo "$modes" | grep -qE -- '-icanon|-echo( |$)'; then
        pass "$1 terminal restored: $modes"
    else
        fail "$1 terminal modes: '$modes'"
    fi
}

run_signals() {
    local RUN="$WORK/run-signals"
    local tag="[resize, Ctrl-C]"
    new_pane 100 30
    T send-keys -t e2e "cd '$ROOT' && '$AGGAN_BIN' train --data '$DATA' --size 32 --ngf 4 --blocks 1 --ndf 8 --run-dir '$RUN'; echo EXIT=\$?" Enter
    if wait_for 60 step_above 2; then pass "$tag running at 100x30"; else fail "$tag running at 100x30"; pane; return; fi
    T resize-window -t e2e -x 60 -y 20
    if wait_for 10 has "too small"; then pass "$tag 60x20 says it is too small"; else fail "$tag 60x20: no too-small message"; pane; fi
    T resize-window -t e2e -x 120 -y 40
    if wait_for 10 has "Losses"; then pass "$tag back at 120x40 the dashboard redraws"; else fail "$tag no redraw at 120x40"; fi
    local width
    width=$(header | python3 -c 'import sys; print(len(sys.stdin.buffer.read().decode("utf-8").rstrip("\n")))')
    [ "$width" = 120 ] && pass "$tag header spans 120 columns" || fail "$tag header is $width columns wide"
    T send-keys -t e2e C-c
    if wait_for 60 exited; then
        has "EXIT=0" && pass "$tag Ctrl-C stops and exits 0" || fail "$tag Ctrl-C: $(pane | grep -o 'EXIT=[0-9]*')"
    else
        fail "$tag Ctrl-C did not end the run"; pane; return
    fi
    pane | grep -q "interrupted" && pass "$tag summary says interrupted" || fail "$tag summary"
    [ "$(ls "$RUN/checkpoints" 2>/dev/null | grep -c safetensors)" -ge 1 ] && pass "$tag Ctrl-C saved a checkpoint" \
        || fail "$tag Ctrl-C saved no checkpoint"
    modes_restored "$tag"
    T kill-server >/dev/null 2>&1
}

# aggan view on two finished runs: both legends, scrubbing to the first checkpoint (step 2,
# which has no preview strip: its previews are recomputed from the checkpoint) changes the
# previews, q exits 0 and restores the terminal.
computed() { hasnt "computing the previews" && has "composite"; }

run_view() {
    local tag="[view]"
    local R1="$WORK/view-one" R2="$WORK/view-two"
    for r in "$R1" "$R2"; do
        "$AGGAN_BIN" train --data "$DATA" --size 32 --ngf 4 --blocks 1 --ndf 8 --max-steps 6 --preview-every 3 \
            --preview-png-every 3 --checkpoint-every 2 --headless --threads 1 --run-dir "$r" >/dev/null 2>&1 \
            || { fail "$tag training $r"; return; }
    done
    [ -f "$R1/previews/step-0000003.png" ] && [ -f "$R1/checkpoints/step-0000002.safetensors" ] \
        && [ ! -f "$R1/previews/step-0000002.png" ] \
        && pass "$tag two runs: checkpoints at 2, 4, 6, preview strips at 3, 6" || { fail "$tag run folders"; return; }
    new_pane 160 50
    T send-keys -t e2e "cd '$ROOT' && '$AGGAN_BIN' view '$R1' '$R2'; echo EXIT=\$?" Enter
    if wait_for 30 has "VIEW"; then pass "$tag opens read-only"; else fail "$tag opens"; pane; return; fi
    if has "━ view-one" && has "━ view-two"; then pass "$tag both legends on screen"; else fail "$tag legends"; pane; fi
    local before after
    before=$(T capture-pane -e -p -t e2e | sed -n '/Preview A→B/,$p' | head -14 | md5sum)
    # The timeline is 2, 3, 4, 6 (checkpoints and strips); three ← reach the first checkpoint.
    T send-keys -t e2e Left Left Left
    if wait_for 5 has "HISTORY step 2"; then pass "$tag ←: scrubbed to step 2"; else fail "$tag ←: no history"; pane; fi
    if wait_for 20 computed; then pass "$tag step 2's previews computed"; else fail "$tag still computing"; pane; fi
    after=$(T capture-pane -e -p -t e2e | sed -n '/Preview A→B/,$p' | head -14 | md5sum)
    [ "$before" != "$after" ] && has "preview  step 2" \
        && pass "$tag scrubbing to the first checkpoint changes the previews" || { fail "$tag previews unchanged"; pane; }
    T send-keys -t e2e q
    if wait_for 10 exited; then
        has "EXIT=0" && pass "$tag q exits 0" || fail "$tag exit: $(pane | grep -o 'EXIT=[0-9]*')"
    else
        fail "$tag q did not exit"; pane; return
    fi
    modes_restored "$tag"
    T kill-server >/dev/null 2>&1
}

# A crash while the dashboard is up (a Swift trap is SIGILL, fatalError SIGILL or SIGTRAP,
# a bad pointer SIGSEGV; here sent from outside): the process dies of the signal, and the
# terminal is usable again: the main screen, canonical mode, echo, a visible cursor.
run_crash() {
    local sig=$1
    local RUN="$WORK/run-crash-$sig"
    local tag="[crash: SIG$sig]"
    new_pane 100 30
    # In the foreground (the dashboard reads the terminal), its pid in a file.
    printf '%s\n' "echo \$\$ >'$WORK/crash.pid'" \
        "cd '$ROOT' && SWIFT_BACKTRACE=interactive=no exec '$AGGAN_BIN' train --data '$DATA' --size 32 --ngf 4 --blocks 1 --ndf 8 --run-dir '$RUN'" \
        >"$WORK/crash.sh"
    rm -f "$WORK/crash.pid"
    T send-keys -t e2e "bash '$WORK/crash.sh'; echo EXIT=\$?" Enter
    if wait_for 60 step_above 1; then pass "$tag running"; else fail "$tag not running"; pane; return; fi
    [ "$(T display -p -t e2e '#{alternate_on}')" = 1 ] && pass "$tag on the alternate screen" || fail "$tag not on the alternate screen"
    kill -"$sig" "$(cat "$WORK/crash.pid")"
    if wait_for 60 exited; then
        local code
        code=$(pane | grep -o 'EXIT=[0-9][0-9]*' | head -1 | cut -d= -f2)
        [ "$code" -gt 128 ] && pass "$tag died of the signal (exit $code)" || fail "$tag exit $code"
    else
        fail "$tag did not die"; pane; return
    fi
    [ "$(T display -p -t e2e '#{alternate_on}')" = 0 ] && pass "$tag back on the main screen" || fail "$tag still on the alternate screen"
    [ "$(T display -p -t e2e '#{cursor_flag}')" = 1 ] && pass "$tag cursor visible" || fail "$tag cursor hidden"
    modes_restored "$tag"
    T kill-server >/dev/null 2>&1
}

if [ -z "${ONLY_CRASH:-}" ]; then
    run_size 80 24 y
    run_size 160 50 n
    run_signals
    run_view
fi
run_crash ILL
run_crash SEGV
finish
