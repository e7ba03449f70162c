"""aggan's training step in PyTorch (Sources/AGGAN/Trainer.swift): L_G for G_ST, G_TS, A_S,
A_T in one Adam update, then L_D_S + L_D_T on pooled fakes in another; stage 1 (IN* on,
attention trained, the optional attention guide and average), stage 2 (IN* off,
attention frozen, discriminators see x * 1[A > tau]); the learning-rate schedule.

Under torch.distributed the two objectives run inside DistributedDataParallel, so each
update uses the gradient averaged over the ranks' pairs; without it, one process is
exactly aggan's step (batch 1)."""
from __future__ import annotations

import math
import struct

import torch
import torch.distributed as dist
import torch.nn as nn

from .model import AGGAN, compose
from .rng import SplitMix64

LOSS_TERMS = ("adv_st", "adv_ts", "cyc_s", "cyc_t", "g_total", "d_s", "d_t")
ATTENTION_FIELDS = ("att_s_mean", "att_s_above", "att_s_spread", "att_t_mean", "att_t_above", "att_t_spread")
DISCRIMINATOR_FIELDS = ("d_s_real", "d_s_fake", "d_t_real", "d_t_fake")


def f32(x: float) -> float:
    """x rounded to float32 (aggan computes its scalars in Float)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Schedule:
    """The parts of aggan's `Config` that decide what a step does (Sources/AGGAN/Config.swift)."""

    def __init__(self, config: dict):
        self.config = config
        self.epochs = int(config["epochs"])
        self.iterations_per_epoch = int(config["iterationsPerEpoch"])
        self.switch_fraction = float(config["switchFraction"])
        self.base_lr = f32(float(config["learningRate"]))
        self.lam = f32(float(config["lambda"]))
        self.tau = f32(float(config["tau"]))
        self.pool_size = int(config["poolSize"])
        self.baseline = bool(config.get("baseline", False))
        self.freeze_attention = bool(config.get("freezeAttention", True))
        self.attention_prior = f32(float(config.get("attentionPrior", 0)))
        self.attention_sparsity = f32(float(config.get("attentionSparsity", 0)))
        self.identity_weight = f32(float(config.get("identityWeight", 0)))
        self.attention_average = f32(float(config.get("attentionAverage", 0)))
        self.attention_guide = f32(float(config.get("attentionGuide", 0)))
        self.attention_guide_balance = bool(config.get("attentionGuideBalance", False))
        self.attention_guide_fade = bool(config.get("attentionGuideFade", False))
        self.attention_identity = f32(float(config.get("attentionIdentity", 0)))

    @property
    def total_steps(self) -> int:
        return self.epochs * self.iterations_per_epoch

    def epoch(self, step: int) -> int:
        """The 0-based epoch of a 0-based step."""
        return min(step // self.iterations_per_epoch, self.epochs - 1)

    @property
    def switch_epoch(self) -> int:
        return int(math.floor(self.epochs * self.switch_fraction + 1e-9))

    def stage(self, step: int) -> int:
        return 1 if self.baseline or self.epoch(step) < self.switch_epoch else 2

    def learning_rate(self, epoch: int) -> float:
        """Constant for the first half of the epochs, then linear decay to 0 at the last."""
        half = self.epochs // 2
        if epoch < half or self.epochs - 1 <= half:
            return self.base_lr
        return f32(self.base_lr * f32(max(0.0, (self.epochs - 1 - epoch) / (self.epochs - 1 - half))))

    @property
    def averages_attention(self) -> bool:
        return self.attention_average > 0 and self.freeze_attention and not self.baseline

    @property
    def guides_attention(self) -> bool:
        return self.attention_guide > 0 and not self.baseline

    def keeps_attention_average(self, steps: int) -> bool:
        return self.averages_attention and (steps == 0 or self.stage(steps - 1) == 1)

    def guide_weight(self, step: int) -> float:
        """The guide's weight at a 0-based step: constant, or with the fade linear from
        the full weight at step 0 to 0 at the first step of stage 2."""
        if not self.attention_guide_fade:
            return self.attention_guide
        switch_step = self.switch_epoch * self.iterations_per_epoch
        return f32(self.attention_guide * f32(max(0.0, 1 - step / switch_step))) if switch_step > 0 else 0.0

    def guide_weights(self, cell_fraction: float) -> tuple[float, float]:
        if not self.attention_guide_balance:
            return 1.0, 1.0
        f = min(max(cell_fraction, 0.01), 0.99)
        return f32(0.5 / f), f32(0.5 / (1 - f))


class ImagePool:
    """Past fakes with their sources' masks: until full it stores and returns the new pair;
    once full, with probability 0.5 it returns a random stored pair and puts the new one in
    its place (draws from the trainer's pool stream)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.items: list[tuple[torch.Tensor, torch.Tensor]] = []

    def query(self, fake: torch.Tensor, mask: torch.Tensor, rng: SplitMix64):
        pair = (fake.detach().clone(), mask.detach().clone())
        if self.capacity == 0:
            return pair
        if len(self.items) < self.capacity:
            self.items.append(pair)
            return pair
        if rng.next_double() < 0.5:
            i = rng.next_int(self.capacity)
            old = self.items[i]
            self.items[i] = pair
            return old
        return pair


class Adam:
    """Adam as aggan (and PyTorch) computes it, beta1 0.5, beta2 0.999, eps 1e-8: per
    parameter two moments and its own step count; a parameter without a gradient is
    skipped (its count does not advance)."""

    def __init__(self, params: list[tuple[str, nn.Parameter]], beta1=0.5, beta2=0.999, eps=1e-8):
        self.params = params
        self.beta1, self.beta2, self.eps = f32(beta1), f32(beta2), f32(eps)
        self.m = [torch.zeros_like(p) for _, p in params]
        self.v = [torch.zeros_like(p) for _, p in params]
        self.steps = [0] * len(params)

    @torch.no_grad()
    def step(self, lr: float) -> None:
        for k, (_, p) in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            self.steps[k] += 1
            t = self.steps[k]
            bc1, bc2 = f32(1 - f32(self.beta1 ** t)), f32(1 - f32(self.beta2 ** t))
            step_size, bc2_sqrt = f32(lr / bc1), f32(math.sqrt(bc2))
            self.m[k].mul_(self.beta1).add_(g, alpha=f32(1 - self.beta1))
            self.v[k].mul_(self.beta2).addcmul_(g, g, value=f32(1 - self.beta2))
            denom = (self.v[k].sqrt() / bc2_sqrt).add_(self.eps)
            p.addcdiv_(self.m[k], denom, value=-step_size)
            p.grad = None

    def first_non_finite_gradient(self):
        for name, p in self.params:
            if p.grad is not None and not bool(torch.isfinite(p.grad).all()):
                bad = p.grad[~torch.isfinite(p.grad)].flatten()[0].item()
                return name, bad
        return None


class NonFiniteStep(Exception):
    """A step refused before any weight or moment changed: a loss or a gradient was NaN or
    infinite (aggan's `NonFiniteStep`, same wording)."""

    def __init__(self, step: int, quantity: str, name: str, value: float):
        self.step, self.quantity, self.name, self.value = step, quantity, name, value
        shown = "nan" if math.isnan(value) else str(value)
        super().__init__(f"non-finite {quantity} at step {step}: {name} = {shown}")


def disc_input(x: torch.Tensor, mask: torch.Tensor, stage: int, tau: float) -> torch.Tensor:
    """The whole image in stage 1, x * 1[mask > tau] in stage 2 (no gradient through the mask)."""
    return x if stage == 1 else x * (mask.detach() > tau).to(x.dtype)


def binary_cross_entropy(a: torch.Tensor, p: torch.Tensor, wp: float = 1.0, wn: float = 1.0) -> torch.Tensor:
    """mean(-(wp p log A + wn (1 - p) log(1 - A))), the logarithms floored at 1e-30."""
    positive = (p * torch.log(torch.clamp(a, min=1e-30))) * wp
    negative = ((1 - p) * torch.log(torch.clamp(1 - a, min=1e-30))) * wn
    return -(positive + negative).mean()


class GeneratorObjective(nn.Module):
    """L_G of one pair: registers G_ST, G_TS, A_S, A_T (what DDP reduces); the
    discriminators are used but not registered (their weights do not move here)."""

    def __init__(self, model: AGGAN, schedule: Schedule):
        super().__init__()
        self.gen_st, self.gen_ts, self.att_s, self.att_t = model.gen_st, model.gen_ts, model.att_s, model.att_t
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "schedule", schedule)

    def branch(self, x, direction, stage, tau, guide):
        m, sch = self.model, self.schedule
        back = "b2a" if direction == "a2b" else "a2b"
        adv, cyc = ("adv_st", "cyc_s") if direction == "a2b" else ("adv_ts", "cyc_t")
        a, g, comp = m.translate(x, direction)
        cycle = m.translate(comp, back)[2]
        score = (m.disc_t if direction == "a2b" else m.disc_s)(disc_input(comp, a, stage, tau))
        terms = {adv: ((score - 1) ** 2).mean(), cyc: (x - cycle).abs().mean()}
        total = terms[adv] + terms[cyc] * sch.lam
        if not m.attention_is_one and sch.attention_prior > 0:
            terms["att_prior"] = (a * (1 - a)).mean()
            total = total + terms["att_prior"] * sch.attention_prior
        if not m.attention_is_one and sch.attention_sparsity > 0:
            terms["att_sparsity"] = a.mean()
            total = total + terms["att_sparsity"] * sch.attention_sparsity
        if sch.guides_attention and stage == 1 and guide is not None:
            mask, fraction, weight = guide
            wp, wn = sch.guide_weights(fraction)
            terms["att_guide"] = binary_cross_entropy(a, mask, wp, wn)
            total = total + terms["att_guide"] * weight
        if not m.attention_is_one and sch.attention_identity > 0 and stage == 1:
            # The other direction's attention on x, which is already of its target domain.
            other = (m.att_t if direction == "a2b" else m.att_s)(x)
            terms["att_identity"] = binary_cross_entropy(other, torch.zeros_like(other))
            total = total + terms["att_identity"] * sch.attention_identity
        if sch.identity_weight > 0:
            terms["idt"] = ((m.gen_ts if back == "b2a" else m.gen_st)(x) - x).abs().mean()
            total = total + terms["idt"] * sch.identity_weight
        return terms, total, (a, comp)

    def forward(self, s, t, stage: int, tau: float, guide_s=None, guide_t=None):
        terms_s, total_s, (a_s, s_fake) = self.branch(s, "a2b", stage, tau, guide_s)
        terms_t, total_t, (a_t, t_fake) = self.branch(t, "b2a", stage, tau, guide_t)
        terms = dict(terms_s)
        for k, v in terms_t.items():
            terms[k] = terms[k] + v if k in terms else v
        return total_s + total_t, terms, a_s, s_fake, a_t, t_fake


class DiscriminatorObjective(nn.Module):
    """L_D_S and L_D_T: 0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2)), masked in stage 2."""

    def __init__(self, model: AGGAN):
        super().__init__()
        self.disc_s, self.disc_t = model.disc_s, model.disc_t

    def forward(self, s, t, a_s, a_t, fake_st, mask_st, fake_ts, mask_ts, stage: int, tau: float):
        out_real_t = self.disc_t(disc_input(t, a_t, stage, tau))
        out_fake_t = self.disc_t(disc_input(fake_st, mask_st, stage, tau))
        out_real_s = self.disc_s(disc_input(s, a_s, stage, tau))
        out_fake_s = self.disc_s(disc_input(fake_ts, mask_ts, stage, tau))
        d_s = 0.5 * (((out_real_s - 1) ** 2).mean() + (out_fake_s ** 2).mean())
        d_t = 0.5 * (((out_real_t - 1) ** 2).mean() + (out_fake_t ** 2).mean())
        outputs = torch.stack([out_real_s.mean(), out_fake_s.mean(), out_real_t.mean(), out_fake_t.mean()]).detach()
        return d_s, d_t, outputs


def attention_stats(a: torch.Tensor, tau: float) -> list[float]:
    """mean, fraction above tau, spatial spread (standard deviation) of an attention map."""
    v = a.detach().double().flatten()
    n = max(1, v.numel())
    mean = v.sum().item() / n
    squares = (v * v).sum().item() / n
    above = (a.detach() > tau).sum().item() / n
    return [mean, above, math.sqrt(max(0.0, squares - mean * mean))]


class Trainer:
    """The model, both optimisers, both pools, the pool stream, the step count, tau and the
    attention average: everything an aggan checkpoint holds about training."""

    def __init__(self, config: dict, model: AGGAN, device: torch.device | str = "cpu"):
        self.config = config
        self.schedule = Schedule(config)
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.model.attention_is_one = self.schedule.baseline
        self.opt_g = Adam(self.model.generator_parameters())
        self.opt_d = Adam(self.model.discriminator_parameters())
        self.pool_st = ImagePool(self.schedule.pool_size)
        self.pool_ts = ImagePool(self.schedule.pool_size)
        self.rng = SplitMix64((int(config["seed"]) + 0x5EED) & ((1 << 64) - 1))
        self.step_count = 0
        self.tau = self.schedule.tau
        self.average: list[torch.Tensor] | None = None
        if self.schedule.averages_attention:
            self.average = [p.detach().clone() for _, p in self.model.attention_parameters()]
        self.distributed = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        self._wrapped_stage = None
        self._g_objective = self._d_objective = None
        self.model.set_stage(self.stage, self.schedule.freeze_attention)

    @property
    def stage(self) -> int:
        return self.schedule.stage(self.step_count)

    @property
    def epoch(self) -> int:
        return self.schedule.epoch(self.step_count)

    @property
    def learning_rate(self) -> float:
        return self.schedule.learning_rate(self.epoch)

    def _disc_trainable(self, on: bool, stage: int) -> None:
        for _, p in self.model.discriminator_parameters():
            p.requires_grad_(on)
        if on and stage == 2:
            for p in self.model.disc_s.norm_parameters() + self.model.disc_t.norm_parameters():
                p.requires_grad_(False)

    def _objectives(self, stage: int):
        """The two objectives, inside DDP when distributed; rebuilt when the stage changes
        which parameters train (DDP reduces what requires a gradient when it is built)."""
        if self._wrapped_stage != stage:
            g = GeneratorObjective(self.model, self.schedule)
            d = DiscriminatorObjective(self.model)
            if self.distributed:
                from torch.nn.parallel import DistributedDataParallel as DDP
                ids = [self.device.index] if self.device.type == "cuda" else None
                self._disc_trainable(True, stage)
                g = DDP(g, device_ids=ids)
                d = DDP(d, device_ids=ids)
            self._g_objective, self._d_objective, self._wrapped_stage = g, d, stage
        return self._g_objective, self._d_objective

    @torch.no_grad()
    def _update_average(self) -> None:
        d = self.schedule.attention_average
        for avg, (_, p) in zip(self.average, self.model.attention_parameters()):
            avg.mul_(d).add_(p.detach(), alpha=f32(1 - d))

    def _mean_over_ranks(self, values: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            values = values.clone()
            dist.all_reduce(values)
            values /= dist.get_world_size()
        return values

    def _refuse_non_finite(self, losses: dict, optimiser: Adam) -> None:
        bad = sorted((k for k, v in losses.items() if not math.isfinite(v)), key=lambda k: (k == "g_total", k))
        fault = None
        if bad:
            fault = NonFiniteStep(self.step_count + 1, "loss", bad[0], losses[bad[0]])
        else:
            g = optimiser.first_non_finite_gradient()
            if g is not None:
                fault = NonFiniteStep(self.step_count + 1, "gradient", g[0], g[1])
        if fault is not None:
            for p in self.model.parameters():
                p.grad = None
            raise fault

    def step(self, s: torch.Tensor, t: torch.Tensor, guide=None) -> dict:
        """One iteration on the pair (s, t), each [1, C, H, W] in [-1, 1]; `guide` is
        (mask_s, mask_t, cell_fraction_s, cell_fraction_t) when the attention guide is on.
        Returns the losses and the attention and discriminator statistics (averaged over
        the ranks when distributed)."""
        stage = self.stage
        sch = self.schedule
        if stage == 2 and self.average is not None:
            with torch.no_grad():  # the switch: the attention freezes at its stage-1 average
                for (_, p), a in zip(self.model.attention_parameters(), self.average):
                    p.copy_(a)
            self.average = None
        self.model.set_stage(stage, sch.freeze_attention)
        lr = self.learning_rate
        s, t = s.to(self.device), t.to(self.device)
        gs = gt = None
        if guide is not None:
            weight = sch.guide_weight(self.step_count)
            gs = (guide[0].to(self.device), guide[2], weight)
            gt = (guide[1].to(self.device), guide[3], weight)
        g_obj, d_obj = self._objectives(stage)
        # Generators and attention; the discriminators only pass gradients through.
        self._disc_trainable(False, stage)
        total, terms, a_s, s_fake, a_t, t_fake = g_obj(s, t, stage, self.tau, gs, gt)
        total.backward()
        g_values = torch.stack([total.detach()] + [terms[k].detach() for k in sorted(terms)])
        stats = attention_stats(a_s, self.tau) + attention_stats(a_t, self.tau)
        self._disc_trainable(True, stage)
        fake_st = self.pool_st.query(s_fake, a_s, self.rng)
        fake_ts = self.pool_ts.query(t_fake, a_t, self.rng)
        d_s, d_t, outputs = d_obj(s, t, a_s.detach(), a_t.detach(), fake_st[0], fake_st[1],
                                  fake_ts[0], fake_ts[1], stage, self.tau)
        (d_s + d_t).backward()
        everything = torch.cat([g_values, torch.stack([d_s.detach(), d_t.detach()]), outputs,
                                torch.tensor(stats, dtype=outputs.dtype, device=outputs.device)])
        everything = self._mean_over_ranks(everything).tolist()
        names = ["g_total"] + sorted(terms)
        g_losses = dict(zip(names, everything[:len(names)]))
        rest = everything[len(names):]
        self._refuse_non_finite(g_losses, self.opt_g)
        self._refuse_non_finite({"d_s": rest[0], "d_t": rest[1]}, self.opt_d)
        self.opt_g.step(lr)
        if stage == 1 and self.average is not None:
            self._update_average()
        self.opt_d.step(lr)
        self.step_count += 1
        out = {k: g_losses[k] for k in ("adv_st", "adv_ts", "cyc_s", "cyc_t", "g_total")}
        out["d_s"], out["d_t"] = rest[0], rest[1]
        out["discriminator"] = dict(zip(DISCRIMINATOR_FIELDS, rest[2:6]))
        out["attention"] = None if sch.baseline else dict(zip(ATTENTION_FIELDS, rest[6:12]))
        return out
