"""aggan's checkpoint format (Sources/AGGAN/Checkpoint.swift): a safetensors file with the
six networks under the spec's names, the Adam moments `optim.g|d.<name>.m|v`, the pools
`pool.st|ts.<i>.fake|mask`, the attention average `average.<name>` while stage 1 keeps
one, and string metadata (`format` = aggan, `format_version` = 1, `config`, `step`,
`epoch`, `rng`, `adam_steps`, `tau`, `pool_sizes`, `data.sampler`, `data.rng`, ...)."""
from __future__ import annotations

import ctypes
import json
import os
import struct
import sys
import tempfile

import torch
from safetensors import safe_open

from .model import AGGAN
from .rng import SplitMix64
from .trainer import Trainer

FORMAT = "aggan"
FORMAT_VERSION = "1"


class CheckpointError(Exception):
    """A checkpoint that cannot be read or written; the text names the file and the reason."""


def float_text(x: float) -> str:
    """A float32 as Swift prints it: the shortest text that reads back to the same float32."""
    if not (x == x) or x in (float("inf"), float("-inf")):
        return "nan" if x != x else ("inf" if x > 0 else "-inf")
    target = struct.pack("<f", x)
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if struct.pack("<f", float(text)) == target:
            if "e" in text:
                mantissa, exponent = text.split("e")
                text = f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0').rjust(2, '0')}"
            elif "." not in text:
                text += ".0"
            return text
    return repr(x)


def read(path: str) -> tuple[dict, dict]:
    """(tensors, metadata) of a safetensors file, as float32 CPU tensors."""
    if not os.path.exists(path):
        raise CheckpointError(f"cannot load checkpoint '{path}': no such file")
    if os.path.isdir(path):
        raise CheckpointError(f"cannot load checkpoint '{path}': is a directory")
    try:
        with safe_open(path, framework="pt") as f:
            metadata = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises several kinds; the message is what matters
        raise CheckpointError(f"cannot load checkpoint '{path}': not a readable safetensors file ({e})") from None
    return tensors, metadata


def load_checkpoint(path: str):
    """(model, config, tensors, metadata) of any aggan checkpoint: a training checkpoint
    (config from its metadata) or a weights-only file (architecture from the shapes,
    config None)."""
    tensors, meta = read(path)

    def fail(reason):
        return CheckpointError(f"cannot load checkpoint '{path}': {reason}")

    config = None
    if meta.get("format") == FORMAT:
        if meta.get("format_version") != FORMAT_VERSION:
            raise fail(f"format version {meta.get('format_version', 'none')} is not supported (this reads {FORMAT_VERSION})")
        try:
            config = json.loads(meta["config"])
            for key in ("imageSize", "channels", "ngf", "blocks", "ndf", "epochs", "iterationsPerEpoch", "seed"):
                int(config[key])
        except (KeyError, ValueError, TypeError):
            raise fail("its metadata has no readable config") from None
    enc1, c1 = tensors.get("gen_st.enc1.conv.weight"), tensors.get("disc_s.c1.conv.weight")
    if enc1 is None or c1 is None or enc1.dim() != 4 or c1.dim() != 4:
        raise fail("not an AGGAN checkpoint (no gen_st.enc1.conv.weight or disc_s.c1.conv.weight)")
    channels, ngf, ndf = enc1.shape[1], enc1.shape[0], c1.shape[0]
    blocks = 0
    while f"gen_st.res{blocks}.conv1.weight" in tensors:
        blocks += 1
    if channels not in (1, 3):
        raise fail(f"unsupported architecture: {channels} channels")
    if config is not None and (config["channels"], config["ngf"], config["blocks"], config["ndf"]) != (channels, ngf, blocks, ndf):
        raise fail("config disagrees with the tensors")
    eps = float(config.get("attentionNormEpsilon", 1e-5)) if config else float(meta.get("attention_norm_eps", 1e-5))
    baseline = bool(config.get("baseline", False)) if config else meta.get("baseline") == "true"
    model = AGGAN(channels, ngf, blocks, ndf, eps, baseline)
    state = model.state_dict()
    missing = [k for k in state if k not in tensors]
    if missing:
        raise fail(f"{len(missing)} tensor(s) missing, e.g. {', '.join(missing[:3])}")
    for k, v in state.items():
        e = tensors[k]
        if e.dtype != torch.float32 or tuple(e.shape) != tuple(v.shape):
            raise fail(f"tensor '{k}' is {e.dtype} {list(e.shape)}, expected float32 {list(v.shape)}")
    model.load_state_dict({k: tensors[k] for k in state}, strict=True)
    return model, config, tensors, meta


def resume(path: str, device="cpu", dtype=torch.float32) -> tuple[Trainer, dict]:
    """A trainer in the state a training checkpoint holds: model, moments and step counts,
    pools, pool stream, step, tau and attention average. Returns it and the metadata.
    `dtype` float64 runs the same state in double precision (check_step's reference)."""
    model, config, tensors, meta = load_checkpoint(path)
    model.to(dtype)

    def fail(reason):
        return CheckpointError(f"cannot load checkpoint '{path}': {reason}")

    if config is None:
        raise fail("it holds weights only (no training state), so training cannot resume from it")
    trainer = Trainer(config, model, device)
    try:
        step, rng, tau = int(meta["step"]), int(meta["rng"]), float(meta["tau"])
        steps = json.loads(meta["adam_steps"])
        sizes = [int(x) for x in meta["pool_sizes"].split(",")]
        if step < 0 or len(sizes) != 2:
            raise ValueError
    except (KeyError, ValueError, TypeError):
        raise fail("its training metadata (step, rng, tau, adam_steps, pool_sizes) is missing or malformed") from None
    for prefix, opt, key in (("optim.g", trainer.opt_g, "g"), ("optim.d", trainer.opt_d, "d")):
        if len(steps.get(key, [])) != len(opt.params):
            raise fail("adam_steps does not match the parameters")
        for k, (name, p) in enumerate(opt.params):
            m, v = tensors.get(f"{prefix}.{name}.m"), tensors.get(f"{prefix}.{name}.v")
            if m is None or v is None or m.numel() != p.numel() or v.numel() != p.numel():
                raise fail(f"optimiser state for '{name}' is missing or has the wrong size")
            opt.m[k] = m.reshape(p.shape).to(trainer.device, dtype).clone()
            opt.v[k] = v.reshape(p.shape).to(trainer.device, dtype).clone()
            opt.steps[k] = int(steps[key][k])
    for pool, prefix, size in ((trainer.pool_st, "pool.st", sizes[0]), (trainer.pool_ts, "pool.ts", sizes[1])):
        pool.items = []
        for i in range(size):
            f, mk = tensors.get(f"{prefix}.{i}.fake"), tensors.get(f"{prefix}.{i}.mask")
            if f is None or mk is None:
                raise fail(f"pool entry {prefix}.{i} is missing or malformed")
            pool.items.append((f.to(trainer.device, dtype).clone(), mk.to(trainer.device, dtype).clone()))
    if trainer.schedule.keeps_attention_average(step):
        trainer.average = []
        for name, p in model.attention_parameters():
            a = tensors.get(f"average.{name}")
            if a is None or a.numel() != p.numel():
                raise fail(f"the attention average for '{name}' is missing or has the wrong size")
            trainer.average.append(a.reshape(p.shape).to(trainer.device, dtype).clone())
    else:
        trainer.average = None
    trainer.rng = SplitMix64(rng)
    trainer.step_count = step
    trainer.tau = tau
    trainer.model.set_stage(trainer.stage, trainer.schedule.freeze_attention)
    return trainer, meta


def state_tensors(trainer: Trainer, dtype=torch.float32) -> dict:
    """Everything a training checkpoint holds as named CPU tensors (float32 unless `dtype`)."""
    out = {k: v for k, v in trainer.model.state_dict().items()}
    for prefix, opt in (("optim.g", trainer.opt_g), ("optim.d", trainer.opt_d)):
        for k, (name, _) in enumerate(opt.params):
            out[f"{prefix}.{name}.m"] = opt.m[k]
            out[f"{prefix}.{name}.v"] = opt.v[k]
    for prefix, pool in (("pool.st", trainer.pool_st), ("pool.ts", trainer.pool_ts)):
        for i, (fake, mask) in enumerate(pool.items):
            out[f"{prefix}.{i}.fake"] = fake
            out[f"{prefix}.{i}.mask"] = mask
    if trainer.average is not None:
        for (name, _), a in zip(trainer.model.attention_parameters(), trainer.average):
            out[f"average.{name}"] = a
    return {k: v.detach().to("cpu", dtype).contiguous() for k, v in out.items()}


def safetensors_bytes(tensors: dict, metadata: dict) -> bytes:
    """The safetensors encoding of float32 CPU tensors (names sorted, the header padded with
    spaces to 8 bytes, little-endian data), written here so that no numpy is needed."""
    if sys.byteorder != "little":
        raise CheckpointError("writing checkpoints needs a little-endian machine")
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = ctypes.string_at(t.data_ptr(), t.numel() * 4) if t.numel() else b""
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def atomic_write(data: bytes, path: str) -> None:
    """A temporary file beside `path` (`.NAME.PID.tmp`, which aggan sweeps up after a crash),
    synced, renamed over `path`, the folder synced: `path` is the old file or the new one."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + f".{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(trainer: Trainer, path: str, config_json: str, extra: dict | None = None) -> None:
    """Writes a training checkpoint aggan resumes from, atomically; a state holding a NaN or
    an infinity is refused (never written). `config_json` is the config as the source
    checkpoint spelled it; `extra` adds metadata (the data streams, view settings)."""
    tensors = state_tensors(trainer)
    for name in sorted(tensors):
        finite = torch.isfinite(tensors[name])
        if not bool(finite.all()):
            value = tensors[name][~finite].flatten()[0].item()
            raise CheckpointError(f"cannot write checkpoint '{path}': tensor '{name}' holds {value}")
    metadata = dict(extra or {})
    metadata.update({
        "format": FORMAT, "format_version": FORMAT_VERSION, "config": config_json,
        "step": str(trainer.step_count), "epoch": str(trainer.epoch), "rng": str(trainer.rng.state),
        "adam_steps": json.dumps({"d": trainer.opt_d.steps, "g": trainer.opt_g.steps}, separators=(",", ":")),
        "tau": float_text(trainer.tau),
        "pool_sizes": f"{len(trainer.pool_st.items)},{len(trainer.pool_ts.items)}",
    })
    try:
        atomic_write(safetensors_bytes(tensors, metadata=metadata), path)
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint '{path}': {e.strerror or e}") from None
