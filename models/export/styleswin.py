"""StyleSwin generator (Zhang et al., "StyleSwin: Transformer-based GAN for High-resolution Image Generation",
CVPR 2022), re-implemented for ONNX export.

Facts come from microsoft/StyleSwin (MIT) at commit a7c28b3: models/generator.py, models/basic_layers.py,
op/fused_act.py, op/upfirdn2d.py and train_styleswin.py (Generator(size, 512, 8, channel_multiplier, lr_mlp=0.01,
enable_full_resolution=8); outputs live in ImageNet-normalised space). Module and tensor names mirror the official
Generator, registered in the same order, so the official `g_ema` state_dict loads with strict=True and lists in the
same order (keys/styleswin-*.txt). The forward pass is our own and written for export:
  * the official CUDA ops become plain tensor ops (fused_leaky_relu = leaky_relu(x + b)·√2; the ToRGB
    upfirdn2d ×2 upsampling = a depthwise ConvTranspose);
  * the shifted-window mask is applied as a per-window-row plus a per-window-column term instead of the official
    [windows, 64, 64] buffer (268 MB per block at 1024 px); where both terms hit, the logit gets −200 instead of
    −100, and softmax weights of masked pairs are ≈e^−100 ≈ 0 either way;
  * the sinusoidal position grid is added as a width term plus a height term (no [C, H, W] constant in the graph);
  * buffers whose values follow from the architecture (relative position index, shift mask, blur kernel) are kept
    for state_dict compatibility, while the forward pass uses copies computed here, so a checkpoint cannot change them.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import common
import swin

# Official hyper-parameters (train_styleswin.py defaults, README commands).
STYLE_DIM = 512
N_MLP = 8
LR_MLP = 0.01
WINDOW = 8
MLP_RATIO = 4
FULL_RESOLUTION_ATTENTION = 8  # enable_full_resolution: resolutions up to 8 attend over the whole map
MEAN_LATENT_SAMPLES = 10_000
MEAN_LATENT_SEED = 0

# Tiny: the same architecture at size 32 (layers at 4, 8, 16, 32 px: full-map, plain and shifted windows all occur).
TINY = {'size': 32, 'style_dim': 32, 'channels': [32, 32, 32, 16], 'mean_latent_samples': 1000}

_FACES = 'MIT (code); FFHQ/CelebA-HQ weights are non-commercial datasets'
PAPER = 'StyleSwin: Transformer-based GAN for High-resolution Image Generation (CVPR 2022)'

# Buffers computed after the weights load (prepare): slots a template fills after conversion.
COMPUTED = ('mean_latent',)

MODELS = {
    'styleswin-ffhq-256': {'size': 256, 'channel_multiplier': 2, 'dataset': 'FFHQ', 'checkpoint': 'FFHQ_256.pt',
                           'fid': 2.81, 'license': _FACES},
    'styleswin-celebahq-256': {'size': 256, 'channel_multiplier': 2, 'dataset': 'CelebA-HQ',
                               'checkpoint': 'CelebAHQ_256.pt', 'fid': 3.25, 'license': _FACES},
    'styleswin-church-256': {'size': 256, 'channel_multiplier': 2, 'dataset': 'LSUN Church',
                             'checkpoint': 'LSUNChurch_256.pt', 'fid': 2.95,
                             'license': 'MIT (code and weights); trained on LSUN Church: check the dataset terms'},
    'styleswin-ffhq-1024': {'size': 1024, 'channel_multiplier': 1, 'dataset': 'FFHQ', 'checkpoint': 'FFHQ_1024.pt',
                            'fid': 5.07, 'license': _FACES},
    'styleswin-celebahq-1024': {'size': 1024, 'channel_multiplier': 1, 'dataset': 'CelebA-HQ',
                                'checkpoint': 'CelebAHQ_1024.pt', 'fid': 4.43, 'license': _FACES},
}


def official_channels(size, channel_multiplier):
    """Channels of the layers at 4, 8, …, size px (generator.py: in_channels)."""
    cm = channel_multiplier
    table = [512, 512, 512, 512, 256 * cm, 128 * cm, 64 * cm, 32 * cm, 16 * cm]
    return table[:int(math.log2(size)) - 1]


def config(model_id, tiny):
    if model_id not in MODELS:
        raise KeyError(f'unknown StyleSwin model {model_id!r}; known: {", ".join(MODELS)}')
    if tiny:
        return {'size': TINY['size'], 'style_dim': TINY['style_dim'], 'channels': TINY['channels']}
    entry = MODELS[model_id]
    return {'size': entry['size'], 'style_dim': STYLE_DIM,
            'channels': official_channels(entry['size'], entry['channel_multiplier'])}


# ---------------------------------------------------------------------------------------------------------------
# Layers


def fused_leaky_relu(x, bias):
    """The official CUDA op's CPU path: leaky_relu(x + bias, 0.2) · √2."""
    return F.leaky_relu(x + bias, negative_slope=0.2) * math.sqrt(2)


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """StyleGAN2's equalised-learning-rate linear layer: stored weight × lr_mul/√in, bias × lr_mul."""

    def __init__(self, in_dim, out_dim, lr_mul=1.0, activation=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x):
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class ConstantInput(nn.Module):
    def __init__(self, channels, size=4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self):
        # Batch 1: the first block broadcasts it to the batch (AdaIN's per-sample scale makes it [B, …]), which
        # equals the official repeat over the batch and keeps shape ops (CPU fallbacks on WebGPU) out of the graph.
        return self.input


class AdaptiveInstanceNorm(nn.Module):
    """Instance norm over tokens (x: [B, L, C]) with a per-sample scale and shift predicted from the style."""

    def __init__(self, channels, style_dim):
        super().__init__()
        self.channels = channels
        self.style = EqualLinear(style_dim, channels * 2)

    def forward(self, x, w):
        style = self.style(w).unsqueeze(1)
        gamma, beta = style[:, :, :self.channels], style[:, :, self.channels:]
        mean = x.mean(dim=1, keepdim=True)
        centred = x - mean
        var = (centred * centred).mean(dim=1, keepdim=True)
        return gamma * (centred * torch.rsqrt(var + 1e-5)) + beta


def axis_shift_masks(resolution, window, shift):
    """The shift mask split per axis: row term [rows, 1, 1, N, N] and column term [1, cols, 1, N, N].

    Only the last window row (column) straddles the wrap-around, so every other row (column) term is zero."""
    count = resolution // window
    labels = swin.shift_labels(resolution, window, shift).reshape(count, window)  # label of each row per window row
    token_rows = labels.repeat_interleave(window, dim=1)  # count, N: row label of token (a, b) = labels[a]
    token_cols = labels.repeat(1, window)  # count, N: column label of token (a, b) = labels[b]

    def pairwise(token_labels):
        diff = token_labels[:, :, None] - token_labels[:, None, :]
        return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)

    return (pairwise(token_rows).reshape(count, 1, 1, window * window, window * window),
            pairwise(token_cols).reshape(1, count, 1, window * window, window * window))


class WindowAttention(swin.WindowAttentionBase):
    """Multi-head attention inside each window, with Swin's learned relative position bias (q, k, v come in)."""

    def forward(self, q, k, v, row_mask=None, col_mask=None, count=0):
        """q, k, v: [B·windows, N, dim] → [B·windows, N, dim]; the masks index windows as (row, col), count per
        side."""
        tokens = self.window * self.window
        head_dim = self.dim // self.num_heads

        def heads(t):
            return t.reshape(-1, tokens, self.num_heads, head_dim).transpose(1, 2)

        attn = (heads(q) * self.scale) @ heads(k).transpose(-2, -1)
        attn = attn + self.relative_bias()
        if row_mask is not None:
            grid = (-1, count, count, self.num_heads, tokens, tokens)
            attn = (attn.reshape(grid) + row_mask + col_mask).reshape(-1, self.num_heads, tokens, tokens)
        attn = torch.softmax(attn, dim=-1)
        return (attn @ heads(v)).transpose(1, 2).reshape(-1, tokens, self.dim)


class StyleSwinTransformerBlock(nn.Module):
    """Double attention: half the channels attend in plain windows, half in windows shifted by window/2."""

    def __init__(self, dim, resolution, num_heads, window, style_dim):
        super().__init__()
        self.dim = dim
        self.resolution = resolution
        self.window = window
        self.shift = window // 2
        if resolution <= window:  # the map fits one window: attend over all of it, nothing to shift
            self.window = resolution
            self.shift = 0
        self.norm1 = AdaptiveInstanceNorm(dim, style_dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.attn = nn.ModuleList([WindowAttention(dim // 2, self.window, num_heads // 2) for _ in range(2)])
        if self.shift > 0:
            self.register_buffer('attn_mask2', swin.shift_mask(resolution, self.window, self.shift))
            row_mask, col_mask = axis_shift_masks(resolution, self.window, self.shift)
            self.register_buffer('row_mask', row_mask, persistent=False)
            self.register_buffer('col_mask', col_mask, persistent=False)
        self.norm2 = AdaptiveInstanceNorm(dim, style_dim)
        self.mlp = swin.Mlp(dim, dim * MLP_RATIO)

    def _attend(self, qkv, attn, masked):
        """qkv: [B, H, W, 3·C/2] → attention inside windows → [B, H, W, C/2]."""
        half = self.dim // 2
        windows = swin.window_partition(qkv, self.window, self.resolution, 3 * half)
        windows = windows.reshape(-1, self.window * self.window, 3, half)
        q, k, v = windows[:, :, 0], windows[:, :, 1], windows[:, :, 2]
        if masked:
            out = attn(q, k, v, self.row_mask, self.col_mask, self.resolution // self.window)
        else:
            out = attn(q, k, v)
        return swin.window_reverse(out, self.window, self.resolution, half)

    def forward(self, x, w):
        size, half, shift = self.resolution, self.dim // 2, self.shift
        shortcut = x
        # Channel c of the qkv output is (q|k|v, plain|shifted half, channel): the official layout.
        qkv = self.qkv(self.norm1(x, w)).reshape(-1, size, size, 3, 2, half)
        plain = qkv[:, :, :, :, 0].reshape(-1, size, size, 3 * half)
        shifted = qkv[:, :, :, :, 1].reshape(-1, size, size, 3 * half)
        if shift > 0:
            shifted = torch.roll(shifted, shifts=(-shift, -shift), dims=(1, 2))
        x1 = self._attend(plain, self.attn[0], masked=False)
        x2 = self._attend(shifted, self.attn[1], masked=shift > 0)
        if shift > 0:
            x2 = torch.roll(x2, shifts=(shift, shift), dims=(1, 2))
        x = torch.cat([x1, x2], dim=3).reshape(-1, size * size, self.dim)
        x = shortcut + self.proj(x)
        return x + self.mlp(self.norm2(x, w))


def sinusoid_table(positions, dim):
    """Rows 1..positions of the official SinusoidalPositionalEmbedding table ([sin | cos], dim channels)."""
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000) / (half - 1)))
    angles = torch.arange(1, positions + 1, dtype=torch.float).unsqueeze(1) * freq.unsqueeze(0)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class SinusoidalPositionalEmbedding(nn.Module):
    """Only the (unused) buffer of the official module, for the key layout; BilinearUpsample holds the values."""

    def __init__(self):
        super().__init__()
        self.register_buffer('_float_tensor', torch.zeros(1))


class BilinearUpsample(nn.Module):
    """×2 bilinear upsampling, LayerNorm, linear channel reduction, plus alpha × a 2-D sinusoidal position code."""

    def __init__(self, resolution, dim, out_dim):
        super().__init__()
        self.resolution = resolution
        self.dim = dim
        self.out_dim = out_dim
        self.norm = nn.LayerNorm(dim)
        self.reduction = nn.Linear(dim, out_dim, bias=False)
        self.alpha = nn.Parameter(torch.zeros(1))
        self.sin_pos_embed = SinusoidalPositionalEmbedding()
        # The official grid is [x code | y code] over channels (out_dim/2 each), x varying along the width and y along
        # the height: store each as a broadcastable term, zero in the other half of the channels.
        size, half = resolution * 2, out_dim // 2
        table = sinusoid_table(size, half)  # size, half
        pos_x = torch.zeros(1, 1, size, out_dim)
        pos_x[0, 0, :, :half] = table
        pos_y = torch.zeros(1, size, 1, out_dim)
        pos_y[0, :, 0, half:] = table
        self.register_buffer('pos_x', pos_x, persistent=False)
        self.register_buffer('pos_y', pos_y, persistent=False)

    def forward(self, x):
        size = self.resolution
        x = x.reshape(-1, size, size, self.dim).permute(0, 3, 1, 2)
        x = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
        x = x.permute(0, 2, 3, 1)
        x = self.reduction(self.norm(x))
        x = x + self.pos_x * self.alpha + self.pos_y * self.alpha
        return x.reshape(-1, 4 * size * size, self.out_dim)


def blur_kernel():
    """The official Upsample kernel: outer([1, 3, 3, 1]) normalised to sum 1, × factor² (= 4)."""
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = k[None, :] * k[:, None]
    return k / k.sum() * 4


def upsample_rgb(x, kernel):
    """upfirdn2d(x, k, up=2, pad=(2, 1)) as one depthwise ConvTranspose (stride 2, padding 1); kernel: [C, 1, 4, 4].

    upfirdn2d zero-stuffs x, pads 2 before / 1 after and convolves with the kernel:
    y[n] = Σ_i x[i]·k[n + 1 − 2i], which is ConvTranspose's y[n] = Σ_i x[i]·w[n + p − 2i] with w = k, p = 1."""
    return F.conv_transpose2d(x, kernel, stride=2, padding=1, groups=kernel.shape[0])


class ToRGB(nn.Module):
    def __init__(self, in_channels, upsample):
        super().__init__()
        self.is_upsample = upsample
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        if upsample:
            self.upsample = _KernelHolder()
        self.conv = nn.Conv2d(in_channels, 3, kernel_size=1)
        self.register_buffer('fir', blur_kernel().expand(3, 1, 4, 4).clone(), persistent=False)  # per RGB channel

    def forward(self, x, resolution, skip):
        """x: [B, H·W, C] tokens → [B, 3, H, W] (+ the upsampled previous RGB)."""
        rgb = F.linear(x, self.conv.weight.flatten(1), self.conv.bias)  # a 1×1 conv, on tokens
        rgb = rgb.transpose(1, 2).reshape(-1, 3, resolution, resolution) + self.bias
        if skip is not None:
            rgb = rgb + (upsample_rgb(skip, self.fir) if self.is_upsample else skip)
        return rgb


class _KernelHolder(nn.Module):
    """Holds the official Upsample's `kernel` buffer (key to_rgbs.N.upsample.kernel); ToRGB uses its own copy."""

    def __init__(self):
        super().__init__()
        self.register_buffer('kernel', blur_kernel())


class StyleBasicLayer(nn.Module):
    def __init__(self, dim, resolution, num_heads, window, out_dim, style_dim):
        super().__init__()
        self.blocks = nn.ModuleList(
            [StyleSwinTransformerBlock(dim, resolution, num_heads, window, style_dim) for _ in range(2)])
        self.upsample = BilinearUpsample(resolution, dim, out_dim) if out_dim else None

    def forward(self, x, w):
        for block in self.blocks:
            x = block(x, w)
        return self.upsample(x) if self.upsample is not None else x


class Generator(nn.Module):
    """z [B, style_dim] (+ truncation [1]) → image [B, 3, size, size] in ImageNet-normalised space."""

    def __init__(self, size, style_dim, channels, n_mlp=N_MLP):
        super().__init__()
        self.size = size
        self.style_dim = style_dim
        self.channels = list(channels)
        self.style = nn.Sequential(
            PixelNorm(), *[EqualLinear(style_dim, style_dim, lr_mul=LR_MLP, activation=True) for _ in range(n_mlp)])
        self.input = ConstantInput(channels[0])
        self.layers = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.resolutions = [4 * 2 ** i for i in range(len(channels))]
        full_level = int(math.log2(FULL_RESOLUTION_ATTENTION))
        for i, resolution in enumerate(self.resolutions):
            last = i == len(channels) - 1
            window = resolution if int(math.log2(resolution)) <= full_level else WINDOW
            out_dim = None if last else channels[i + 1]
            self.layers.append(StyleBasicLayer(channels[i], resolution, max(channels[i] // 32, 4), window, out_dim,
                                               style_dim))
            self.to_rgbs.append(ToRGB(channels[i] if last else out_dim, upsample=not last))
        # Average mapping output for truncation; not in checkpoints (prepare() computes it).
        self.register_buffer('mean_latent', torch.zeros(1, style_dim), persistent=False)

    def forward(self, z, truncation=None):
        w = self.style(z)
        if truncation is not None:  # official: w_mean + ψ·(w − w_mean) when ψ < 1, else w unchanged
            w = torch.where(truncation < 1, self.mean_latent + truncation * (w - self.mean_latent), w)
        x = self.input().permute(0, 2, 3, 1).reshape(1, 16, self.channels[0])
        rgb = None
        for i, (layer, to_rgb) in enumerate(zip(self.layers, self.to_rgbs)):
            x = layer(x, w)
            out_resolution = self.resolutions[i] * (1 if layer.upsample is None else 2)
            rgb = to_rgb(x, out_resolution, rgb)
        return rgb


# ---------------------------------------------------------------------------------------------------------------
# Exporter interface (models/export/README.md)


def build(model_id, tiny):
    cfg = config(model_id, tiny)
    model = Generator(cfg['size'], cfg['style_dim'], cfg['channels'])
    if tiny:
        randomize(model)
    return model.eval()


def randomize(model):
    """Random weights from torch's global RNG (export.py seeds it), scaled so activations stay O(1) and every
    path (position code, relative bias, biases, skip) visibly shapes the output."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            if name.endswith('alpha'):
                p.copy_(0.5 + 0.1 * torch.randn(p.shape))
            elif leaf == 'relative_position_bias_table':
                p.copy_(0.5 * torch.randn(p.shape))
            elif name == 'input.input':
                p.copy_(torch.randn(p.shape))
            elif '.norm.' in name:  # LayerNorm
                common.random_norm_(p, leaf)
            elif name.startswith('style.'):  # mapping EqualLinear: stored values are divided by lr_mul
                p.copy_(torch.randn(p.shape) * (1.0 if leaf == 'weight' else 0.1) / LR_MLP)
            elif '.style.' in name:  # AdaIN: gamma around 1, beta around 0
                if leaf == 'weight':
                    p.copy_(torch.randn(p.shape))
                else:
                    channels = p.shape[0] // 2
                    p.copy_(torch.cat([torch.ones(channels), torch.zeros(channels)]) + 0.1 * torch.randn(p.shape))
            elif leaf == 'weight':  # nn.Linear / 1×1 conv: unit gain; residual branches and RGB outputs damped
                gain = 0.5 if name.endswith(('proj.weight', 'fc2.weight')) else 0.3 if 'to_rgbs' in name else 1.0
                common.random_matrix_(p, gain)
            else:  # biases
                common.random_bias_(p)


def load_checkpoint(model, model_id, path):
    """Loads the official file's g_ema (or a bare generator state_dict) with strict=True."""
    state = common.pick_state_dict(common.read_checkpoint(path), path, prefer=('g_ema',), marker='style.1.weight')
    # Buffers that follow from the architecture: the forward pass uses its own copies; a checkpoint whose values
    # differ is suspicious (another code version?), so say so.
    fixed = common.buffer_copies(model, lambda k: k.endswith(('relative_position_index', 'attn_mask2',
                                                              'upsample.kernel')))
    common.load_strict(model, state, f'{model_id} (g_ema)', path)
    common.warn_changed_buffers(model, fixed, path)


def official_layout(model_id):
    """[(name, shape, dtype)] of the official g_ema for this model's config, from keys/styleswin-<size>.txt."""
    if model_id not in MODELS:
        raise KeyError(f'unknown StyleSwin model {model_id!r}')
    return common.official_layout_file(f'styleswin-{MODELS[model_id]["size"]}.txt')


def official_keys(model_id):
    return common.layout_keys(official_layout(model_id))


def prepare(model, model_id, tiny):
    """Mean latent for truncation: the average mapping output of many z drawn with a fixed seed."""
    samples = TINY['mean_latent_samples'] if tiny else MEAN_LATENT_SAMPLES
    gen = torch.Generator().manual_seed(MEAN_LATENT_SEED)
    total = torch.zeros(1, model.style_dim, dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, samples, 1000):
            z = torch.randn(min(1000, samples - start), model.style_dim, generator=gen)
            total += model.style(z).double().sum(dim=0, keepdim=True)
    model.mean_latent.copy_((total / samples).float())


# ONNX (onnxruntime-node, CPU) vs PyTorch, max abs difference of the normalised output. Both compute in float32 but
# sum matmuls, reductions and softmax in different orders; the full generator chains 14–18 transformer blocks.
# 2e-3 in normalised units is < 0.12 of an 8-bit level after de-normalising (× std ≤ 0.229 × 255), invisible in the
# image, while wiring errors (window order, shift direction, mask, head split, upsampling phase) move outputs by O(1).
TOLERANCE = 2e-3


def compute_graphs(model, model_id, tiny):
    """For template.py: how each COMPUTED buffer is made after conversion, and the submodule graph that makes it. The
    mean latent is the average mapping output w = style(z) over `samples` z ~ N(0, 1) (prepare() does the same in
    PyTorch)."""
    return {
        'mean_latent': {
            'graph': 'mapping', 'module': 'style', 'inputs': (torch.zeros(2, model.style_dim),),
            'input_names': ['z'], 'output_names': ['w'], 'dynamic_axes': {'z': {0: 'batch'}, 'w': {0: 'batch'}},
            'how': 'mean of w over z ~ N(0, 1)', 'samples': TINY['mean_latent_samples'] if tiny else MEAN_LATENT_SAMPLES,
        },
    }


def export_spec(model, model_id, tiny):
    gen = torch.Generator().manual_seed(1234)
    z = torch.randn(2, model.style_dim, generator=gen)
    z_other = torch.randn(1, model.style_dim, generator=gen)
    one, psi = torch.tensor([1.0]), torch.tensor([0.7])
    compare = [(z, one), (z, psi)]
    if tiny:  # also a batch size other than the traced one (cheap only for tiny)
        compare.append((z_other, psi))
    return {
        'module': model,
        'inputs': (z, one),
        'input_names': ['z', 'truncation'],
        'output_names': ['image'],
        'dynamic_axes': {'z': {0: 'batch'}, 'image': {0: 'batch'}},
        'tolerance': TOLERANCE,
        'compare_inputs': compare,
    }


def card(model_id, tiny):
    entry = MODELS[model_id]
    cfg = config(model_id, tiny)
    size, style_dim = cfg['size'], cfg['style_dim']
    if tiny:
        label = f'StyleSwin tiny {size}px (random weights, test model)'
        description = (f'Random-weight test model: the StyleSwin generator architecture of {model_id} at tiny width '
                       f'({size}×{size}, style {style_dim}); produces noise-like images, not faces or scenes.')
        license_text = common.TINY_LICENSE
        checkpoint = common.TINY_CHECKPOINT
    else:
        label = f'StyleSwin {entry["dataset"]} {size}'
        description = (f'Generates {size}×{size} images like {entry["dataset"]} from a random latent '
                       f'(FID {entry["fid"]} in the paper). Transformer GAN, 8-layer style mapping, double '
                       f'window attention.')
        license_text = entry['license']
        checkpoint = entry['checkpoint']
    big = size >= 1024 and not tiny
    return {
        **common.card_head(model_id, tiny, 'generate', label, description),
        'io': {
            'inputs': [
                {'name': 'z', 'dtype': 'float32', 'shape': ['batch', style_dim]},
                {'name': 'truncation', 'dtype': 'float32', 'shape': [1]},
            ],
            'outputs': [{'name': 'image', 'dtype': 'float32', 'shape': ['batch', 3, size, size]}],
            'image': common.imagenet_image(),
            'scale': 1,
            'tile': {'size': size, 'overlap': 0},
            'latent': {'name': 'z', 'size': style_dim},
        },
        'license': license_text,
        'source': {'paper': PAPER, 'checkpoint': checkpoint, 'converter': 'models/export/styleswin.py'},
        'targets': ['node', 'server'] if big else ['webgpu', 'wasm', 'node', 'server'],
        'notes': ('z ~ N(0, 1); truncation ψ in [0, 1] pulls the style toward the mean latent (1 = none). Output is '
                  'ImageNet-normalised: pixels = clamp(image·std + mean, 0, 1).'
                  + (' At 1024 px one attention tensor is ≈537 MB in fp32: runs on onnxruntime-node or a server.'
                     if big else '')),
    }
