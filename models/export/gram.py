"""GRAM (Deng, Yang, Xiang, Tong: "GRAM: Generative Radiance Manifolds for 3D-Aware Image Generation", CVPR 2022):
the FFHQ-256 generator with its radiance-manifold renderer, re-implemented for ONNX export.

Facts come from microsoft/GRAM (configs.py FFHQ_default, generators/, render_multiview_images.py, training_loop.py);
the code is ours. Attribute names follow the official modules so that `state_dict()` keys equal the checkpoint's.

The exported graph renders a batch of world-space rays (camera math lives in TypeScript; `camera_rays` below is
the reference for it): z [B,256], truncation [1], ray_origins [B,N,3], ray_directions [B,N,3] → rgb [B,N,3] in
[-1,1], depth [B,N,1]. ONNX-friendly rewrites of the official renderer (together within 1.5e-6 of the official
algorithm, `reference_render`; `gram.py check` measures it):
  * the per-level Python loop (argmax + gather of the first sign change) is one vectorised search over all levels:
    a ReduceMax of crossing priorities and a one-hot MatMul (no ArgMax/GatherElements);
  * torch.sort of the 24 manifold depths is a pairwise ranking (a stable rank, then a one-hot permutation MatMul);
  * F.one_hot + boolean index assignment of the background delta is a Where;
  * torch.cumprod of transmittances is exp(cumsum(log)) (an unrolled product would need a 24-input Concat, which
    onnxruntime-web's WebGPU (JSEP) cannot bind: WebGPU allows 8 storage buffers per shader stage);
  * softplus is written out (onnxruntime-web's WebGPU/JSEP kernels have no Softplus) and keeps full precision
    for very negative inputs, where log(1 + exp(x)) would round to 0;
  * torch.lerp (truncation) keeps lerp's two-sided formula, so ψ = 1 returns the mapping output exactly;
  * every Where gets a condition of the output's full shape (onnxruntime-web 1.30's JSEP Where returned wrong
    values for a [.., 1] condition against [.., 3] values) and float operands (ORT CPU has no bool Where).

GRAM's weights are under the Microsoft Research License (non-commercial, no redistribution): this module never
downloads them; users convert their own copy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import sys
import types
import zipfile
from collections import OrderedDict

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit('gram.py needs PyTorch and ONNX: apt-get install -y python3-torch python3-onnx '
             '(then run it with /usr/bin/python3)')

import common  # noqa: E402  (this folder is on sys.path: export.py puts it there; a script's own folder is)

LICENSE = ('Microsoft Research License: non-commercial use only, no redistribution. '
           'Convert your own copy; never share the converted file.')
PAPER = 'GRAM: Generative Radiance Manifolds for 3D-Aware Image Generation (CVPR 2022)'
CHECKPOINT = ('microsoft/GRAM pretrained_models/FFHQ_default/generator.pth with the EMA weights of ema.pth beside it '
              '(as render_multiview_images.py loads them)')

# configs.py FFHQ_default + the constants hard-coded in generators/ (fixed by the checkpoint: not tunable).
FFHQ_256 = {
    'size': 256,
    'z_dim': 256,
    'hidden_dim': 256,               # radiance (SIREN/FiLM) network width
    'map_hidden_dim': 256,           # mapping network width (hard-coded 256 in GramRF)
    'hidden_dim_sample': 128,        # scalar-field (manifold predictor) width
    'layer_num_sample': 3,
    'sample_center': (0.0, 0.0, -1.5),
    'sample_box': 0.24,              # UniformBoxWarp(0.24) in GramSample
    'rf_box': 0.24,                  # UniformBoxWarp(normalize=0.24) in GramRF
    'num_samples': 64,               # uniform samples per ray for the surface search
    'num_manifolds': 24,             # 23 isosurface levels + the background plane
    'levels': (23.0, 8.0),           # linspace(levels_start, levels_end, num_manifolds - 1)
    'ray_start': 0.88,
    'ray_end': 1.12,
    'background_z': -0.12,           # background plane z = -0.12 (get_intersection_with_MPI)
    'delta_alpha': 0.04,
    'delta_final': 1e10,
    'fov_deg': 12.0,
    'yaw_mean': math.pi / 2, 'yaw_std': 0.3,
    'pitch_mean': math.pi / 2, 'pitch_std': 0.155,
    'demo_yaw_range': 0.4,           # render_multiview_images.py sweeps yaw over π/2 ± 0.4
    'truncation': 0.7,
    'lock_view_dependence': True,    # render_multiview_images.py sets it for FFHQ/Cats: colour ignores the ray
}

# The tiny test model: same graph, narrow layers, fewer samples per ray (levels and manifolds unchanged).
TINY_OVERRIDES = {'hidden_dim': 32, 'map_hidden_dim': 32, 'hidden_dim_sample': 16, 'num_samples': 16}

MODELS = {
    'gram-ffhq-256': {**FFHQ_256, 'license': LICENSE, 'paper': PAPER, 'checkpoint': CHECKPOINT},
}

AVG_SEED = 1234          # z draw for the truncation mean (the official code draws 10k unseeded z)
AVG_SAMPLES = 10_000

# Buffers computed after the weights load (prepare(): the truncation averages): "frontier:computed" slots of the
# graph template (template.py), which models/convert/from-checkpoint.ts fills after converting a checkpoint.
COMPUTED = ('representation.rf_network.avg_frequencies', 'representation.rf_network.avg_phase_shifts')

# Max |ONNX − PyTorch| allowed on rgb (range [-1, 1]) and depth. Measured against torch 1.13: onnxruntime-node 1.30
# CPU ≤ 8.4e-7 (tiny and full width); onnxruntime-web WASM ≤ 1.6e-6; WebGPU on SwiftShader (JSEP and native EP)
# ≤ 1.1e-4. Why so loose: SIREN layers compute sin(f·x + φ) with f ≈ 30 (15·f' + 30), so rounding in x (matmul
# summation order differs between backends) grows ~30× per layer over 8 layers, and GPU sin() is less exact than
# libm (WGSL only promises 2^-11 absolute error on [-π, π]); the surface search can also flip a crossing where the
# scalar field touches a level within rounding (rare, but the bound must hold for trained weights on arbitrary
# rays). 1e-3 is 1/8 of an 8-bit level on the [-1, 1] scale, yet wiring errors (wrong level, order, delta, pose)
# move outputs by 1e-2 or more.
TOLERANCE = 1e-3


def config(model_id: str, tiny: bool) -> dict:
    if model_id not in MODELS:
        raise KeyError(f'unknown GRAM model id {model_id!r}; known: {", ".join(MODELS)}')
    cfg = dict(MODELS[model_id])
    if tiny:
        cfg.update(TINY_OVERRIDES)
    return cfg


# ---------------------------------------------------------------------------------------------------------------
# Networks (attribute names = official state_dict names)

def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + exp(x)) = relu(x) + log1p(exp(-|x|)), with log1p by Goldberg's trick (exact to a few ulp)."""
    u = torch.exp(-torch.abs(x))
    w = 1 + u
    log1p = torch.where(w == 1, u, torch.log(w) * u / (w - 1))
    return torch.relu(x) + log1p


def lerp(start: torch.Tensor, end: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """torch.lerp's formula (two-sided, so weight 1 gives `end` exactly), exportable with a tensor weight."""
    diff = end - start
    return torch.where((weight < 0.5).expand_as(diff), start + weight * diff, end - diff * (1 - weight))


class FiLMLayer(nn.Module):
    """sin(freq · Linear(x) + phase): a SIREN layer modulated per sample (key: `.layer`)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.layer = nn.Linear(in_dim, out_dim)

    def forward(self, x, freq, phase):
        return torch.sin(freq * self.layer(x) + phase)


class MappingNetwork(nn.Module):
    """z → FiLM frequencies and phase shifts for the 9 modulated layers (key: `.network.{0,2,4,6}`)."""

    def __init__(self, z_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        self.network = nn.Sequential(
            nn.Linear(z_dim, hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, out_dim),
        )

    def forward(self, z):
        half = self.network[-1].out_features // 2  # a constant, not a traced Shape → Gather → Div
        out = self.network(z)
        return out[..., :half], out[..., half:]


class ScalarField(nn.Module):
    """GRAM's manifold predictor (official `GramSample`): a ReLU MLP whose level sets are the radiance manifolds."""

    def __init__(self, cfg: dict):
        super().__init__()
        width, depth = cfg['hidden_dim_sample'], cfg['layer_num_sample']
        layers = [nn.Linear(3, width), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), nn.ReLU()]
        self.network = nn.Sequential(*layers)
        self.output_layer = nn.Linear(width, 1)
        self.warp = 2 / cfg['sample_box']
        # A plain attribute in the official code too (not in the checkpoint).
        self.register_buffer('center', torch.tensor(cfg['sample_center'], dtype=torch.float32), persistent=False)

    def forward(self, points):
        return self.output_layer(self.network(points * self.warp - self.center))


class RadianceField(nn.Module):
    """GRAM's radiance network (official `GramRF`): 8 FiLM-SIREN layers with per-layer sigma/colour heads summed,
    the last colour head fed through a FiLM layer on [view direction, features]."""

    MODULATED = 9  # 8 layers + the colour layer

    def __init__(self, cfg: dict):
        super().__init__()
        h = cfg['hidden_dim']
        self.hidden_dim = h
        self.network = nn.ModuleList([FiLMLayer(3, h)] + [FiLMLayer(h, h) for _ in range(7)])
        self.color_layer = nn.ModuleList([FiLMLayer(h + 3, h)])
        self.output_sigma = nn.ModuleList([nn.Linear(h, 1) for _ in range(7)])
        self.output_color = nn.ModuleList([nn.Linear(h, 3) for _ in range(7)])
        self.mapping_network = MappingNetwork(cfg['z_dim'], cfg['map_hidden_dim'], self.MODULATED * h * 2)
        self.warp = 2 / cfg['rf_box']
        # Truncation targets: mean mapping output over 10k z (prepare()); not in the checkpoint.
        self.register_buffer('avg_frequencies', torch.zeros(1, self.MODULATED * h), persistent=False)
        self.register_buffer('avg_phase_shifts', torch.zeros(1, self.MODULATED * h), persistent=False)
        self.has_average = False

    @torch.no_grad()
    def compute_average(self, samples: int = AVG_SAMPLES, seed: int = AVG_SEED):
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(samples, self.mapping_network.network[0].in_features, generator=gen)
        freq, phase = self.mapping_network(z)
        self.avg_frequencies.copy_(freq.mean(0, keepdim=True))
        self.avg_phase_shifts.copy_(phase.mean(0, keepdim=True))
        self.has_average = True

    def styles(self, z, truncation):
        """FiLM frequencies (already scaled: 15·f + 30) and phases, truncated toward the average by ψ."""
        if not self.has_average:
            raise RuntimeError('GRAM: the truncation average is not computed; call prepare() first')
        freq, phase = self.mapping_network(z)
        freq = lerp(self.avg_frequencies, freq, truncation)
        phase = lerp(self.avg_phase_shifts, phase, truncation)
        return freq * 15 + 30, phase

    def forward(self, points, view_dirs, freq, phase):
        """points, view_dirs [B, ..., 3]; freq, phase [B, 9h] → rgb [B, ..., 3] (widened sigmoid),
        sigma [B, ..., 1]."""
        h = self.hidden_dim
        extra_dims = points.dim() - 2

        def chunk(t, i):  # [B, 9h] → [B, 1, .., 1, h], broadcast over rays and manifolds
            t = t[:, i * h:(i + 1) * h]
            for _ in range(extra_dims):
                t = t.unsqueeze(1)
            return t

        x = points * self.warp
        sigma = rgb = None
        for i, layer in enumerate(self.network):
            x = layer(x, chunk(freq, i), chunk(phase, i))
            if i == 0:
                continue
            if i < 7:
                features = x
            else:
                features = self.color_layer[0](torch.cat([view_dirs, x], dim=-1), chunk(freq, 8), chunk(phase, 8))
            layer_sigma = self.output_sigma[i - 1](x)
            layer_rgb = self.output_color[i - 1](features)
            sigma = layer_sigma if sigma is None else sigma + layer_sigma
            rgb = layer_rgb if rgb is None else rgb + layer_rgb
        eps = 1e-3
        return torch.sigmoid(rgb) * (1 + 2 * eps) - eps, softplus(sigma)


class Representation(nn.Module):
    """Official `Gram`: holds the two networks (keys `representation.sample_network.*`, `.rf_network.*`)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.sample_network = ScalarField(cfg)
        self.rf_network = RadianceField(cfg)


class GramGenerator(nn.Module):
    """forward(z [B,256], truncation [1], ray_origins [B,N,3], ray_directions [B,N,3]) → rgb [B,N,3] in [-1,1],
    depth [B,N,1] (distance along the ray)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        self.representation = Representation(cfg)
        s, m = cfg['num_samples'], cfg['num_manifolds']
        f32 = torch.float32
        depths = torch.linspace(cfg['ray_start'], cfg['ray_end'], s, dtype=f32)
        self.register_buffer('sample_depths', depths, persistent=False)
        levels = torch.linspace(cfg['levels'][0], cfg['levels'][1], m - 1, dtype=f32)
        self.register_buffer('levels', levels, persistent=False)
        # Earlier sample intervals win (the official argmax over linspace(S-1, 0, S-1) costs); last = fallback.
        self.register_buffer('interval_priority', torch.arange(s - 1, 0, -1, dtype=f32), persistent=False)
        self.register_buffer('last_interval', (torch.arange(s - 1) == s - 2).float(), persistent=False)
        index = torch.arange(m, dtype=f32)
        self.register_buffer('manifold_index', index, persistent=False)
        self.register_buffer('index_before', index.view(1, m) < index.view(m, 1), persistent=False)  # [i, j]: j < i
        self.register_buffer('locked_view', torch.tensor([0.0, 0.0, -1.0]), persistent=False)

    # -- rendering steps -------------------------------------------------------------------------------------------

    def sample_points(self, origins, dirs):
        return origins.unsqueeze(2) + dirs.unsqueeze(2) * self.sample_depths.view(1, 1, -1, 1)  # [B,N,S,3]

    def find_surfaces(self, points, field):
        """First downward crossing of each level along every ray, linearly interpolated.
        points [B,N,S,3], field [B,N,S,1] → surface points [B,N,L,3], valid [B,N,L,1] (0/1)."""
        levels = self.levels.view(-1, 1)                                   # [L,1]
        f_lo = field[..., :-1, 0].unsqueeze(-2)                           # [B,N,1,S-1]
        f_hi = field[..., 1:, 0].unsqueeze(-2)
        crosses = (f_hi <= levels) & (f_lo >= levels)                     # [B,N,L,S-1]
        score = crosses.float() * self.interval_priority
        best = score.amax(dim=-1, keepdim=True)
        # Full-shape condition, float operands: see the module docstring (JSEP Where, ORT CPU Where).
        pick = torch.where((best > 0).expand_as(score), (score == best).float(), self.last_interval.expand_as(score))
        lo = torch.cat([points[..., :-1, :], field[..., :-1, :]], dim=-1)  # [B,N,S-1,4]
        hi = torch.cat([points[..., 1:, :], field[..., 1:, :]], dim=-1)
        lo, hi = pick @ lo, pick @ hi                                      # exact one-hot gathers: [B,N,L,4]
        x_lo, s_lo, x_hi, s_hi = lo[..., :3], lo[..., 3:], hi[..., :3], hi[..., 3:]
        valid = (s_hi <= levels) & (s_lo >= levels)
        gap = s_hi - s_lo
        steep = torch.abs(gap) > 0.05
        scale = torch.where(steep, gap, torch.full_like(gap, 0.05))
        interpolated = ((s_hi - levels) * x_lo + (levels - s_lo) * x_hi) / scale
        surface = torch.where((valid & steep).expand_as(x_hi), interpolated, x_hi)
        return surface, valid.float()

    def background_points(self, origins, dirs):
        t = (self.cfg['background_z'] - origins[..., 2:3]) / dirs[..., 2:3]
        return (origins + dirs * t).unsqueeze(2)                            # [B,N,1,3]

    def composite(self, rgb, sigma, dist, valid):
        """Front-to-back alpha compositing in depth order. rgb [B,N,M,3], sigma/dist/valid [B,N,M,1]."""
        m = self.cfg['num_manifolds']
        d_i, d_j = dist, dist.transpose(-1, -2)                              # [B,N,M,1], [B,N,1,M]
        before = (d_j < d_i) | ((d_j == d_i) & self.index_before)           # j sorts before i (stable)
        rank = before.float().sum(dim=-1)                                   # [B,N,M]
        perm = (rank.unsqueeze(-2) == self.manifold_index.view(m, 1)).float()  # [B,N,M(pos),M(i)]
        ordered = perm @ torch.cat([rgb, sigma, dist, valid], dim=-1)       # exact one-hot permutation
        rgb, sigma, dist, valid = ordered[..., :3], ordered[..., 3:4], ordered[..., 4:5], ordered[..., 5:6]
        background_pos = rank[..., m - 1:m].unsqueeze(-1)                   # [B,N,1,1]
        pos = self.manifold_index.view(m, 1)
        far = (pos == m - 1) | (pos == background_pos)
        delta = torch.where(far, torch.full_like(dist, self.cfg['delta_final']),
                            torch.full_like(dist, self.cfg['delta_alpha']))
        alpha = (1 - torch.exp(-delta * sigma)) * valid
        # Exclusive cumprod of (1 - α + 1e-10) as exp(cumsum(log)): one CumSum instead of a 24-input Concat
        # (JSEP's WebGPU Concat binds every input as a storage buffer; WebGPU allows 8 per shader stage).
        log_keep = torch.log(1 - alpha + 1e-10)
        log_before = torch.cat([torch.zeros_like(log_keep[..., :1, :]), log_keep[..., :-1, :]], dim=-2)
        weights = alpha * torch.exp(torch.cumsum(log_before, dim=-2))      # [B,N,M,1]
        color = (weights * rgb).sum(dim=-2)
        depth = (weights * dist).sum(dim=-2) / weights.sum(dim=-2)
        return color, depth

    def forward(self, z, truncation, ray_origins, ray_directions):
        rf = self.representation.rf_network
        freq, phase = rf.styles(z, truncation)
        dirs = ray_directions / torch.sqrt((ray_directions * ray_directions).sum(dim=-1, keepdim=True))
        samples = self.sample_points(ray_origins, dirs)
        field = self.representation.sample_network(samples)
        surface, valid = self.find_surfaces(samples, field)
        points = torch.cat([surface, self.background_points(ray_origins, dirs)], dim=2)     # [B,N,M,3]
        valid = torch.cat([valid, torch.ones_like(valid[..., :1, :])], dim=2)
        offset = points - ray_origins.unsqueeze(2)
        dist = torch.sqrt((offset * offset).sum(dim=-1, keepdim=True))
        if self.cfg['lock_view_dependence']:
            view = self.locked_view.expand(points.shape)
        else:
            view = dirs.unsqueeze(2).expand(points.shape)
        rgb, sigma = rf(points, view, freq, phase)
        color, depth = self.composite(rgb, sigma, dist, valid)
        return color * 2 - 1, depth


# ---------------------------------------------------------------------------------------------------------------
# Initialisation (the official schemes, so random models look like untrained GRAM: a sphere-like scalar field)

@torch.no_grad()
def init_weights(model: GramGenerator):
    rep = model.representation
    for layer in rep.sample_network.network:
        if isinstance(layer, nn.Linear):
            layer.weight.normal_(0, math.sqrt(2 / layer.out_features))
            layer.bias.zero_()
    out = rep.sample_network.output_layer
    out.weight.fill_(10 * math.sqrt(math.pi / out.in_features))
    out.bias.zero_()
    rf = rep.rf_network
    for module in [*rf.network, *rf.color_layer, *rf.output_sigma, *rf.output_color]:
        linear = module.layer if isinstance(module, FiLMLayer) else module
        bound = math.sqrt(6 / linear.in_features) / 25
        linear.weight.uniform_(-bound, bound)
    first = rf.network[0].layer
    first.weight.uniform_(-1 / first.in_features, 1 / first.in_features)
    mapping = [m for m in rf.mapping_network.network if isinstance(m, nn.Linear)]
    for linear in mapping:
        nn.init.kaiming_normal_(linear.weight, a=0.2, mode='fan_in', nonlinearity='leaky_relu')
    mapping[-1].weight.mul_(0.25)


# ---------------------------------------------------------------------------------------------------------------
# The export interface (models/export/README.md)

def build(model_id: str, tiny: bool) -> GramGenerator:
    """Random weights from torch's global RNG (export.py seeds it: --seed, default 0)."""
    model = GramGenerator(config(model_id, tiny))
    init_weights(model)
    return model.eval()


def official_keys(model_id: str) -> list[tuple[str, tuple[int, ...]]]:
    """The keys of `GramGenerator.state_dict()` in the official code (generators/generators.py +
    representations/gram.py), in registration order — the order of `generator.parameters()`, which is also the
    order of the EMA's `shadow_params`. No buffers: `center` and the truncation averages are plain attributes."""
    cfg = config(model_id, False)
    keys: list[tuple[str, tuple[int, ...]]] = []

    def linear(name, n_in, n_out):
        keys.extend([(f'{name}.weight', (n_out, n_in)), (f'{name}.bias', (n_out,))])

    sample = 'representation.sample_network'
    w = cfg['hidden_dim_sample']
    for i in range(cfg['layer_num_sample']):
        linear(f'{sample}.network.{2 * i}', 3 if i == 0 else w, w)
    linear(f'{sample}.output_layer', w, 1)
    rf = 'representation.rf_network'
    h = cfg['hidden_dim']
    for i in range(8):
        linear(f'{rf}.network.{i}.layer', 3 if i == 0 else h, h)
    linear(f'{rf}.color_layer.0.layer', h + 3, h)
    for i in range(7):
        linear(f'{rf}.output_sigma.{i}', h, 1)
    for i in range(7):
        linear(f'{rf}.output_color.{i}', h, 3)
    m = cfg['map_hidden_dim']
    for i, (n_in, n_out) in enumerate([(cfg['z_dim'], m), (m, m), (m, m), (m, 9 * h * 2)]):
        linear(f'{rf}.mapping_network.network.{2 * i}', n_in, n_out)
    return keys


class _PickledObject:
    """Stand-in for classes pickled inside a checkpoint (torch_ema's ExponentialMovingAverage): keeps the state."""

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {'state': state})


_STUB_CLASSES = {('torch_ema.ema', 'ExponentialMovingAverage'), ('torch_ema', 'ExponentialMovingAverage')}


class _CheckpointUnpickler(common.TorchZipUnpickler):
    """Maps torch_ema objects to a stub (so torch_ema need not be installed); refuses every other class."""

    def other_class(self, module, name):
        if (module, name) in _STUB_CLASSES:
            return _PickledObject
        raise pickle.UnpicklingError(f'refusing to unpickle {module}.{name} (not part of a GRAM checkpoint)')


def read_pickle(path: str):
    """torch.save'd object from a file (zip format, torch ≥ 1.6), loaded with _CheckpointUnpickler."""
    if not os.path.isfile(path):
        raise common.ExportError(f'checkpoint not found: {path}')
    if not zipfile.is_zipfile(path):
        raise common.ExportError(f'{path}: not a torch.save zip archive (torch ≥ 1.6 format)')
    try:
        return common.read_torch_zip(path, _CheckpointUnpickler)
    except (pickle.UnpicklingError, KeyError, ValueError) as err:
        raise common.ExportError(f'cannot read checkpoint {path}: {err}') from err


def _sibling(path: str, old: str, new: str) -> str:
    # render_multiview_images.py finds ema.pth as generator_file.replace('generator', 'ema') (file name here).
    folder, name = os.path.split(path)
    return os.path.join(folder, name.replace(old, new))


def load_checkpoint(model: GramGenerator, model_id: str, path: str) -> None:
    """`path` is the official generator.pth: a bare state_dict (`generator.state_dict()`, 62 tensors). The
    weights used are the EMA's, as in render_multiview_images.py: ema.pth beside it is a pickled torch_ema
    ExponentialMovingAverage (fadel/pytorch_ema @3950a7b) whose `shadow_params` list follows
    `generator.parameters()` order = official_keys() order. It is read without torch_ema (a restricted unpickler
    maps the class to a stub). Without ema.pth the raw weights are used, with a warning. ema.pth itself may be
    given instead (generator.pth is then read from beside it for the key check)."""
    obj = read_pickle(path)
    if isinstance(obj, _PickledObject):
        ema_path, path = path, _sibling(path, 'ema', 'generator')
        if ema_path == path or not os.path.isfile(path):
            raise common.ExportError(f'{ema_path} is a GRAM EMA file (weights without names); give generator.pth, '
                                     f'with ema.pth beside it (looked for {path})')
        obj = read_pickle(path)
    else:
        ema_path = _sibling(path, 'generator', 'ema')
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise common.ExportError(f'{path}: expected a GRAM generator state_dict (name → tensor), '
                                 f'got {type(obj).__name__}')
    state = OrderedDict(obj)
    if state and all(k.startswith('module.') for k in state):  # saved from the DDP wrapper
        state = OrderedDict((k[len('module.'):], v) for k, v in state.items())
    what = f'the GRAM {model_id} generator (keys from microsoft/GRAM generators/)'
    common.check_state_dict(model, state, what, path)
    if ema_path != path and os.path.isfile(ema_path):
        # generator.parameters() order: official_keys() at full width (self_check asserts it), the same names at tiny
        # width (export.py --tiny --checkpoint: fake official files for converter tests).
        expected = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
        apply_ema(state, expected, read_pickle(ema_path), ema_path)
    else:
        common.warn(f'no EMA file at {ema_path}: using the raw generator weights of {path}; the official demos '
                    'and FID numbers use the EMA weights (ema.pth)')
    model.load_state_dict(state, strict=True)


def apply_ema(state: dict, expected: list[tuple[str, tuple[int, ...]]], ema, ema_path: str) -> None:
    shadow = getattr(ema, 'shadow_params', None)
    if not isinstance(ema, _PickledObject) or not isinstance(shadow, list):
        raise common.ExportError(f'{ema_path}: expected a pickled torch_ema ExponentialMovingAverage '
                                 f'(with shadow_params), got {type(ema).__name__}')
    if len(shadow) != len(expected):
        raise common.ExportError(f'{ema_path}: {len(shadow)} EMA tensors, the generator has {len(expected)} '
                                 'parameters')
    for index, ((name, shape), tensor) in enumerate(zip(expected, shadow)):
        if tuple(tensor.shape) != shape:
            raise common.ExportError(f'{ema_path}: EMA tensor #{index} (for {name}) has shape '
                                     f'{tuple(tensor.shape)}, expected {shape}')
        state[name] = tensor.detach().to(torch.float32).clone()


def prepare(model: GramGenerator, model_id: str, tiny: bool) -> None:
    model.representation.rf_network.compute_average()
    model.eval()


def randomize(model: GramGenerator) -> None:
    """For template.py, which traces a model whose values it throws away: the official initialisation (as build())
    plus a little noise, so that no two parameters are equal (torch.onnx.export merges initializers of equal value,
    e.g. the zero biases, and each must stay its own slot), and truncation averages from a few z, so that forward()
    can be traced before any checkpoint is loaded."""
    init_weights(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1e-3 * torch.randn(p.shape))
    model.representation.rf_network.compute_average(samples=16)


def compute_graphs(model: GramGenerator, model_id: str, tiny: bool) -> dict:
    """For template.py: how each COMPUTED buffer is made after conversion. The truncation averages are the means of
    the mapping network's two outputs (FiLM frequencies before the ·15 + 30 scaling, and phase shifts) over
    AVG_SAMPLES z ~ N(0, 1), as compute_average() does in PyTorch; one graph makes both, each output named after the
    buffer that is its mean (models/convert/from-checkpoint.ts averages the output named like the buffer)."""
    recipe = {
        'graph': 'mapping', 'module': 'representation.rf_network.mapping_network',
        'inputs': (torch.zeros(2, model.cfg['z_dim']),), 'input_names': ['z'], 'output_names': list(COMPUTED),
        'dynamic_axes': {'z': {0: 'batch'}, **{name: {0: 'batch'} for name in COMPUTED}},
        'how': 'mean of the output named like the buffer over z ~ N(0, 1)', 'samples': AVG_SAMPLES,
    }
    return {name: dict(recipe) for name in COMPUTED}


# ---------------------------------------------------------------------------------------------------------------
# Camera (the reference for the TypeScript ray generator)

CAMERA = {
    'model': 'pinhole on a sphere of radius 1, looking at the world origin (GRAM / pi-GAN convention)',
    'origin': '(sin(pitch)·cos(yaw), cos(pitch), sin(pitch)·sin(yaw))',
    'yaw': {'mean': math.pi / 2, 'std': 0.3, 'demo': [math.pi / 2 - 0.4, math.pi / 2 + 0.4]},
    'pitch': {'mean': math.pi / 2, 'std': 0.155, 'clamp': [1e-5, math.pi - 1e-5]},
    'fovDeg': 12.0,
    'fov': 'full angle between the centres of the first and last pixel column (not the image edges)',
    'up': [0, 1, 0],
    'basis': 'forward = normalize(-origin); left = normalize(cross(up, forward)); '
             'trueUp = normalize(cross(forward, left)); cam2world columns = (-left, trueUp, -forward)',
    'pixel': 'x = -1 + 2·col/(size-1), y = 1 - 2·row/(size-1): edge pixel centres sit at ±1 (torch.linspace); '
             'row 0 is the top row, +x is image right (world +x at the default pose), +y is up',
    'direction': 'd_cam = normalize(x, y, -1/tan(fov/2)); '
                 'direction = -left·d_cam.x + trueUp·d_cam.y - forward·d_cam.z',
    'rayOrder': 'row-major: ray index = row·size + col',
    'units': 'origins and directions in world units; directions are normalised inside the model',
    'rayRange': [0.88, 1.12],
    'backgroundPlaneZ': -0.12,
    'default': {'yaw': math.pi / 2, 'pitch': math.pi / 2, 'origin': [0, 0, 1]},
}


def camera_rays(yaw: float, pitch: float, fov_deg: float, size: int):
    """World-space rays of a size×size image, row-major from the top-left pixel: (origins, directions), each a
    list of size² [x, y, z] (float64). Same maths as get_initial_rays_trig + create_cam2world_matrix."""
    if size < 2:
        raise ValueError('size must be at least 2 (pixel centres span [-1, 1])')
    origin = [math.sin(pitch) * math.cos(yaw), math.cos(pitch), math.sin(pitch) * math.sin(yaw)]

    def normalize(v):
        n = math.sqrt(sum(c * c for c in v))
        return [c / n for c in v]

    def cross(a, b):
        return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]

    forward = normalize([-c for c in origin])
    left = normalize(cross([0.0, 1.0, 0.0], forward))
    up = normalize(cross(forward, left))
    focal = 1 / math.tan(math.radians(fov_deg) / 2)
    origins, directions = [], []
    for row in range(size):
        for col in range(size):
            x = -1 + 2 * col / (size - 1)
            y = 1 - 2 * row / (size - 1)
            cam = normalize([x, y, -focal])
            # cam2world rotation columns: (-left, up, -forward)
            world = [-left[k] * cam[0] + up[k] * cam[1] - forward[k] * cam[2] for k in range(3)]
            origins.append(list(origin))
            directions.append(world)
    return origins, directions


def rays_tensor(poses, fov_deg: float, size: int):
    """[(yaw, pitch), ...] → origins, directions float32 [len(poses), size², 3]."""
    origins, directions = zip(*(camera_rays(yaw, pitch, fov_deg, size) for yaw, pitch in poses))
    return torch.tensor(origins, dtype=torch.float32), torch.tensor(directions, dtype=torch.float32)


def face_rays(batch: int, rays: int, seed: int, cfg: dict):
    """Random rays through the face region: random demo poses, random pixels of a 32×32 image."""
    gen = torch.Generator().manual_seed(seed)
    origins, directions = [], []
    for _ in range(batch):
        yaw = cfg['yaw_mean'] + (torch.rand(1, generator=gen).item() * 2 - 1) * cfg['demo_yaw_range']
        pitch = cfg['pitch_mean'] + torch.randn(1, generator=gen).item() * cfg['pitch_std']
        o, d = camera_rays(yaw, pitch, cfg['fov_deg'], 32)
        pick = torch.randperm(len(d), generator=gen)[:rays].tolist()
        origins.append([o[i] for i in pick])
        directions.append([d[i] for i in pick])
    return torch.tensor(origins, dtype=torch.float32), torch.tensor(directions, dtype=torch.float32)


# ---------------------------------------------------------------------------------------------------------------
# Export spec and card

def largest_tensor_bytes_per_ray(model: GramGenerator) -> int:
    """Largest single intermediate of one forward pass, in bytes per ray (measured, not estimated)."""
    from torch.overrides import TorchFunctionMode

    largest = [0]

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor):
                    largest[0] = max(largest[0], t.numel() * t.element_size())
            return out

    rays = 8
    o, d = face_rays(1, rays, 0, model.cfg)
    with torch.no_grad(), Watch():
        model(torch.zeros(1, model.cfg['z_dim']), torch.tensor([0.7]), o, d)
    return largest[0] // rays


def export_spec(model: GramGenerator, model_id: str, tiny: bool) -> dict:
    cfg = model.cfg
    gen = torch.Generator().manual_seed(7)
    o, d = rays_tensor([(cfg['yaw_mean'], cfg['pitch_mean'])], cfg['fov_deg'], 8)
    example = (torch.randn(1, cfg['z_dim'], generator=gen), torch.tensor([cfg['truncation']]), o, d)
    # Run 0 = the camera fixture (test/export/fixtures/gram-rays.json: 4×4 rays at two poses), one z per pose;
    # then random rays through the face at random demo poses, with other batch sizes, ray counts and ψ.
    fixture = rays_fixture()
    compare = [(torch.randn(2, cfg['z_dim'], generator=gen), torch.tensor([cfg['truncation']]),
                *rays_tensor([(p['yaw'], p['pitch']) for p in fixture['poses']], fixture['fovDeg'], fixture['size']))]
    for i, (batch, rays, psi) in enumerate([(2, 96, 0.7), (1, 160, 1.0), (3, 40, 0.5)]):
        ro, rd = face_rays(batch, rays, 100 + i, cfg)
        compare.append((torch.randn(batch, cfg['z_dim'], generator=gen), torch.tensor([psi]), ro, rd))
    return {
        'module': model,
        'inputs': example,
        'input_names': ['z', 'truncation', 'ray_origins', 'ray_directions'],
        'output_names': ['rgb', 'depth'],
        'dynamic_axes': {
            'z': {0: 'batch'},
            'ray_origins': {0: 'batch', 1: 'rays'},
            'ray_directions': {0: 'batch', 1: 'rays'},
            'rgb': {0: 'batch', 1: 'rays'},
            'depth': {0: 'batch', 1: 'rays'},
        },
        'tolerance': TOLERANCE,
        'compare_inputs': compare,
    }


TILE = 64                      # 64×64-pixel tiles: N = 4096 rays per call
TILE_BYTES_PER_RAY_FULL = 32768  # the scalar-field MLP's hidden activations: 64 samples × 128 × 4 bytes


def card(model_id: str, tiny: bool) -> dict:
    cfg = config(model_id, tiny)
    rays = TILE * TILE
    largest_mib = TILE_BYTES_PER_RAY_FULL * rays / 2**20
    shrunk = ('Shrunk: hidden widths 256→32 (radiance), 256→32 (mapping), 128→16 (scalar field) and 64→16 '
              'samples per ray; levels, manifolds, camera and renderer unchanged')
    label = 'GRAM FFHQ 256 (tiny random-weight test model)' if tiny else 'GRAM FFHQ 256'
    description = (
        'Random-weight test model with the GRAM architecture at tiny width: renders noise, not faces. ' + shrunk + '.'
        if tiny else
        '3D-aware face generator (GRAM, FFHQ 256²): a latent z and a camera pose give a face you can turn. '
        'Renders world-space rays through 23 learned radiance manifolds + a background plane; camera maths and '
        'tiling happen in the caller. ≈1.95M parameters but ≈1 TMAC per 256² frame.')
    return {
        **common.card_head(model_id, tiny, 'rotate-view', label, description),
        'io': {
            'inputs': [
                {'name': 'z', 'dtype': 'float32', 'shape': ['batch', cfg['z_dim']]},
                {'name': 'truncation', 'dtype': 'float32', 'shape': [1]},
                {'name': 'ray_origins', 'dtype': 'float32', 'shape': ['batch', 'rays', 3]},
                {'name': 'ray_directions', 'dtype': 'float32', 'shape': ['batch', 'rays', 3]},
            ],
            'outputs': [
                {'name': 'rgb', 'dtype': 'float32', 'shape': ['batch', 'rays', 3]},
                {'name': 'depth', 'dtype': 'float32', 'shape': ['batch', 'rays', 1]},
            ],
            'image': {'layout': 'NHWC', 'range': [-1, 1]},
            'scale': 1,
            'tile': {'size': TILE, 'overlap': 0},
            'size': cfg['size'],
            'latent': {'name': 'z', 'size': cfg['z_dim'], 'distribution': 'normal(0, 1)'},
            'truncation': {'name': 'truncation', 'default': cfg['truncation'], 'range': [0, 1]},
            'camera': CAMERA,
        },
        'license': LICENSE,
        'source': {
            'paper': PAPER,
            'checkpoint': 'none: seeded random weights (export.py --seed, default 0)' if tiny else CHECKPOINT,
            'converter': 'models/export/gram.py',
        },
        'targets': ['webgpu', 'wasm', 'node', 'server'],
        'notes': (
            f'One call renders N rays (any N); a {TILE}×{TILE} tile (N = {rays}) keeps the largest intermediate '
            f'(the scalar-field MLP, {TILE_BYTES_PER_RAY_FULL // 1024} KiB per ray at full width) at '
            f'{largest_mib:.0f} MiB: within WebGPU\'s default maxStorageBufferBindingSize (128 MiB) and its 1 GiB '
            'maxBufferSize. Measured at full width, N = 4096 on onnxruntime-node CPU (2 threads): ≈7 s per tile '
            '(≈2 min per 256² frame), ≈0.85 GB of live activations (1.7 GB RSS with the CPU arena); use 32×32 '
            'tiles where memory is tight. rgb is a widened-sigmoid composite: clamp to [-1, 1]. depth is the '
            'expected distance along the ray. Colour ignores the view direction (lock_view_dependence, as in the '
            'official demo). Truncation mean from 10k z drawn at export. Keep fp32: SIREN frequencies (≈30) '
            'amplify rounding (WebGPU on SwiftShader differs from PyTorch by ≤1.1e-4, CPU by ≤1e-6).'),
    }


# ---------------------------------------------------------------------------------------------------------------
# Reference renderer: the official algorithm written plainly (sort, argmax + gather, one_hot, cumprod), used to
# check that the rewrites above are exact.

@torch.no_grad()
def reference_render(model: GramGenerator, z, truncation: float, ray_origins, ray_directions):
    cfg = model.cfg
    rf, sample = model.representation.rf_network, model.representation.sample_network
    freq, phase = rf.mapping_network(z)
    if truncation < 1:
        freq = torch.lerp(rf.avg_frequencies, freq, truncation)
        phase = torch.lerp(rf.avg_phase_shifts, phase, truncation)
    freq = freq * 15 + 30
    b, n, _ = ray_origins.shape
    dirs = ray_directions / torch.norm(ray_directions, dim=-1, keepdim=True)
    depths = torch.linspace(cfg['ray_start'], cfg['ray_end'], cfg['num_samples'])
    pts = ray_origins[:, :, None, :] + dirs[:, :, None, :] * depths[None, None, :, None]   # [B,N,S,3]
    s = sample(pts)                                                                          # [B,N,S,1]
    s_l, s_h = s[:, :, :-1], s[:, :, 1:]
    s_count = cfg['num_samples']
    cost = torch.linspace(s_count - 1, 0, s_count - 1).reshape(1, 1, -1, 1)
    surfaces, valids = [], []
    for level in torch.linspace(cfg['levels'][0], cfg['levels'][1], cfg['num_manifolds'] - 1):
        r = ((s_h - level <= 0) * (level - s_l <= 0) * 2 - 1) * cost
        idx = torch.max(r, dim=-2, keepdim=True)[1]
        x_l = torch.gather(pts, -2, idx.expand(-1, -1, -1, 3))[:, :, 0]
        x_h = torch.gather(pts, -2, idx.expand(-1, -1, -1, 3) + 1)[:, :, 0]
        v_l = torch.gather(s_l, -2, idx)[:, :, 0]
        v_h = torch.gather(s_h, -2, idx)[:, :, 0]
        ok = (v_h - level <= 0) & (level - v_l <= 0)
        scale = torch.where(torch.abs(v_h - v_l) > 0.05, v_h - v_l, torch.ones_like(v_h) * 0.05)
        steep = torch.abs(v_h - v_l) > 0.05
        surfaces.append(torch.where(ok & steep, ((v_h - level) * x_l + (level - v_l) * x_h) / scale, x_h))
        valids.append(ok.float())
    t_bg = (cfg['background_z'] - ray_origins[..., 2:3]) / dirs[..., 2:3]
    points = torch.cat([torch.stack(surfaces, 2), (ray_origins + dirs * t_bg)[:, :, None]], 2)   # [B,N,M,3]
    valid = torch.cat([torch.stack(valids, 2), torch.ones(b, n, 1, 1)], 2)
    m = cfg['num_manifolds']
    view = torch.zeros_like(points)
    view[..., 2] = -1
    if not cfg['lock_view_dependence']:
        view = dirs[:, :, None].expand(-1, -1, m, -1)
    dist = torch.sqrt(torch.sum((points - ray_origins[:, :, None]) ** 2, dim=-1, keepdim=True))
    # the radiance net on flattened points, as the official volume() call
    h = rf.hidden_dim
    x = points.reshape(b, n * m, 3) * rf.warp
    vd = view.reshape(b, n * m, 3)
    sig = col = 0
    for i, layer in enumerate(rf.network):
        x = torch.sin(freq[:, None, i * h:(i + 1) * h] * layer.layer(x) + phase[:, None, i * h:(i + 1) * h])
        if i > 0:
            if i < 7:
                feat = x
            else:
                color_in = rf.color_layer[0].layer(torch.cat([vd, x], -1))
                feat = torch.sin(freq[:, None, 8 * h:9 * h] * color_in + phase[:, None, 8 * h:9 * h])
            sig = sig + rf.output_sigma[i - 1](x)
            col = col + rf.output_color[i - 1](feat)
    out = torch.cat([torch.sigmoid(col) * 1.002 - 1e-3, torch.nn.functional.softplus(sig)], -1).reshape(b, n, m, 4)
    _, order = torch.sort(dist, dim=-2)
    dist = torch.gather(dist, -2, order)
    out = torch.gather(out, -2, order.expand(-1, -1, -1, 4))
    valid = torch.gather(valid, -2, order)
    bg_pos = torch.argmax(order, dim=-2)
    deltas = torch.cat([torch.full_like(dist[:, :, 1:], cfg['delta_alpha']),
                        torch.full_like(dist[:, :, :1], cfg['delta_final'])], -2)
    deltas[torch.nn.functional.one_hot(bg_pos.squeeze(-1), num_classes=m).bool().unsqueeze(-1)] = cfg['delta_final']
    alphas = (1 - torch.exp(-deltas * out[..., 3:])) * valid
    trans = torch.cumprod(torch.cat([torch.ones_like(alphas[:, :, :1]), 1 - alphas + 1e-10], -2), -2)[:, :, :-1]
    weights = alphas * trans
    rgb = torch.sum(weights * out[..., :3], -2)
    depth = torch.sum(weights * dist, -2) / weights.sum(2)
    return rgb * 2 - 1, depth


# ---------------------------------------------------------------------------------------------------------------
# Command line: fixtures and checks for tests (export itself goes through export.py)

KEYS_FILE = os.path.join(common.KEYS_DIR, 'gram-ffhq-256.txt')


def key_layout_text(model_id: str) -> str:
    """models/export/keys/<id>.txt: 'name dim×dim dtype' per line (common.read_key_layout's format)."""
    header = ('# microsoft/GRAM FFHQ_default generator.pth: GramGenerator.state_dict(), in parameters() order '
              '(= ema.pth shadow_params order)\n')
    return header + ''.join(f"{name} {'x'.join(map(str, shape))} float32\n" for name, shape in official_keys(model_id))


def write_fake_checkpoint(folder: str, model_id: str = 'gram-ffhq-256', bad_key: str | None = None,
                          tiny: bool = False) -> dict:
    """A stand-in for the official files with the official layout (at full width, or at tiny width for converter
    tests): generator.pth (state_dict of random weights) and ema.pth (a pickled torch_ema.ema.ExponentialMovingAverage
    holding different weights)."""
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(1)
    model = build(model_id, tiny)
    keys = [(name, tuple(p.shape)) for name, p in model.named_parameters()] if tiny else official_keys(model_id)
    ema_params = [model.state_dict()[name].clone() for name, _ in keys]
    gen = torch.Generator().manual_seed(99)
    raw = OrderedDict((name, p + 0.01 * torch.randn(p.shape, generator=gen)) for (name, _), p in zip(keys, ema_params))
    if bad_key:
        raw[bad_key] = raw.pop(keys[0][0])
    torch.save(raw, os.path.join(folder, 'generator.pth'))

    # Pickle under the class path torch_ema uses, without torch_ema installed.
    package, module = types.ModuleType('torch_ema'), types.ModuleType('torch_ema.ema')
    ema_class = type('ExponentialMovingAverage', (), {'__module__': 'torch_ema.ema'})
    module.ExponentialMovingAverage = package.ExponentialMovingAverage = ema_class
    saved = {k: sys.modules.get(k) for k in ('torch_ema', 'torch_ema.ema')}
    sys.modules.update({'torch_ema': package, 'torch_ema.ema': module})
    try:
        ema = ema_class()
        ema.__dict__.update(decay=0.999, num_updates=150000, shadow_params=ema_params, collected_params=[])
        torch.save(ema, os.path.join(folder, 'ema.pth'))
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return {'generator': os.path.join(folder, 'generator.pth'), 'ema': os.path.join(folder, 'ema.pth')}


def rays_fixture() -> dict:
    cfg = FFHQ_256
    poses = [(math.pi / 2, math.pi / 2), (math.pi / 2 + 0.3, math.pi / 2 - 0.1)]
    out = {'about': 'GRAM world-space rays from models/export/gram.py camera_rays(yaw, pitch, fovDeg, size)',
           'camera': CAMERA, 'fovDeg': cfg['fov_deg'], 'size': 4, 'poses': []}
    for yaw, pitch in poses:
        o, d = camera_rays(yaw, pitch, cfg['fov_deg'], 4)
        out['poses'].append({'yaw': yaw, 'pitch': pitch, 'origins': o, 'directions': d})
    return out


def self_check() -> dict:
    """Rewrites vs the plain official algorithm (tiny and full width); the checkpoint round trip (EMA weights win,
    a wrong key is named). Prints measured numbers for the report."""
    import tempfile
    model_id, result = 'gram-ffhq-256', {}
    for tiny in (True, False):
        torch.manual_seed(0)
        model = build(model_id, tiny)
        prepare(model, model_id, tiny)
        o, d = face_rays(2, 256 if tiny else 64, 5, model.cfg)
        z = torch.randn(2, model.cfg['z_dim'], generator=torch.Generator().manual_seed(3))
        diffs = {}
        with torch.no_grad():
            for psi in (0.7, 1.0):
                rgb, depth = model(z, torch.tensor([psi]), o, d)
                ref_rgb, ref_depth = reference_render(model, z, psi, o, d)
                diffs[psi] = max((rgb - ref_rgb).abs().max().item(), (depth - ref_depth).abs().max().item())
            samples = model.sample_points(o, d / d.norm(dim=-1, keepdim=True))
            _, valid = model.find_surfaces(samples, model.representation.sample_network(samples))
        keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
        result['tiny' if tiny else 'full'] = {
            'rewriteMaxDiff': diffs, 'validSurfaceFraction': valid.mean().item(),
            'largestTensorBytesPerRay': largest_tensor_bytes_per_ray(model),
            'params': sum(p.numel() for p in model.parameters()),
            'keysMatchOfficial': keys == official_keys(model_id) if not tiny else None,
        }
        assert max(diffs.values()) < 1e-5, f'rewrites differ from the official algorithm: {diffs}'
        assert tiny or keys == official_keys(model_id), 'state_dict keys differ from the official layout'
    with open(KEYS_FILE, encoding='utf-8') as f:
        result['keysFileMatches'] = f.read() == key_layout_text(model_id)
    assert result['keysFileMatches'], f'{KEYS_FILE} is stale: rewrite it with gram.py keys --out {KEYS_FILE}'
    with tempfile.TemporaryDirectory() as folder:
        files = write_fake_checkpoint(folder)
        model = build(model_id, False)
        load_checkpoint(model, model_id, files['generator'])
        loaded = model.state_dict()
        names = [name for name, _ in official_keys(model_id)]
        ema, raw = read_pickle(files['ema']), read_pickle(files['generator'])
        result['checkpoint'] = {
            'emaLoaded': all(torch.equal(loaded[n], t) for n, t in zip(names, ema.shadow_params)),
            'rawDiffers': not any(torch.equal(loaded[n], raw[n]) for n in names),
        }
        assert result['checkpoint']['emaLoaded'] and result['checkpoint']['rawDiffers'], result['checkpoint']
        bad_key = names[0].replace('weight', 'wieght')
        bad = write_fake_checkpoint(os.path.join(folder, 'bad'), bad_key=bad_key)
        try:
            load_checkpoint(build(model_id, False), model_id, bad['generator'])
            raise AssertionError('a wrong key was accepted')
        except common.ExportError as err:
            assert bad_key in str(err) and names[0] in str(err), err
            result['checkpoint']['wrongKeyError'] = str(err)
    return result


def main(argv=None):
    torch.set_num_threads(2)
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('check', help='rewrites vs the official algorithm; checkpoint round trip')
    rays = sub.add_parser('rays', help='write the camera fixture (4×4 rays at two poses)')
    rays.add_argument('--out', required=True)
    fake = sub.add_parser('fake-checkpoint', help='write generator.pth + ema.pth with the official layout')
    fake.add_argument('--out', required=True)
    fake.add_argument('--bad-key', help='also write OUT/bad/ with the first key renamed to this')
    fake.add_argument('--tiny', action='store_true', help='at tiny width (for export.py --tiny --checkpoint)')
    keys = sub.add_parser('keys', help='write the official key list')
    keys.add_argument('--out', required=True)
    args = parser.parse_args(argv)

    def write_json(path, data):
        with open(path, 'w') as f:
            json.dump(data, f, indent=1)
            f.write('\n')

    if args.command == 'check':
        print(json.dumps(self_check(), indent=1))
    elif args.command == 'rays':
        write_json(args.out, rays_fixture())
    elif args.command == 'fake-checkpoint':
        files = {'good': write_fake_checkpoint(args.out, tiny=args.tiny)}
        if args.bad_key:
            files['bad'] = write_fake_checkpoint(os.path.join(args.out, 'bad'), bad_key=args.bad_key, tiny=args.tiny)
        print(json.dumps(files))
    elif args.command == 'keys':
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(key_layout_text('gram-ffhq-256'))


if __name__ == '__main__':
    main()
