"""The six networks of AGGAN in PyTorch under aggan's checkpoint names (docs/MODEL.md and
Sources/AGGAN/Networks.swift): `gen_st.enc1.conv.weight`, `att_s.res0.norm2.bias`, ...
Parameters are registered in aggan's order (networks, layers, conv before norm, weight
before bias), which is the order of its optimiser state (`adam_steps`)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

NETWORKS = ("gen_st", "gen_ts", "att_s", "att_t", "disc_s", "disc_t")
LEAKY_SLOPE = 0.2


class ConvUnit(nn.Module):
    """[nearest x2] -> [reflection pad] -> conv (its own zero padding) -> [IN] -> activation."""

    def __init__(self, conv: nn.Module, norm: nn.Module | None, activation: str | None,
                 reflect: int = 0, upsample: bool = False):
        super().__init__()
        self.conv = conv
        if norm is not None:
            self.norm = norm
        self.has_norm = norm is not None
        self.activation = activation
        self.reflect = reflect
        self.upsample = upsample
        self.use_norm = True  # the discriminators' IN* switch (off in stage 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        if self.reflect:
            x = F.pad(x, (self.reflect,) * 4, mode="reflect")
        y = self.conv(x)
        if self.has_norm and self.use_norm:
            y = self.norm(y)
        if self.activation == "relu":
            return F.relu(y)
        if self.activation == "lrelu":
            return F.leaky_relu(y, LEAKY_SLOPE)
        if self.activation == "tanh":
            return torch.tanh(y)
        if self.activation == "sigmoid":
            return torch.sigmoid(y)
        return y


def norm(channels: int, eps: float = 1e-5) -> nn.InstanceNorm2d:
    """Per sample and channel over H x W, biased variance, learnable scale and shift."""
    return nn.InstanceNorm2d(channels, eps=eps, affine=True, track_running_stats=False)


class ResidualBlock(nn.Module):
    """pad 1, conv 3x3, IN, ReLU, pad 1, conv 3x3, IN; then ReLU(x + block(x))."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3)
        self.norm1 = norm(channels, eps)
        self.conv2 = nn.Conv2d(channels, channels, 3)
        self.norm2 = norm(channels, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.norm1(self.conv1(F.pad(x, (1, 1, 1, 1), mode="reflect"))))
        return F.relu(x + self.norm2(self.conv2(F.pad(h, (1, 1, 1, 1), mode="reflect"))))


class Sequential(nn.Module):
    def __init__(self, layers: list[tuple[str, nn.Module]]):
        super().__init__()
        for name, module in layers:
            self.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.children():
            x = module(x)
        return x


class Generator(Sequential):
    def __init__(self, c: int, ngf: int, blocks: int):
        layers = [
            ("enc1", ConvUnit(nn.Conv2d(c, ngf, 7), norm(ngf), "relu", reflect=3)),
            ("enc2", ConvUnit(nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1), norm(2 * ngf), "relu")),
            ("enc3", ConvUnit(nn.Conv2d(2 * ngf, 4 * ngf, 3, stride=2, padding=1), norm(4 * ngf), "relu")),
        ]
        layers += [(f"res{i}", ResidualBlock(4 * ngf)) for i in range(blocks)]
        layers += [
            ("dec1", ConvUnit(nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, stride=2, padding=1, output_padding=1),
                              norm(2 * ngf), "relu")),
            ("dec2", ConvUnit(nn.ConvTranspose2d(2 * ngf, ngf, 3, stride=2, padding=1, output_padding=1),
                              norm(ngf), "relu")),
            ("out", ConvUnit(nn.Conv2d(ngf, c, 7), None, "tanh", reflect=3)),
        ]
        super().__init__(layers)


class AttentionNet(Sequential):
    """c channels -> a [N, 1, H, W] soft mask in [0, 1]; `eps` of its instance norms."""

    def __init__(self, c: int, eps: float = 1e-5):
        super().__init__([
            ("enc1", ConvUnit(nn.Conv2d(c, 32, 7, stride=2), norm(32, eps), "relu", reflect=3)),
            ("enc2", ConvUnit(nn.Conv2d(32, 64, 3, stride=2, padding=1), norm(64, eps), "relu")),
            ("res0", ResidualBlock(64, eps)),
            ("dec1", ConvUnit(nn.Conv2d(64, 64, 3), norm(64, eps), "relu", reflect=1, upsample=True)),
            ("dec2", ConvUnit(nn.Conv2d(64, 32, 3), norm(32, eps), "relu", reflect=1, upsample=True)),
            ("out", ConvUnit(nn.Conv2d(32, 1, 3), None, "sigmoid", reflect=1)),
        ])


class Discriminator(Sequential):
    """70 px PatchGAN with raw scores; `use_norm` is the IN* switch (stage 1 on, stage 2 off)."""

    def __init__(self, c: int, ndf: int):
        super().__init__([
            ("c1", ConvUnit(nn.Conv2d(c, ndf, 4, stride=2, padding=1), None, "lrelu")),
            ("c2", ConvUnit(nn.Conv2d(ndf, 2 * ndf, 4, stride=2, padding=1), norm(2 * ndf), "lrelu")),
            ("c3", ConvUnit(nn.Conv2d(2 * ndf, 4 * ndf, 4, stride=2, padding=1), norm(4 * ndf), "lrelu")),
            ("c4", ConvUnit(nn.Conv2d(4 * ndf, 8 * ndf, 4, stride=1, padding=1), norm(8 * ndf), "lrelu")),
            ("out", ConvUnit(nn.Conv2d(8 * ndf, 1, 4, stride=1, padding=1), None, None)),
        ])

    def set_use_norm(self, on: bool) -> None:
        for unit in self.children():
            unit.use_norm = on

    def norm_parameters(self) -> list[nn.Parameter]:
        return [p for unit in self.children() if unit.has_norm for p in unit.norm.parameters()]


def compose(mask: torch.Tensor, generated: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A * G(x) + (1 - A) * x, the [N, 1, H, W] mask broadcast over the channels."""
    return mask * generated + (1 - mask) * x


def apply_mode(a: torch.Tensor, mode: str, tau: float) -> torch.Tensor:
    """The threshold modes of `aggan translate`: soft (A), zero (A * 1[A > tau]), binary (1[A > tau])."""
    if mode == "soft":
        return a
    above = (a > tau).to(a.dtype)
    return a * above if mode == "zero" else above


class AGGAN(nn.Module):
    """The six networks; `baseline` is CycleGAN (the attention fixed to 1)."""

    def __init__(self, channels: int, ngf: int, blocks: int, ndf: int,
                 attention_norm_eps: float = 1e-5, baseline: bool = False):
        super().__init__()
        self.channels, self.ngf, self.blocks, self.ndf = channels, ngf, blocks, ndf
        self.gen_st = Generator(channels, ngf, blocks)
        self.gen_ts = Generator(channels, ngf, blocks)
        self.att_s = AttentionNet(channels, attention_norm_eps)
        self.att_t = AttentionNet(channels, attention_norm_eps)
        self.disc_s = Discriminator(channels, ndf)
        self.disc_t = Discriminator(channels, ndf)
        self.attention_is_one = baseline

    @classmethod
    def from_config(cls, config: dict) -> "AGGAN":
        return cls(config["channels"], config["ngf"], config["blocks"], config["ndf"],
                   float(config.get("attentionNormEpsilon", 1e-5)), bool(config.get("baseline", False)))

    def attention(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.attention_is_one:
            return torch.ones(x.shape[0], 1, x.shape[2], x.shape[3], dtype=x.dtype, device=x.device)
        return net(x)

    def translate(self, x: torch.Tensor, direction: str = "a2b", mode: str = "soft", tau: float = 0.1):
        """(attention, generated, composite) of x translated a2b (S -> T) or b2a (T -> S)."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"input of shape {tuple(x.shape)} does not fit a model of {self.channels} channel(s)")
        if x.shape[2] % 4 or x.shape[3] % 4 or x.shape[2] < 8 or x.shape[3] < 8:
            raise ValueError(f"input of size {x.shape[3]}x{x.shape[2]} must be at least 8x8 with sides that are multiples of 4")
        att, gen = (self.att_s, self.gen_st) if direction == "a2b" else (self.att_t, self.gen_ts)
        a = self.attention(att, x)
        g = gen(x)
        return a, g, compose(apply_mode(a, mode, tau), g, x)

    def generator_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """G_ST, G_TS, A_S, A_T: the joint generator update, in aggan's order."""
        return [(f"{n}.{k}", p) for n in NETWORKS[:4] for k, p in getattr(self, n).named_parameters()]

    def discriminator_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(f"{n}.{k}", p) for n in NETWORKS[4:] for k, p in getattr(self, n).named_parameters()]

    def attention_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(f"{n}.{k}", p) for n in ("att_s", "att_t") for k, p in getattr(self, n).named_parameters()]

    def set_stage(self, stage: int, freeze_attention: bool = True) -> None:
        """Stage 1: IN* on, attention trained. Stage 2: IN* off, attention frozen (or still
        trained when the config does not freeze it)."""
        self.disc_s.set_use_norm(stage == 1)
        self.disc_t.set_use_norm(stage == 1)
        train = (stage == 1 or not freeze_attention) and not self.attention_is_one
        for _, p in self.attention_parameters():
            p.requires_grad_(train)
