"""One training step of this package against aggan's: the agreement test.

    python -m aggan_torch.check_step --before CK_N --batch batch-(N+1).safetensors \\
        --after CK_N+1 --metrics RUN/metrics.jsonl [--tolerance 1e-4]

`--before` and `--after` are aggan's checkpoints around step N+1, `--batch` the inputs
aggan fed that step (written when `AGGAN_TEST_DUMP_BATCHES` names a folder). The step
runs here on one process from `--before` with the same batch; the pool draws come from
the checkpoint's own stream, so they are aggan's. Compared: the seven losses (against
aggan's metrics.jsonl line), every tensor of `--after` (weights, Adam moments, pools,
attention average: ||torch - aggan|| / ||aggan|| per tensor, L2; the moments, which are
the gradient's, are reported and not checked) and the metadata
(step, pool stream, Adam step counts, pool sizes). Exit 1 when anything is off by more
than the tolerance."""
from __future__ import annotations

import argparse
import json
import sys

import torch

from .checkpoint import read, resume, state_tensors
from .trainer import LOSS_TERMS

NORMALISED = ("enc1", "enc2", "enc3", "dec1", "dec2", "res")


def null_gradient(name: str, stage: int) -> bool:
    """Whether a parameter's gradient is zero in exact arithmetic: the bias of a conv whose
    output goes straight into an instance norm (the norm subtracts the mean, so the bias
    cannot change the loss). In floating point its gradient is rounding noise (1e-7 of the
    others' size), which Adam scales up to full-size steps of random sign, in aggan and in
    PyTorch alike: such a parameter is not compared (its noise steps are)."""
    parts = name.split(".")
    if parts[0] == "optim":
        parts = parts[2:-1]
    elif parts[0] == "average":
        parts = parts[1:]
    if len(parts) < 4 or parts[-1] != "bias" or not parts[-2].startswith("conv"):
        return False
    net, layer = parts[0], parts[1]
    if net.startswith("disc"):
        return stage == 1 and layer in ("c2", "c3", "c4")
    return layer.startswith(NORMALISED)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m aggan_torch.check_step", description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True)
    p.add_argument("--batch", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--metrics", help="aggan's metrics.jsonl, for the step's losses")
    p.add_argument("--tolerance", type=float, default=1e-4, help="for the losses, pools and averages")
    p.add_argument("--state-tolerance", type=float, help="for the weights (default: --tolerance); the Adam moments are reported, not checked")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(1)

    trainer, _ = resume(args.before)
    batch, bmeta = read(args.batch)
    guide = None
    if "guide.s" in batch:
        guide = (batch["guide.s"], batch["guide.t"], float(bmeta["cell_fraction_s"]), float(bmeta["cell_fraction_t"]))
    before_weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    stage = trainer.stage
    result = trainer.step(batch["s"], batch["t"], guide)
    step = trainer.step_count
    after, ameta = read(args.after)
    ours = state_tensors(trainer)
    worst = {}
    failures = []

    def note(group, name, rel):
        if rel > worst.get(group, (0.0, ""))[0] or group not in worst:
            worst[group] = (rel, name)
        limit = args.state_tolerance if group.startswith("weight") and args.state_tolerance else args.tolerance
        if rel > limit and not group.startswith("moment"):
            failures.append(f"{group} {name}: relative error {rel:.3g}")

    if set(after) != set(ours):
        failures.append(f"tensor names differ: only aggan {sorted(set(after) - set(ours))[:5]}, only torch {sorted(set(ours) - set(after))[:5]}")
    skipped = 0
    for name in sorted(set(after) & set(ours)):
        a, o = after[name], ours[name]
        if null_gradient(name, stage):
            skipped += 1
            continue
        if a.shape != o.shape:
            failures.append(f"{name}: shape {list(o.shape)} here, {list(a.shape)} in aggan")
            continue
        scale = a.double().norm().item()
        rel = (o - a).double().norm().item() / scale if scale > 0 else (o - a).abs().max().item()
        kind = ("moment " + name.rsplit(".", 1)[1] if name.startswith("optim.") else "pool" if name.startswith("pool.")
                else "average" if name.startswith("average.") else "weight")
        net = name.split(".")[2] if kind.startswith("moment") else name.split(".")[0]
        note(f"{kind} {net}" if kind in ("weight", "moment m", "moment v") else kind, name, rel)
        if kind == "weight":
            d_aggan, d_ours = a - before_weights[name], o - before_weights[name]
            dscale = d_aggan.double().norm().item()
            if dscale > 0:
                drel = (d_ours - d_aggan).double().norm().item() / dscale
                worst["update (informational)"] = max(worst.get("update (informational)", (0.0, "")), (drel, name))
    for key in ("step", "rng", "pool_sizes", "tau"):
        mine = {"step": str(step), "rng": str(trainer.rng.state),
                "pool_sizes": f"{len(trainer.pool_st.items)},{len(trainer.pool_ts.items)}",
                "tau": ameta.get("tau")}[key]
        if ameta.get(key) != mine:
            failures.append(f"metadata {key}: {mine} here, {ameta.get(key)} in aggan")
    if json.loads(ameta["adam_steps"]) != {"g": trainer.opt_g.steps, "d": trainer.opt_d.steps}:
        failures.append("metadata adam_steps differ")
    if args.metrics:
        line = None
        with open(args.metrics, encoding="utf-8") as f:
            for text in f:
                m = json.loads(text)
                if m.get("step") == step:
                    line = m
        if line is None:
            failures.append(f"no line for step {step} in {args.metrics}")
        else:
            for k in LOSS_TERMS:
                rel = abs(result[k] - line[k]) / max(abs(line[k]), 1e-12)
                note("loss", k, rel)
    print(f"step {step} (stage {stage}): torch against aggan, worst relative error per kind:")
    for group, (rel, name) in sorted(worst.items()):
        print(f"  {group:24s} {rel:9.3g}  ({name})")
    print(f"  ({skipped} tensors not compared: biases of convs followed by an instance norm, whose gradient is rounding noise)")
    if failures:
        print(f"check_step: {len(failures)} difference(s) above {args.tolerance:g}, e.g.:")
        for f in failures[:10]:
            print("  " + f)
        return 1
    print(f"check_step: ok (losses, pools, average and metadata within {args.tolerance:g}, "
          f"weights within {args.state_tolerance or args.tolerance:g}; moments reported only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
