#!/usr/bin/env bash
# A run continued in PyTorch and brought back (python/aggan_torch, issue "Outgrow one
# machine"): aggan trains 20 steps; one step of the PyTorch trainer is checked against
# aggan's at step 20 (stage 1), 21 (the stage switch) and 22 (stage 2), fed aggan's batch
# (AGGAN_TEST_DUMP_BATCHES) from aggan's checkpoints, and both against the same step in
# float64 where float32 cannot settle it to 1e-4; torchrun with 2 CPU processes (gloo)
# continues from step 20 to 30; `aggan train --resume` continues from the PyTorch
# checkpoint to 40; every step's losses must be finite, the history whole, and each side's
# checkpoints must load in the other.
#
# Needs a Python with torch and safetensors: $AGGAN_TORCH_PYTHON, else python3. Without
# one it prints why and exits 0 (it installs nothing: a torch wheel is too big for make test).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGGAN=${AGGAN_BIN:-$ROOT/.build/release/aggan}
PY=${AGGAN_TORCH_PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1 || ! "$PY" -c 'import torch, safetensors' >/dev/null 2>&1; then
    echo "torch-continue: skipped: no Python with torch and safetensors ('$PY'; set AGGAN_TORCH_PYTHON or pip install ./python)"
    exit 0
fi
[ -x "$AGGAN" ] || { echo "torch-continue: no aggan binary at $AGGAN (build it, or set AGGAN_BIN)"; exit 1; }
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data/trainA" "$WORK/data/trainB"
# 5 + 5 images: 5 steps an epoch, 8 epochs; stage 2 from step 21, the learning rate decays from step 21.
for d in trainA trainB; do
    ls "$ROOT/samples/nuclei/$d" | head -5 | while read -r f; do cp "$ROOT/samples/nuclei/$d/$f" "$WORK/data/$d/"; done
done
# tiny's recipe plus the options no preset turns on (the attention identity, the guide's
# fade), so the PyTorch trainer's mirror of each is checked too.
TRAIN=(train --headless --threads 1 --no-tensorboard --epochs 8 --switch-fraction 0.5
       --attention-identity 1 --attention-guide-fade true)

echo "torch-continue: aggan trains steps 1-20"
AGGAN_TEST_DUMP_BATCHES="$WORK/batches" "$AGGAN" "${TRAIN[@]}" --data "$WORK/data" --run-dir "$WORK/run" \
    --max-steps 20 --checkpoint-every 1 > "$WORK/aggan1.log" 2>&1
cp -r "$WORK/run" "$WORK/side"
AGGAN_TEST_DUMP_BATCHES="$WORK/batches" "$AGGAN" "${TRAIN[@]}" --resume "$WORK/side" --max-steps 22 \
    --checkpoint-every 1 > "$WORK/aggan-side.log" 2>&1

# Every tensor of the step (weights, Adam moments, pools, attention average) and every loss
# to 1e-4 of aggan's where float32 can compute it that well; where it cannot (PyTorch's
# float32 step, or aggan's forward values, 1e-5 or more from the same step in float64),
# aggan's step continued from its own forward values must be as close to float64 as
# PyTorch's float32 step is, to a factor 2. check_step's docstring has the rules;
# AGGAN_TORCH_VERBOSE=1 lists every tensor with the rule that judged it.
echo "torch-continue: one PyTorch step against aggan's, and both against the step in float64"
status=0
for pair in "run 19 20" "side 20 21" "side 21 22"; do
    set -- $pair
    "$PY" -m aggan_torch.check_step --before "$WORK/$1/checkpoints/step-00000$2.safetensors" \
        --after "$WORK/$1/checkpoints/step-00000$3.safetensors" --batch "$WORK/batches/batch-00000$3.safetensors" \
        --metrics "$WORK/$1/metrics.jsonl" --tolerance 1e-4 --reference float64 \
        ${AGGAN_TORCH_VERBOSE:+--verbose} || status=1
done

echo "torch-continue: torchrun --nproc_per_node 2 (gloo) continues steps 21-30"
"$PY" -m torch.distributed.run --standalone --nproc_per_node 2 -m aggan_torch.train \
    --from "$WORK/run/checkpoints/step-0000020.safetensors" --data "$WORK/data" --out "$WORK/ddp" \
    --max-steps 30 --checkpoint-every 5 --threads 1 --log-every 5

echo "torch-continue: aggan train --resume continues steps 31-40 from the PyTorch checkpoint"
"$AGGAN" "${TRAIN[@]}" --resume "$WORK/ddp" --max-steps 40 > "$WORK/aggan2.log" 2>&1
grep -q "resumed from step-0000030.safetensors" "$WORK/aggan2.log" || { echo "torch-continue: aggan did not resume from the PyTorch checkpoint"; cat "$WORK/aggan2.log"; exit 1; }
"$AGGAN" translate --checkpoint "$WORK/ddp/checkpoints/step-0000030.safetensors" "$WORK/data/trainA" \
    --output "$WORK/translated" > /dev/null

"$PY" - "$WORK" <<'PY' || status=1
import json, math, os, sys
import torch
from aggan_torch.checkpoint import resume
from aggan_torch.trainer import LOSS_TERMS
work = sys.argv[1]
steps, bad = [], []
for line in open(os.path.join(work, "ddp", "metrics.jsonl")):
    m = json.loads(line)
    steps.append(m["step"])
    bad += [f"step {m['step']} {k}" for k in LOSS_TERMS if not isinstance(m.get(k), (int, float)) or not math.isfinite(m[k])]
assert steps == list(range(1, 41)), f"metrics.jsonl steps are not 1..40: {steps}"
assert not bad, f"non-finite losses: {bad[:5]}"
# aggan's checkpoint (step 40, written after resuming from PyTorch's) loads here, and runs.
trainer, meta = resume(os.path.join(work, "ddp", "checkpoints", "step-0000040.safetensors"))
assert trainer.step_count == 40 and trainer.stage == 2, (trainer.step_count, trainer.stage)
x = torch.zeros(1, 1, 64, 64)
with torch.no_grad():
    out = trainer.model.translate(x)[2]
assert torch.isfinite(out).all()
print(f"torch-continue: metrics.jsonl holds steps 1..40 once each, {40 * len(LOSS_TERMS)} losses all finite; "
      "aggan's step-40 checkpoint loads in PyTorch")
PY
ls "$WORK/translated" | grep -q png || { echo "torch-continue: aggan translate wrote nothing"; exit 1; }
if [ "$status" = 0 ]; then echo "torch-continue: ok"; else echo "torch-continue: FAILED"; fi
exit "$status"
