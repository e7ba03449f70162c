#!/usr/bin/env python3
"""Reads a run's TensorBoard events with TensorBoard's own reader and checks them.

Usage: scripts/check-tensorboard.py RUN_DIR [--expect-steps N]

Prints the scalar tags with the number of steps of each, the image count and the
histogram tags with their step counts. Fails
(exit 1) when a tag repeats a step or its steps go backwards (as a resume that did not
truncate would give), when there are no scalars, or when a loss tag does not have
N steps (--expect-steps). Needs Python's `tensorboard` package (pip install tensorboard);
without it, prints why and exits 0.
"""
import argparse
import os
import sys

try:
    from tensorboard.backend.event_processing import event_accumulator
except ImportError as error:  # the check is optional: say why it did not run
    print(f"check-tensorboard: skipped, Python package 'tensorboard' not importable ({error})")
    sys.exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--expect-steps", type=int)
    args = parser.parse_args()
    tb = os.path.join(args.run_dir, "tb")
    if not os.path.isdir(tb):
        print(f"check-tensorboard: '{tb}' does not exist", file=sys.stderr)
        return 1
    files = sorted(f for f in os.listdir(tb) if "tfevents" in f)
    # Keep everything, and do not let the reader purge out-of-order steps: a repeated step
    # must show up here, not be hidden.
    acc = event_accumulator.EventAccumulator(
        tb, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0,
                       event_accumulator.HISTOGRAMS: 0},
        purge_orphaned_data=False)
    acc.Reload()
    tags = acc.Tags()
    scalars = sorted(tags.get("scalars", []))
    problems = []
    print(f"{tb}: {len(files)} events file(s)")
    for tag in scalars:
        steps = [e.step for e in acc.Scalars(tag)]
        repeated = len(steps) - len(set(steps))
        backwards = sum(1 for a, b in zip(steps, steps[1:]) if b <= a)
        note = ""
        if repeated or backwards:
            note = f"  <- {repeated} repeated, {backwards} out of order"
            problems.append(tag)
        print(f"  {tag}: {len(steps)} steps ({steps[0]}..{steps[-1]}){note}")
        if args.expect_steps is not None and tag.startswith("loss/") and len(set(steps)) != args.expect_steps:
            problems.append(f"{tag} has {len(set(steps))} steps, expected {args.expect_steps}")
    images = sum(len(acc.Images(t)) for t in tags.get("images", []))
    print(f"  images: {images} ({', '.join(tags.get('images', [])) or 'none'})")
    for tag in sorted(tags.get("histograms", [])):
        steps = [e.step for e in acc.Histograms(tag)]
        if len(steps) != len(set(steps)):
            problems.append(tag)
        print(f"  histogram {tag}: {len(steps)} steps ({', '.join(map(str, steps))})")
    if not scalars:
        problems.append("no scalars")
    if problems:
        print("check-tensorboard: FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("check-tensorboard: ok (one curve per tag, no repeated step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
