"""One training step of this package against aggan's: the agreement test.

    python -m aggan_torch.check_step --before CK_N --batch batch-(N+1).safetensors \\
        --after CK_N+1 --metrics RUN/metrics.jsonl [--reference float64] [--verbose]

`--before` and `--after` are aggan's checkpoints around step N+1, `--batch` the inputs
aggan fed that step (written when `AGGAN_TEST_DUMP_BATCHES` names a folder). The step
runs here on one process from `--before` with the same batch; the pool draws come from
the checkpoint's own stream, so they are aggan's. Compared: the seven losses (against
aggan's metrics.jsonl line), every tensor of `--after` (weights, Adam moments, pools,
attention average; ||torch - aggan|| / ||aggan|| per tensor, L2) and the metadata (step,
pool stream, Adam step counts, pool sizes), which must match exactly.

Without `--reference` every tensor and loss must be within `--tolerance` (1e-4) of aggan's.
That fails for tensors that float32 cannot compute to 1e-4: a gradient is a sum of terms
that nearly cancel, or a ReLU input lies within float32 rounding of zero, so the two
programs' rounding sends the gradient of a whole network down different sides (for the
instance norms' shifts, near zero early in a run, Adam then turns a small gradient
difference into a visible part of a step). `--reference float64` runs the same step twice
more in float64: E, from the same state and batch, and E_A, continuing from aggan's own
forward values (its two translations, A and the composite of s and of t, read back from its
pools and imposed with their graph kept). Each tensor is judged by one of two rules:

  1e-4:      well conditioned (torch float32 within 1e-5 of E, and E_A within 1e-5 of E):
             torch must be within the tolerance of aggan.
  accuracy:  otherwise: aggan must be no further from E_A than `--factor` (2) times torch
             float32 is from E (or than 2 x 1e-5 where torch is closer): aggan's step is as
             accurate as PyTorch's, given aggan's forward pass, which the pools and losses
             check against torch by the first rule.

"torch float32" is the furthest from E of PyTorch's float32 step and `--samples` (8) more
float32 steps from the same weights moved by up to 4 rounding units at random: one float32
step is one draw of the rounding, and a ReLU input within rounding of zero goes to one side
in one draw and to the other in the next (seen at step 20 of the test's run: aggan's gen_ts
1e-3 from E_A, PyTorch's 1e-5; one ReLU of G_ST, input 2e-7 of its layer's largest, taken
the other way in float64 moved E_A's gen_ts to 1e-5 of aggan's). A tensor counts as well
conditioned only when every draw is within 1e-5 of E. Moments 0.03 % too large, or a
generator step 1 % too long, still fail (13 and 3 tensors at that step).

Exit 1 when any tensor, loss or metadata item fails its rule."""
from __future__ import annotations

import argparse
import json
import sys

import torch

from .checkpoint import CheckpointError, read, resume, state_tensors
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


def kind(name: str) -> str:
    """The group a checkpoint tensor is reported in: what it is (weight, moment m or v,
    average, pool), its network, and for parameters whether it belongs to a convolution or
    is an instance norm's scale or shift (`gen_st.res2.norm1.bias` -> "weight gen_st norm shift")."""
    if name.startswith("pool."):
        return "pool"
    what = "weight"
    if name.startswith("optim."):
        what, name = "moment " + name.rsplit(".", 1)[1], name.split(".", 2)[2].rsplit(".", 1)[0]
    elif name.startswith("average."):
        what, name = "average", name.split(".", 1)[1]
    parts = name.split(".")
    module = parts[-2]
    part = ("norm " + ("scale" if parts[-1] == "weight" else "shift")) if module.startswith("norm") else "conv"
    return f"{what} {parts[0]} {part}"


def short(x: float) -> str:
    """1e-4 as "1e-4" (not "0.0001"), 2.5e-05 as "2.5e-5"."""
    mantissa, exponent = f"{x:e}".split("e")
    return mantissa.rstrip("0").rstrip(".") + "e" + str(int(exponent))


def relative(x: torch.Tensor, reference: torch.Tensor) -> float:
    """||x - reference|| / ||reference|| (L2, in float64); the absolute largest difference
    when the reference is zero."""
    x, reference = x.double(), reference.double()
    scale = reference.norm().item()
    return (x - reference).norm().item() / scale if scale > 0 else (x - reference).abs().max().item()


def step_forward(before: dict, after: dict) -> dict | None:
    """The step's own forward outputs, read back from the pools: {"a2b": (A_S(s), composite
    of s), "b2a": (A_T(t), composite of t)}, the pool entry the step added or replaced
    (every step stores its pair until the pool is full); None when a pool did not change."""
    out = {}
    for direction, pool in (("a2b", "pool.st"), ("b2a", "pool.ts")):
        changed = [k for k in sorted(after) if k.startswith(pool + ".") and k.endswith(".fake")
                   and (k not in before or not torch.equal(before[k], after[k]))]
        if len(changed) != 1:
            return None
        out[direction] = (after[changed[0][:-len("fake")] + "mask"], after[changed[0]])
    return out


def run_step(before: str, batch: dict, bmeta: dict, dtype: torch.dtype, forward: dict | None = None,
             perturb: int | None = None):
    """The trainer resumed from `before` in `dtype`, after one step on `batch`; and the stage
    and losses of that step. `forward` ({direction: (attention, composite)}) imposes those
    values on the step's two translations, their graph kept (each value moved by a constant):
    the step as it continues from another implementation's forward pass."""
    trainer, _ = resume(before, dtype=dtype)
    if perturb is not None:
        # Every weight moved by up to 4 float32 rounding units (relative, uniform), drawn from
        # seed `perturb`: the same step as float32, summing in another order, could as well
        # have computed it.
        draw = torch.Generator().manual_seed(perturb)
        with torch.no_grad():
            for p in trainer.model.parameters():
                units = (torch.rand(p.shape, generator=draw, dtype=torch.float64) * 8 - 4).to(p.dtype)
                p.mul_(1 + units * torch.finfo(torch.float32).eps)
    guide = None
    if "guide.s" in batch:
        guide = (batch["guide.s"].to(dtype), batch["guide.t"].to(dtype),
                 float(bmeta["cell_fraction_s"]), float(bmeta["cell_fraction_t"]))
    s, t = batch["s"].to(dtype), batch["t"].to(dtype)
    if forward is not None:
        model, translate = trainer.model, trainer.model.translate

        def imposed(x, direction="a2b", mode="soft", tau=0.1):
            a, g, comp = translate(x, direction, mode, tau)
            if mode == "soft" and torch.equal(x, s if direction == "a2b" else t):
                mask, fake = (v.to(dtype) for v in forward[direction])
                a, comp = a + (mask - a).detach(), comp + (fake - comp).detach()
            return a, g, comp
        model.translate = imposed
    stage = trainer.stage
    result = trainer.step(s, t, guide)
    return trainer, stage, result


def aggan_losses(path: str, step: int) -> dict | None:
    """aggan's metrics.jsonl line for `step` (the last one, should a step repeat)."""
    line = None
    with open(path, encoding="utf-8") as f:
        for text in f:
            m = json.loads(text)
            if m.get("step") == step:
                line = m
    return line


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m aggan_torch.check_step", description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True)
    p.add_argument("--batch", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--metrics", help="aggan's metrics.jsonl, for the step's losses")
    p.add_argument("--tolerance", type=float, default=1e-4, help="torch against aggan, relative (default 1e-4)")
    p.add_argument("--reference", choices=("float64",),
                   help="also run the step in float64 and judge ill-conditioned tensors by their accuracy")
    p.add_argument("--conditioning", type=float, default=1e-5,
                   help="a tensor that torch float32, or aggan's forward values, move this far from float64 is "
                        "ill-conditioned (default 1e-5)")
    p.add_argument("--factor", type=float, default=2.0,
                   help="an ill-conditioned tensor passes when aggan is no further from float64 than this times "
                        "torch float32 (default 2)")
    p.add_argument("--samples", type=int, default=8,
                   help="float32 steps from weights moved by up to 4 rounding units at random, which measure what "
                        "float32 rounding can do to each tensor (default 8)")
    p.add_argument("--verbose", action="store_true", help="print every tensor with its numbers and rule")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(1)

    batch, bmeta = read(args.batch)
    before, _ = read(args.before)
    trainer, stage, result = run_step(args.before, batch, bmeta, torch.float32)
    samples = []  # (tensors, losses) of float32 steps from weights moved by up to 4 rounding units
    if args.reference:
        for k in range(1, args.samples + 1):
            moved_trainer, _, moved_result = run_step(args.before, batch, bmeta, torch.float32, perturb=k)
            samples.append((state_tensors(moved_trainer), moved_result))
    step = trainer.step_count
    after, ameta = read(args.after)
    ours = state_tensors(trainer)
    exact = from_aggan = None
    if args.reference:
        reference, _, exact_result = run_step(args.before, batch, bmeta, torch.float64)
        exact = state_tensors(reference, torch.float64)
        forward = step_forward(before, after)
        if forward is None:
            print("  (aggan's forward values are not in its pools, whose step stored no pair: E_A is E)")
            from_aggan, from_aggan_result = exact, exact_result
        else:
            continued, _, from_aggan_result = run_step(args.before, batch, bmeta, torch.float64, forward)
            from_aggan = state_tensors(continued, torch.float64)
    aggan_line = aggan_losses(args.metrics, step) if args.metrics else None

    # kind -> worst torch~aggan, aggan~E, torch~E, E_A~E, aggan~E_A, ratio (each (value, name)), counts per rule
    table: dict[str, list] = {}
    failures, rows = [], []
    floor, direct = args.conditioning, short(args.tolerance)  # direct: the first rule's name, "1e-4"

    def judge(group: str, name: str, mine, theirs, exact_value=None, aggan_exact=None, draws=()) -> None:
        """Applies its rule to one tensor (or loss) and records it; `draws`: the same from
        the float32 steps of `samples`."""
        if isinstance(mine, float):
            mine, theirs = (torch.tensor([v], dtype=torch.float64) for v in (mine, theirs))
            draws = [torch.tensor([v], dtype=torch.float64) for v in draws]
            if exact_value is not None:
                exact_value, aggan_exact = (torch.tensor([v], dtype=torch.float64) for v in (exact_value, aggan_exact))
        e = relative(mine, theirs)
        row = table.setdefault(group, [(0.0, "")] * 6 + [0, 0])
        row[0] = max(row[0], (e, name))
        numbers = None
        if exact_value is None:
            rule, limit, judged = direct, args.tolerance, e
        else:
            e_aggan = relative(theirs, exact_value)
            e_torch = max([relative(mine, exact_value)] + [relative(x, exact_value) for x in draws])
            moved, e_own = relative(aggan_exact, exact_value), relative(theirs, aggan_exact)
            numbers = (e_aggan, e_torch, moved, e_own)
            for i, v in enumerate(numbers, 1):
                row[i] = max(row[i], (v, name))
            if e_torch <= floor and moved <= floor:
                rule, limit, judged = direct, args.tolerance, e
            else:
                rule, limit, judged = "accuracy", args.factor * max(e_torch, floor), e_own
                row[5] = max(row[5], (e_own / max(e_torch, floor), name))
        row[6 if rule == direct else 7] += 1
        ok = judged <= limit
        if not ok:
            failures.append(f"{name}: torch against aggan {e:.3g}, above {limit:g}" if rule == direct else
                            f"{name}: aggan {judged:.3g} from E_A, more than {args.factor:g} x max(torch float32 "
                            f"from E {numbers[1]:.3g}, {floor:g})")
        rows.append((name, rule, judged / limit, e, numbers))

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
        judge(kind(name), name, o, a, None if exact is None else exact[name], None if exact is None else from_aggan[name],
              [sample[0][name] for sample in samples])
    for key in ("step", "rng", "pool_sizes", "tau"):
        mine = {"step": str(step), "rng": str(trainer.rng.state),
                "pool_sizes": f"{len(trainer.pool_st.items)},{len(trainer.pool_ts.items)}",
                "tau": ameta.get("tau")}[key]
        if ameta.get(key) != mine:
            failures.append(f"metadata {key}: {mine} here, {ameta.get(key)} in aggan")
    if json.loads(ameta["adam_steps"]) != {"g": trainer.opt_g.steps, "d": trainer.opt_d.steps}:
        failures.append("metadata adam_steps differ")
    if args.metrics:
        if aggan_line is None:
            failures.append(f"no line for step {step} in {args.metrics}")
        else:
            for k in LOSS_TERMS:
                judge("loss", k, float(result[k]), float(aggan_line[k]),
                      None if exact is None else float(exact_result[k]), None if exact is None else float(from_aggan_result[k]),
                      [float(sample[1][k]) for sample in samples])

    print(f"step {step} (stage {stage}): worst relative error (L2, per tensor) per kind")
    if exact is None:
        print(f"  {'kind':26s} {'torch~aggan':>11s}")
        for group, row in sorted(table.items()):
            print(f"  {group:26s} {row[0][0]:11.2g}")
    else:
        print("  E: the step in float64; E_A: the same continuing from aggan's forward values. ratio: aggan~E_A /\n"
              f"  max(torch~E, {floor:g}), at most {args.factor:g} (accuracy rule). Tensors by rule: {direct} + accuracy.")
        print(f"  {'kind':26s} {'torch~aggan':>11s} {'aggan~E':>9s} {'torch~E':>9s} {'E_A~E':>9s} {'aggan~E_A':>9s} {'ratio':>6s}  rules")
        for group, row in sorted(table.items()):
            ratio = f"{row[5][0]:.2f}" if row[7] else "-"
            print(f"  {group:26s} {row[0][0]:11.2g} {row[1][0]:9.2g} {row[2][0]:9.2g} {row[3][0]:9.2g} {row[4][0]:9.2g}"
                  f" {ratio:>6s}  {row[6]:3d} + {row[7]}")
    print(f"  ({skipped} tensors not compared: biases of convs followed by an instance norm, whose gradient is rounding noise)")
    if args.verbose:
        print("  every tensor: name, rule, error / limit, torch~aggan" + ("" if exact is None else ", aggan~E, torch~E, E_A~E, aggan~E_A"))
        listed = rows
    else:
        listed = [r for rule in (direct, "accuracy") for r in sorted((r for r in rows if r[1] == rule), key=lambda r: -r[2])[:4]]
        print("  closest to their limits (--verbose lists every tensor): name, rule, error / limit, torch~aggan"
              + ("" if exact is None else ", aggan~E, torch~E, E_A~E, aggan~E_A"))
    for name, rule, margin, e, numbers in listed:
        extra = "" if numbers is None else " " + " ".join(f"{v:9.2g}" for v in numbers)
        print(f"    {name:42s} {rule:8s} {margin:6.2f} {e:9.2g}{extra}{'' if margin <= 1 else '  FAIL'}")
    if failures:
        print(f"check_step: step {step}: {len(failures)} failure(s), e.g.:")
        for f in failures[:10]:
            print("  " + f)
        return 1
    counts = f"{sum(r[1] == direct for r in rows)} by the {direct} rule, {sum(r[1] == 'accuracy' for r in rows)} by accuracy"
    print(f"check_step: step {step} ok ({counts}; metadata exact)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (CheckpointError, OSError) as e:
        print(f"check_step: {e}", file=sys.stderr)
        sys.exit(1)
