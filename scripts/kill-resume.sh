#!/usr/bin/env bash
# Kill anywhere, lose nothing: SIGKILLs a small headless run 10 times, resumes it after
# each kill, and checks that it ends exactly as a run never stopped.
#
#   scripts/kill-resume.sh                              # builds (release), then runs
#   AGGAN_BIN=path/to/aggan scripts/kill-resume.sh      # skip the build
#   KILLS=20 SEED=3 scripts/kill-resume.sh              # more kills, another seed
#
# The run: the `tiny` preset shrunk (32 px crops, ngf 4, 1 block, ndf 8, 4 epochs of the
# bundled samples/nuclei: 116 steps through the stage switch and the learning-rate
# decay), a checkpoint every 5 steps, 1 thread. Odd-numbered kills land while a
# checkpoint is half written: the run gets AGGAN_TEST_SLOW_WRITE_MS (a test-only hook
# in Basics.AtomicFile that pauses every atomic write halfway through its temporary
# file) and is killed as soon as that temporary file appears. Even-numbered kills land
# at a random step, a random 0-40 ms after that step was logged.
#
# Checks: metrics.jsonl and loss_log.txt of the killed-and-resumed run equal those of
# the run never stopped, byte for byte (metrics.jsonl holds no wall-clock field: step,
# epoch, stage, lr, the loss terms and the attention statistics; so no field is
# excluded); the final checkpoints are identical; no temporary file is left in the run
# folder and checkpoints/ holds only the last three step-NNNNNNN.safetensors.
#
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exits non-zero on failure.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
KILLS="${KILLS:-10}"
SEED="${SEED:-7}"
SLOW_MS=400
. "$ROOT/scripts/checks.sh"

if [ -z "${AGGAN_BIN:-}" ]; then
    swift build -c release --product aggan >/dev/null || { fail "release build"; finish; }
    AGGAN_BIN="$(swift build -c release --show-bin-path)/aggan"
fi
[ -x "$AGGAN_BIN" ] || { fail "no executable at $AGGAN_BIN"; finish; }
DATA="samples/nuclei"
[ -d "$DATA/trainA" ] || { fail "no dataset at $DATA"; finish; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aggan-kill.XXXXXX")"
PID=""
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

MODEL=(--preset tiny --size 32 --ngf 4 --blocks 1 --ndf 8 --epochs 4 --seed "$SEED")
RUN=(--headless --threads 1 --checkpoint-every 5 --preview-png-every 1000)
# Both runs are named `run` (the name is stored in the checkpoints).
mkdir -p "$WORK/straight" "$WORK/killed"
REF="$WORK/straight/run"
DIR="$WORK/killed/run"

# The last step logged in metrics.jsonl (0 when none).
logged() {
    local s
    s=$(tail -n 1 "$1/metrics.jsonl" 2>/dev/null | sed -n 's/^{"step":\([0-9]*\),.*/\1/p')
    echo "${s:-0}"
}

# Starts the killed run in the background: a resume once it has a checkpoint, else anew.
start() {
    local env=()
    [ -n "${1:-}" ] && env=(AGGAN_TEST_SLOW_WRITE_MS="$1")
    if ls "$DIR"/checkpoints/step-*.safetensors >/dev/null 2>&1; then
        env ${env[@]+"${env[@]}"} "$AGGAN_BIN" train --resume "$DIR" "${RUN[@]}" >>"$WORK/log" 2>&1 &
    else
        env ${env[@]+"${env[@]}"} "$AGGAN_BIN" train --data "$DATA" "${MODEL[@]}" --run-dir "$DIR" "${RUN[@]}" >>"$WORK/log" 2>&1 &
    fi
    PID=$!
}

"$AGGAN_BIN" train --data "$DATA" "${MODEL[@]}" --run-dir "$REF" "${RUN[@]}" >"$WORK/straight.log" 2>&1 \
    || { cat "$WORK/straight.log"; fail "the run never stopped"; finish; }
TOTAL=$(wc -l <"$REF/metrics.jsonl")
[ "$TOTAL" -ge 100 ] && pass "the run never stopped: $TOTAL steps" || { fail "the run never stopped logged $TOTAL steps"; finish; }

# Kill steps spread over the run, in order (a resume goes back to its last checkpoint).
STEPS=($(awk -v n="$KILLS" -v total="$TOTAL" -v seed="$SEED" 'BEGIN { srand(seed);
    for (i = 1; i <= n; i++) print int((i - 1 + rand()) * (total - 8) / n) + 2 }'))
MIDWRITE=0
KILLED=0
for ((i = 1; i <= KILLS; i++)); do
    step=${STEPS[$((i - 1))]}
    if ((i % 2 == 1)); then
        # Into a checkpoint write: wait for its temporary file.
        start "$SLOW_MS"
        while kill -0 "$PID" 2>/dev/null && ! ls -a "$DIR/checkpoints" 2>/dev/null | grep -q '\.tmp$'; do sleep 0.01; done
    else
        start ""
        while kill -0 "$PID" 2>/dev/null && [ "$(logged "$DIR")" -lt "$step" ]; do sleep 0.005; done
        sleep "0.0$((RANDOM % 5))"
    fi
    if kill -9 "$PID" 2>/dev/null; then
        wait "$PID" 2>/dev/null
        KILLED=$((KILLED + 1))
        temp=$(ls -a "$DIR/checkpoints" 2>/dev/null | grep -c '\.tmp$')
        ((temp > 0)) && MIDWRITE=$((MIDWRITE + 1))
        echo "kill $i: at step $(logged "$DIR") of $TOTAL (aimed at $([ $((i % 2)) = 1 ] && echo 'a checkpoint write' || echo "step $step"))," \
            "$temp temporary file(s) left"
    else
        wait "$PID" 2>/dev/null
        echo "kill $i: the run had already ended"
    fi
    PID=""
done
((KILLED == KILLS)) && pass "$KILLED kills" || fail "only $KILLED of $KILLS kills landed before the run ended"
((MIDWRITE >= KILLS / 2)) && pass "$MIDWRITE kills during a checkpoint write" \
    || fail "only $MIDWRITE kills landed during a checkpoint write"

start ""
wait "$PID"
rc=$?
PID=""
[ "$rc" -eq 0 ] && pass "the last resume ran to the end" || { tail -5 "$WORK/log"; fail "the last resume exited $rc"; }

if cmp -s "$REF/metrics.jsonl" "$DIR/metrics.jsonl"; then
    pass "metrics.jsonl identical ($(wc -l <"$DIR/metrics.jsonl") lines)"
else
    diff "$REF/metrics.jsonl" "$DIR/metrics.jsonl" | head -6
    fail "metrics.jsonl differs"
fi
cmp -s "$REF/loss_log.txt" "$DIR/loss_log.txt" && pass "loss_log.txt identical" || fail "loss_log.txt differs"
last=$(ls "$REF/checkpoints" | tail -1)
cmp -s "$REF/checkpoints/$last" "$DIR/checkpoints/$last" && pass "final checkpoint $last identical" \
    || fail "final checkpoint $last differs or is missing"
stray=$(find "$DIR" -name '*.tmp' | wc -l)
[ "$stray" -eq 0 ] && pass "no temporary file left" || { find "$DIR" -name '*.tmp'; fail "$stray temporary file(s) left"; }
others=$(ls -A "$DIR/checkpoints" | grep -vc '^step-[0-9]\{7\}\.safetensors$')
count=$(ls "$DIR/checkpoints" | grep -c '^step-[0-9]\{7\}\.safetensors$')
[ "$others" -eq 0 ] && [ "$count" -le 3 ] && pass "checkpoints/ holds $count checkpoints and nothing else" \
    || { ls -A "$DIR/checkpoints"; fail "checkpoints/ holds $count checkpoints and $others other files"; }
finish
