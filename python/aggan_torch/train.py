"""Continue an aggan run in PyTorch, on one process or many (torchrun, DDP).

    torchrun --standalone --nproc_per_node N -m aggan_torch.train \\
        --from RUN/checkpoints/step-NNNNNNN.safetensors --data DIR --out RUN2

Everything the checkpoint holds carries over (weights, Adam moments and step counts,
pools, pool stream, step, schedule, config, data order); the run folder `--out` gets
aggan's `run.json`, `config.json`, `metrics.jsonl` (the source run's lines up to the
checkpoint, then one line per step), `loss_log.txt` and `checkpoints/` in aggan's format
(rank 0, atomic, the newest 3 kept), so `aggan view`, `aggan translate` and
`aggan train --resume` take it. NCCL on GPUs, gloo on CPUs; data sharded by rank."""
from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import signal
import sys
import time

import torch
import torch.distributed as dist

from . import __version__
from .checkpoint import CheckpointError, float_text, resume, save
from .data import DataError, TrainingData
from .trainer import ATTENTION_FIELDS, DISCRIMINATOR_FIELDS, LOSS_TERMS, NonFiniteStep

PROG = "aggan_torch.train"


class UserError(Exception):
    pass


def parse(argv):
    p = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="source", required=True, metavar="CHECKPOINT", help="aggan training checkpoint to continue")
    p.add_argument("--data", help="dataset folder in the CycleGAN layout (trainA, trainB); default: the source run's run.json")
    p.add_argument("--domain-a", help="domain A folder, instead of --data")
    p.add_argument("--domain-b", help="domain B folder, instead of --data")
    p.add_argument("--out", required=True, metavar="RUN", help="run folder to write (may be the source run's own folder)")
    p.add_argument("--max-steps", type=int, help="stop after this step (default: the end of the schedule)")
    p.add_argument("--checkpoint-every", type=int, default=500, help="checkpoint every this many steps (and at the end)")
    p.add_argument("--keep", type=int, default=3, help="checkpoints kept (the newest)")
    p.add_argument("--log-every", type=int, default=10, help="a progress line every this many steps")
    p.add_argument("--threads", type=int, help="torch threads per process")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CUDA when available")
    p.add_argument("--no-microscopy-augmentation", action="store_true", default=None,
                   help="only the spec's augmentation (default: as the source run's run.json says)")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- run folder

def _json_text(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _write_text(path: str, text: str) -> None:
    from .checkpoint import atomic_write
    atomic_write(text.encode(), path)


def _lines_up_to(path: str, step: int, key) -> str:
    if not os.path.exists(path):
        return ""
    kept = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            s = key(line)
            if s is not None and s <= step:
                kept.append(line if line.endswith("\n") else line + "\n")
    return "".join(kept)


def _metrics_step(line: str):
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return None


def _log_step(line: str):
    i = line.find("step: ")
    if i < 0:
        return None
    digits = ""
    for ch in line[i + 6:]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None


class RunFolder:
    """aggan's run folder layout, written by rank 0 only; `run.lock` held with flock, as
    aggan does, so an aggan process and this one never write the same run."""

    def __init__(self, path: str):
        self.path = path
        self.checkpoints_dir = os.path.join(path, "checkpoints")
        self.metrics = os.path.join(path, "metrics.jsonl")
        self.loss_log = os.path.join(path, "loss_log.txt")
        self._lock_fd = None
        self._metrics_f = self._log_f = None

    def open(self) -> None:
        try:
            os.makedirs(self.checkpoints_dir, exist_ok=True)
            fd = os.open(os.path.join(self.path, "run.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise UserError(f"cannot create run folder '{self.path}': {e.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 16, 0).decode(errors="replace").strip()
            os.close(fd)
            raise UserError(f"'{self.path}' is in use by another process ({'pid ' + holder + ', ' if holder else ''}it holds run.lock)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd
        for folder in (self.path, self.checkpoints_dir):
            for name in os.listdir(folder):
                if name.startswith(".") and ".tmp" in name:
                    try:
                        os.unlink(os.path.join(folder, name))
                    except OSError:
                        pass

    def checkpoints(self) -> list[tuple[int, str]]:
        out = []
        for n in os.listdir(self.checkpoints_dir):
            if n.startswith("step-") and n.endswith(".safetensors") and n[5:-12].isdigit():
                out.append((int(n[5:-12]), os.path.join(self.checkpoints_dir, n)))
        return sorted(out)

    def checkpoint_path(self, step: int) -> str:
        return os.path.join(self.checkpoints_dir, f"step-{step:07d}.safetensors")

    def prune(self, keep: int) -> None:
        for _, path in self.checkpoints()[:-max(1, keep)]:
            try:
                os.unlink(path)
            except OSError:
                pass

    def start(self, step: int, config: dict, run_info: dict, history_from: str | None) -> None:
        """run.json, config.json, and the history up to `step`: this folder's own lines
        when it has them (continuing in place), else the source run's."""
        later = [s for s, _ in self.checkpoints() if s > step]
        if later:
            raise UserError(f"'{self.path}' already holds checkpoint step {later[-1]}, after the step {step} to continue "
                            "from: aggan would resume from that one (choose another --out)")
        _write_text(os.path.join(self.path, "run.json"), _json_text(run_info))
        _write_text(os.path.join(self.path, "config.json"), _json_text(config))
        source = self.path if os.path.exists(self.metrics) or history_from is None else history_from
        _write_text(self.metrics, _lines_up_to(os.path.join(source, "metrics.jsonl"), step, _metrics_step))
        _write_text(self.loss_log, _lines_up_to(os.path.join(source, "loss_log.txt"), step, _log_step))
        self._metrics_f = open(self.metrics, "a", encoding="utf-8")
        self._log_f = open(self.loss_log, "a", encoding="utf-8")

    def append(self, step: int, schedule, result: dict) -> None:
        """One line in each log, as aggan's MetricsRecorder writes them."""
        epoch = schedule.epoch(step - 1)
        fields = [f'"step":{step}', f'"epoch":{epoch + 1}', f'"stage":{schedule.stage(step - 1)}',
                  f'"lr":{float_text(schedule.learning_rate(epoch))}']

        def number(v):
            return float_text(v) if math.isfinite(v) else "null"

        fields += [f'"{k}":{number(result[k])}' for k in LOSS_TERMS]
        if result.get("attention"):
            fields += [f'"{k}":{number(result["attention"][k])}' for k in ATTENTION_FIELDS]
        fields += [f'"{k}":{number(result["discriminator"][k])}' for k in DISCRIMINATOR_FIELDS]
        self._metrics_f.write("{" + ",".join(fields) + "}\n")
        self._metrics_f.flush()
        it = (step - 1) % schedule.iterations_per_epoch + 1
        self._log_f.write(f"(epoch: {epoch + 1}, iters: {it}, step: {step}) "
                          + " ".join(f"{k}: {result[k]:.4f}" for k in LOSS_TERMS) + "\n")
        self._log_f.flush()


# ----------------------------------------------------------------------------- distributed

def setup_distributed(device_choice: str):
    """(rank, world, device, backend): torchrun's environment, NCCL on GPUs, gloo on CPUs."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and device_choice != "cpu"
    if device_choice == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda, but torch sees no CUDA device")
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    backend = "nccl" if cuda else "gloo"
    if world > 1:
        dist.init_process_group(backend=backend)
        rank, world = dist.get_rank(), dist.get_world_size()
    return rank, world, device, backend


def agree(error: str | None, rank: int, world: int) -> None:
    """Every rank learns whether any failed (so none waits forever for a dead one); the
    lowest failing rank prints its message, and every rank exits with status 1."""
    if world > 1:
        first = torch.tensor([rank if error else world])
        dist.all_reduce(first, op=dist.ReduceOp.MIN)
        if int(first.item()) < world:
            if int(first.item()) == rank:
                print(f"{PROG}: {error}", file=sys.stderr, flush=True)
            dist.destroy_process_group()
            raise SystemExit(1)
    elif error:
        raise UserError(error)


def source_run(checkpoint: str) -> str | None:
    """The run folder a checkpoint lives in (RUN/checkpoints/step-N.safetensors), if any."""
    folder = os.path.dirname(os.path.abspath(checkpoint))
    if os.path.basename(folder) == "checkpoints" and os.path.exists(os.path.join(os.path.dirname(folder), "run.json")):
        return os.path.dirname(folder)
    return None


# ----------------------------------------------------------------------------- main

def run(args) -> int:
    if args.threads:
        torch.set_num_threads(max(1, args.threads))
    rank, world, device, backend = setup_distributed(args.device)
    stop = {"requested": False}

    def request_stop(signum, frame):
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def say(text: str) -> None:
        if rank == 0:
            print(text, flush=True)

    error, trainer, meta, data, folder = None, None, None, None, None
    try:
        trainer, meta = resume(args.source, device)
        src = source_run(args.source)
        info = {}
        if src:
            try:
                with open(os.path.join(src, "run.json"), encoding="utf-8") as f:
                    info = json.load(f)
            except (OSError, ValueError):
                info = {}
        if args.data:
            domain_a, domain_b = os.path.join(args.data, "trainA"), os.path.join(args.data, "trainB")
            info_out = {"data": os.path.abspath(args.data)}
        elif args.domain_a or args.domain_b:
            if not (args.domain_a and args.domain_b):
                raise UserError("give both --domain-a and --domain-b")
            domain_a, domain_b = args.domain_a, args.domain_b
            info_out = {"domainA": os.path.abspath(domain_a), "domainB": os.path.abspath(domain_b)}
        elif info.get("data") or (info.get("domainA") and info.get("domainB")):
            domain_a = os.path.join(info["data"], "trainA") if info.get("data") else info["domainA"]
            domain_b = os.path.join(info["data"], "trainB") if info.get("data") else info["domainB"]
            info_out = {k: info[k] for k in ("data", "domainA", "domainB") if info.get(k)}
        else:
            raise UserError("give --data DIR (or --domain-a and --domain-b): the checkpoint is not in a run folder with a run.json")
        microscopy = (not args.no_microscopy_augmentation) if args.no_microscopy_augmentation else bool(info.get("microscopyAugmentation", True))
        info_out["microscopyAugmentation"] = microscopy
        if "data.sampler" not in meta or "data.rng" not in meta:
            raise UserError(f"'{args.source}' has no data sampler state (data.sampler, data.rng)")
        data = TrainingData(domain_a, domain_b, trainer.config, meta["data.sampler"], int(meta["data.rng"]),
                            microscopy, rank, world)
        if rank == 0:
            folder = RunFolder(args.out)
            folder.open()
            folder.start(trainer.step_count, trainer.config, info_out, src)
    except (UserError, CheckpointError, DataError) as e:
        error = str(e)
    except OSError as e:
        error = f"{getattr(e, 'filename', '') or args.out}: {e.strerror or e}"
    agree(error, rank, world)

    sch = trainer.schedule
    end = min(args.max_steps if args.max_steps is not None else sch.total_steps, sch.total_steps)
    start = trainer.step_count
    say(f"continuing from step {start} of {sch.total_steps} ({os.path.basename(args.source)}) on {world} "
        f"process(es), {device.type}, {backend if world > 1 else 'no process group'}; to step {end}")
    last_saved = start
    config_json = meta["config"]

    def checkpoint() -> str | None:
        extra = dict(data.state())
        extra.update({k: meta[k] for k in ("view_tau", "view_mode") if k in meta})
        extra["run_name"] = os.path.basename(os.path.abspath(args.out))
        extra["trained_by"] = f"aggan_torch {__version__}, {world} process(es), {device.type}"
        path = folder.checkpoint_path(trainer.step_count)
        try:
            save(trainer, path, config_json, extra)
        except CheckpointError as e:
            return str(e)
        folder.prune(args.keep)
        return None

    t0, n0 = time.time(), trainer.step_count
    failure = None
    while trainer.step_count < end:
        flag = torch.tensor([1.0 if stop["requested"] else 0.0])
        if world > 1:
            dist.all_reduce(flag)
        if flag.item() > 0:
            say(f"stopping at step {trainer.step_count} (signal)")
            break
        s, t, guide = data.next(with_guide=sch.guides_attention)
        try:
            result = trainer.step(s, t, guide)
        except NonFiniteStep as e:
            failure = f"{e}; the update was not applied and nothing is saved after it (the last good checkpoint is step {last_saved})"
            break
        step = trainer.step_count
        if rank == 0:
            folder.append(step, sch, result)
            if step == end or (args.checkpoint_every > 0 and step % args.checkpoint_every == 0):
                problem = checkpoint()
                if problem:
                    print(f"{PROG}: {problem} (training goes on; the last good checkpoint is step {last_saved})",
                          file=sys.stderr, flush=True)
                else:
                    last_saved = step
            if step % max(1, args.log_every) == 0 or step == end:
                rate = (step - n0) / max(1e-9, time.time() - t0)
                say(f"step {step}/{end} · stage {sch.stage(step - 1)} · lr {float_text(sch.learning_rate(sch.epoch(step - 1)))} · "
                    + " ".join(f"{k} {result[k]:.4g}" for k in LOSS_TERMS) + f" · {rate:.2f} it/s")
    if failure is None and rank == 0 and last_saved != trainer.step_count:
        problem = checkpoint()
        if problem:
            failure = f"the final checkpoint was not written (the last good checkpoint is step {last_saved}): {problem}"
        else:
            last_saved = trainer.step_count
    if rank == 0 and failure is None:
        say(f"saved {folder.checkpoint_path(last_saved)}")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if failure:
        if rank == 0:
            print(f"{PROG}: {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except UserError as e:
        if int(os.environ.get("RANK", "0")) == 0:
            print(f"{PROG}: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
