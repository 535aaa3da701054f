"""TTVSR (Liu, Yang, Fu, Qian, "Learning Trajectory-Aware Transformer for Video Super-Resolution", CVPR 2022),
re-implemented for ONNX export as the parts of a recurrence that the host drives, ×4 video super-resolution.

Facts come from researchmm/TTVSR (MIT) at commit b8edc01 (b8edc01464b79f9b050f32d4ad9d1f24faf63cb3):
mmedit/models/backbones/sr_backbones/ttvsrnet.py (TTVSRNet, LTAM, ResidualBlocksWithInputConv, SPyNet,
SPyNetBasicModule, flow_warp), mmedit/models/common/{sr_backbone_utils,upsample}.py (ResidualBlockNoBN,
make_layer, PixelShufflePack), mmedit/models/restorers/ttvsr.py (the TTVSR restorer), configs/TTVSR_reds4.py and
configs/TTVSR_vimeo90k.py (both: TTVSRNet mid_channels=64, num_blocks=60, stride=4, keyframe stride 3 by default;
SPyNet initialised from openmmlab's spynet_20210409-c6c1bd09.pth, then trained with the rest after 5000 iterations
at lr × 0.125), README.md (TTVSR_REDS.pth: REDS, bicubic "BI" ×4; TTVSR_Vimeo90K.pth: Vimeo-90K, blur-downsample
"BD" ×4). No code of theirs is kept here: the classes below only mirror their module and tensor names.

Checkpoint layout (keys/ttvsr-reds.txt, the same for both files: the two configs build the same generator). The
files are written by mmcv's save_checkpoint from the training runner: {'meta': {...}, 'state_dict': ...,
'optimizer': {'generator': ...}}. 'state_dict' is the TTVSR restorer's, unwrapped from its distributed wrappers by
mmcv's get_state_dict: first the restorer's own buffer `step_counter` [1] (training iterations), then
`generator.<TTVSRNet key>`. SPyNet's weights are inside it (generator.spynet.basic_module.<0-5>.basic_module.<0-4>.
conv.{weight,bias}: mmcv ConvModule keeps its Conv2d as `conv`), with SPyNet's ImageNet mean/std buffers
(generator.spynet.mean/std [1, 3, 1, 1]); the separate SPyNet file is not needed. What could not be verified here
(no copy of the released files): that they were not post-processed (e.g. optimizer removed: harmless) and that
`step_counter` is present; load_checkpoint accepts the file with or without it, and a bare generator state_dict.
Our TTVSR/TTVSRNet mirror the official module names in registration order, so the file's state_dict loads with
strict=True and lists in the same order.

Parts: one model id per part and checkpoint (ttvsr-{reds,vimeo90k}-{flow,features,align,refine,reconstruct}),
tied by the cards' role and pipeline ('ttvsr-reds' …), as VQ-Diffusion's three graphs are. Why not one id whose
finish() writes the other graphs: a card is one graph (files[0]; the other files are its data), export.py would check
only that graph against PyTorch, and template.py makes one template per id. Every part id builds the whole restorer
and loads the whole file, so one seed gives the tiny parts consistent random weights. All float32, NCHW,
frames RGB in [0, 1]; H and W multiples of 4 (the token grid; pad other sizes by edge replication and crop the
×4 output) and at least 64 (the official forward asserts it); C = 64 (tiny 8); F = 16·C; h = H/4, w = W/4;
dynamic axes: batch N, height H, width W, keyframes K:

  flow         reference [N,3,H,W], supporting [N,3,H,W] → flow [N,2,H,W]: SPyNet's flow from reference to
               supporting (pixels; x then y), at H×W (resized internally to multiples of 32, as the official).
  features     frame [N,3,H,W] → feature [N,C,H,W] (feat_extractor).
  align        feature [N,C,H,W] (the current frame's), propagated [N,C,H,W] (the previous step's refine output),
               flow [N,2,H,W] (flow(current frame, previous frame in this direction)), location [N,K,2,h,w],
               tokens_s1, tokens_s2, tokens_s3, tokens_index [N,K,F,h,w] → aligned [N,C,H,W],
               location_out [N,K,2,h,w]. Warps `propagated` by the flow (bilinear, border), moves each keyframe's
               trajectory map by the flow averaged over 4×4 cells (nearest, border), then the trajectory attention
               (LTAM): for every 4×4 token the keyframe whose index token along the trajectory is most similar
               (cosine) to the current one, its three scales' tokens, fused, × that similarity, + the warped feature.
  refine       feature [N,C,H,W], aligned [N,C,H,W] (zeros at a direction's first step) → propagated [N,C,H,W],
               tokens_s1, tokens_s2, tokens_s3, tokens_index [N,F,h,w] (the tokens of this step; keep them only at a
               keyframe: fetch only `propagated` otherwise).
  reconstruct  frame [N,3,H,W], backward [N,C,H,W], feature [N,C,H,W], forward [N,C,H,W] → image [N,3,4H,4W]
               (not clamped; the official result is clamped to [0, 1] when written).

The recurrence (drive() below is the reference driver; the server's TypeScript one follows it). For a clip (or a
window) of T frames: feature_i = features(frame_i). Backward pass over i = T−1 … 0, then forward over i = 0 … T−1;
each pass starts with empty state. Keyframes: backward i ∈ {T−1, T−4, …} with i > 0; forward i ∈ {0, 3, 6, …}.
At a pass's first step: aligned = zeros. At every later step: flow_i = flow(frame_i, frame_previous) (previous =
i+1 backward, i−1 forward), (aligned, location) = align(feature_i, propagated, flow_i, location, tokens…).
Then (propagated, tokens_i) = refine(feature_i, aligned). At a keyframe, after align (or at the first step):
location gets one more map, the token grid (x, y) = (column, row) as float32 [N,1,2,h,w], and the four token buffers
get tokens_i, all appended along the keyframe axis. The backward pass keeps propagated as backward_i; the forward
pass emits image_i = reconstruct(frame_i, backward_i, feature_i, propagated). State the host carries: within a pass,
propagated [N,C,H,W], location [N,K,2,h,w] and 4 buffers [N,K,F,h,w] (K ≤ ⌈T/3⌉, each buffer entry the size of one
feature map); across passes, feature_i and backward_i for the T frames. Memory is bounded by running long clips in
windows of T frames with overlap (the server's driver; not here). The official code skips the forward flows of a
mirror-extended clip only because they equal the flipped backward ones; the parts need no such case.

Rewrites for ONNX (no Col2Im, no Im2Col, no adaptive pooling):
  * F.unfold(x, 4, stride 4) then F.fold to the token grid = space-to-depth by 4 (reshape/transpose), channel
    c·16 + 4·row + column, as unfold orders them; F.fold(tokens, (H, W), 4, stride 4) = DepthToSpace(4, CRD).
  * Scale 2 tokens: unfold 6×6 (padding 1, stride 4), fold to 1.5H × 1.5W (non-overlapping 6×6 blocks), adaptive
    average pooling back to H×W (ratio 1.5: each output row averages rows {3m, 3m+1} or {3m+1, 3m+2}, which never
    leave a block), unfold 4×4 = one grouped convolution (groups C, 16 outputs per channel, 6×6 kernel, stride 4,
    padding 1) whose fixed kernel is the outer product of the 4×6 row-averaging matrix with itself. Scale 3: the
    same with 8×8 (padding 2) and 2×2 averaging (ratio 2).
  * The location maps' adaptive pooling to H/4 × W/4 = average pooling 4×4 (H, W multiples of 4).
  * F.normalize, max over keyframes and gather are ReduceSum/Sqrt/Clip/Div, ReduceMax/ArgMax and GatherElements;
    F.grid_sample is GridSample (opset 16; onnxruntime has CPU, CUDA and WebGPU (JSEP, 4-D) kernels; the
    WebGPU one was read in onnxruntime-web 1.30's ort.all.mjs: nearest/bilinear/bicubic, zeros/border/reflection).
    The ops the parts use are listed in test/export/ttvsr.test.ts (ALLOWED_OPS).

Bound, ONNX vs PyTorch: per part, export.py's check (TOLERANCE, or RELATIVE_TOLERANCE of the output's magnitude);
on a whole clip, CLIP_TOLERANCE = 1e-5 max |difference| in output pixels (0.0026 of an 8-bit level): the tiny model,
7 frames of 64×72 → 256×288, the parts driven as above from TypeScript on onnxruntime-node against reference_forward
(the official forward, written with F.unfold / F.fold / adaptive pooling / grid_sample on [N, 2K, h, w] maps).
Measured on this machine: 3.0e-7 (tiny); 1.5e-6 at full width (random weights of trained-like magnitudes, all five
parts exported at 64 channels / 60 blocks, same clip); drive() over the PyTorch parts vs reference_forward: 1.8e-7
(tiny), 1.6e-6 (full width). The recurrence makes discrete choices (nearest trajectory positions, the most similar
keyframe); float32 differences of ~1e-6 cannot flip them unless a choice is that close to a tie, so reference()
reports the clip's smallest margins (tiny: 0.12 px to a rounding tie, 4e-6 between the two most similar keyframes)
and the test requires them.

Running the export: `/usr/bin/python3 models/export/export.py <part id> (--tiny | --checkpoint FILE) --out DIR`, as
for every family (families.py lists 'ttvsr'); `template.py <part id>` makes the part's graph template, whose slots are
named by the part module's state_dict keys = the file's `generator.*` keys without the prefix (models/convert/
from-checkpoint.ts strips it). Each part's module holds only the generator submodules its graph uses, so every
parameter of a part is a slot of its template (no UNUSED_PARAMETERS).
"""

import argparse
import json
import math
import os
import pickle
import sys
import zipfile

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

PAPER = 'Learning Trajectory-Aware Transformer for Video Super-Resolution (CVPR 2022)'
CONVERTER = 'models/export/ttvsr.py'
TASK = 'upscale-video'
SCALE = 4
TOKEN = 4  # `stride`: 4×4 pixels per token
KEYFRAME_STRIDE = 3
MIN_SIZE = 64

# Both configs: TTVSRNet(mid_channels=64, num_blocks=60, stride=4); feat_extractor 5 blocks, SPyNet 6 levels of
# five 7×7 convolutions 8→32→64→32→16→2, reconstruction 64 channels (fixed in the official code).
FULL = {'mid': 64, 'blocks': 60, 'extractor_blocks': 5, 'spynet': (32, 64, 32, 16), 'hr': 64}
# Tiny: the same architecture at test width (random weights).
TINY = {'mid': 8, 'blocks': 2, 'extractor_blocks': 1, 'spynet': (8, 8, 8, 4), 'hr': 8}

REDS_FILE, VIMEO_FILE = 'TTVSR_REDS.pth', 'TTVSR_Vimeo90K.pth'  # the official files' names
DATASETS = {
    'reds': {'checkpoint': REDS_FILE, 'label': 'REDS', 'degradation': 'bicubic ×4 downscaling ("BI")',
             'quality': 'REDS4 32.12 dB PSNR / 0.9021 SSIM (paper)'},
    'vimeo90k': {'checkpoint': VIMEO_FILE, 'label': 'Vimeo-90K',
                 'degradation': 'Gaussian blur then ×4 downsampling ("BD")',
                 'quality': 'Vid4 28.40 dB / 0.8643, UDM10 40.41 dB / 0.9712 (paper, BD)'},
}
PARTS = ('flow', 'features', 'align', 'refine', 'reconstruct')
LICENSE = 'MIT (researchmm/TTVSR code and weights; the README states no other terms for the weights)'

MODELS = {
    'ttvsr-reds-flow': {'dataset': 'reds', 'part': 'flow', 'checkpoint': REDS_FILE},
    'ttvsr-reds-features': {'dataset': 'reds', 'part': 'features', 'checkpoint': REDS_FILE},
    'ttvsr-reds-align': {'dataset': 'reds', 'part': 'align', 'checkpoint': REDS_FILE},
    'ttvsr-reds-refine': {'dataset': 'reds', 'part': 'refine', 'checkpoint': REDS_FILE},
    'ttvsr-reds-reconstruct': {'dataset': 'reds', 'part': 'reconstruct', 'checkpoint': REDS_FILE},
    'ttvsr-vimeo90k-flow': {'dataset': 'vimeo90k', 'part': 'flow', 'checkpoint': VIMEO_FILE},
    'ttvsr-vimeo90k-features': {'dataset': 'vimeo90k', 'part': 'features', 'checkpoint': VIMEO_FILE},
    'ttvsr-vimeo90k-align': {'dataset': 'vimeo90k', 'part': 'align', 'checkpoint': VIMEO_FILE},
    'ttvsr-vimeo90k-refine': {'dataset': 'vimeo90k', 'part': 'refine', 'checkpoint': VIMEO_FILE},
    'ttvsr-vimeo90k-reconstruct': {'dataset': 'vimeo90k', 'part': 'reconstruct', 'checkpoint': VIMEO_FILE},
}
assert MODELS == {f'ttvsr-{d}-{p}': {'dataset': d, 'part': p, 'checkpoint': info['checkpoint']}
                  for d, info in DATASETS.items() for p in PARTS}, 'MODELS lists every dataset × part'

# ONNX (onnxruntime-node, CPU) vs PyTorch, max abs difference, both float32 (different summation orders):
#  flow: pixels of motion; 1e-3 px is far below what bilinear warping resolves, wiring errors move it by O(1).
#  features/align/refine: features of O(1–10); errors in the token geometry or the keyframe choice move them by
#        O(0.1) and more.
#  reconstruct: pixels in [0, 1]; 1e-4 is 0.026 of an 8-bit level.
TOLERANCE = {'flow': 1e-3, 'features': 1e-4, 'align': 1e-4, 'refine': 1e-4, 'reconstruct': 1e-4}
# ... or this fraction of the part's largest output magnitude when larger (≈ 80 float32 ulps; 60 residual blocks of
# features of magnitude M accumulate rounding of ~1e-6·M).
RELATIVE_TOLERANCE = 1e-5
# Whole clip (tiny, 7 frames of 64×72, 14 recurrent steps): output pixels in [0, 1]; measured 3e-7 (docstring).
CLIP_TOLERANCE = 1e-5
CLIP = {'frames': 7, 'height': 64, 'width': 72}


def model_info(model_id):
    if model_id not in MODELS:
        raise KeyError(f'unknown TTVSR model {model_id!r}; known: {", ".join(MODELS)}')
    return MODELS[model_id]


def config(model_id, tiny):
    """The architecture (the same for every part id and both checkpoints; template.py compares it for --also)."""
    model_info(model_id)
    return TINY if tiny else FULL


# ---------------------------------------------------------------------------------------------------------------
# The official modules' names (registration order = state_dict order)


class ConvModule(nn.Module):
    """mmcv's ConvModule without norm: its Conv2d is `conv` (bias on), then the activation (no parameters)."""

    def __init__(self, in_ch, out_ch, kernel, relu):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, 1, kernel // 2)
        self.relu = relu

    def forward(self, x):
        x = self.conv(x)
        return F.relu(x) if self.relu else x


class SPyNetBasicModule(nn.Module):
    def __init__(self, widths):
        super().__init__()
        chans = (8,) + tuple(widths) + (2,)
        self.basic_module = nn.Sequential(*[ConvModule(chans[i], chans[i + 1], 7, relu=i < len(chans) - 2)
                                            for i in range(len(chans) - 1)])

    def forward(self, x):
        return self.basic_module(x)


class SPyNet(nn.Module):
    """Flow from `ref` to `supp` (official SPyNet.forward): both resized to multiples of 32, ImageNet-normalised,
    a 6-level pyramid by 2×2 average pooling, coarse to fine: upsample the flow ×2 (bilinear, align_corners, values
    ×2), warp supp by it, add the level's residual; resize the flow back and scale it by the size ratio. Written with
    sizes read from the input so the graph keeps dynamic height and width."""

    def __init__(self, widths):
        super().__init__()
        self.basic_module = nn.ModuleList([SPyNetBasicModule(widths) for _ in range(6)])
        self.register_buffer('mean', torch.tensor(common.IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(common.IMAGENET_STD).view(1, 3, 1, 1))

    def compute_flow(self, ref, supp):
        refs = [(ref - self.mean) / self.std]
        supps = [(supp - self.mean) / self.std]
        for _ in range(5):
            refs.append(F.avg_pool2d(refs[-1], 2, 2, count_include_pad=False))
            supps.append(F.avg_pool2d(supps[-1], 2, 2, count_include_pad=False))
        refs, supps = refs[::-1], supps[::-1]
        flow = torch.zeros_like(refs[0][:, :2])
        for level, module in enumerate(self.basic_module):
            up = flow if level == 0 else F.interpolate(flow, scale_factor=2, mode='bilinear',
                                                        align_corners=True) * 2.0
            flow = up + module(torch.cat([refs[level], warp(supps[level], up, 'bilinear', 'border'), up], 1))
        return flow

    def forward(self, ref, supp):
        h, w = ref.shape[2], ref.shape[3]
        h_up, w_up = (h + 31) // 32 * 32, (w + 31) // 32 * 32
        ref = F.interpolate(ref, size=(h_up, w_up), mode='bilinear', align_corners=False)
        supp = F.interpolate(supp, size=(h_up, w_up), mode='bilinear', align_corners=False)
        flow = F.interpolate(self.compute_flow(ref, supp), size=(h, w), mode='bilinear', align_corners=False)
        ratio = torch.stack([_as_float(w) / _as_float(w_up), _as_float(h) / _as_float(h_up)])  # official: ×= w/w_up
        return flow * ratio.view(1, 2, 1, 1)


def _as_float(size):
    return size.float() if isinstance(size, torch.Tensor) else torch.tensor(float(size))


class ResidualBlockNoBN(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class ResidualBlocksWithInputConv(nn.Module):
    def __init__(self, in_ch, out_ch, blocks):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, 1, 1), nn.LeakyReLU(0.1),
                                  nn.Sequential(*[ResidualBlockNoBN(out_ch) for _ in range(blocks)]))

    def forward(self, x):
        return self.main(x)


class PixelShufflePack(nn.Module):
    def __init__(self, in_ch, out_ch, scale):
        super().__init__()
        self.scale = scale
        self.upsample_conv = nn.Conv2d(in_ch, out_ch * scale * scale, 3, 1, 1)

    def forward(self, x):
        return F.pixel_shuffle(self.upsample_conv(x), self.scale)


class LTAM(nn.Module):
    """Holds the attention's fusion convolution (3C → C, 3×3); the computation is ltam() below (parts) and
    official_ltam() (reference)."""

    def __init__(self, mid):
        super().__init__()
        self.fusion = nn.Conv2d(3 * mid, mid, 3, 1, 1)


class TTVSRNet(nn.Module):
    """The generator: official attribute names in registration order (img_upsample and lrelu hold nothing)."""

    def __init__(self, cfg):
        super().__init__()
        mid = cfg['mid']
        self.mid_channels = mid
        self.spynet = SPyNet(cfg['spynet'])
        self.feat_extractor = ResidualBlocksWithInputConv(3, mid, cfg['extractor_blocks'])
        self.LTAM = LTAM(mid)
        self.resblocks = ResidualBlocksWithInputConv(2 * mid, mid, cfg['blocks'])
        self.fusion = nn.Conv2d(3 * mid, mid, 1, 1, 0)
        self.upsample1 = PixelShufflePack(mid, mid, 2)
        self.upsample2 = PixelShufflePack(mid, cfg['hr'], 2)
        self.conv_hr = nn.Conv2d(cfg['hr'], cfg['hr'], 3, 1, 1)
        self.conv_last = nn.Conv2d(cfg['hr'], 3, 3, 1, 1)

    def forward(self, lrs):
        return reference_forward(self, lrs)


class TTVSR(nn.Module):
    """The official restorer's state_dict: its own buffer step_counter, then the generator."""

    def __init__(self, cfg):
        super().__init__()
        self.generator = TTVSRNet(cfg)
        self.register_buffer('step_counter', torch.zeros(1))

    def forward(self, lrs):
        return self.generator(lrs)


# ---------------------------------------------------------------------------------------------------------------
# Export-friendly operations (sizes read from tensors: the graphs keep dynamic height, width and keyframe count)


def warp(x, flow, mode, padding):
    """official flow_warp(x, flow.permute(0, 2, 3, 1), mode, padding, align_corners=True) for flow [N,2,H,W]: sample
    x at (column + flow_x, row + flow_y), normalised as the official does (sizes ≥ 2: max(size − 1, 1) = size − 1)."""
    h, w = x.shape[2], x.shape[3]
    cols = torch.arange(0, w).to(x.dtype).view(1, 1, -1)
    rows = torch.arange(0, h).to(x.dtype).view(1, -1, 1)
    gx = 2.0 * (cols + flow[:, 0]) / (w - 1) - 1.0
    gy = 2.0 * (rows + flow[:, 1]) / (h - 1) - 1.0
    return F.grid_sample(x, torch.stack((gx, gy), dim=3), mode=mode, padding_mode=padding, align_corners=True)


def space_to_depth(x):
    """[N,C,H,W] → [N,16C,H/4,W/4], channel c·16 + 4·i + j = pixel (4y + i, 4x + j): F.unfold(x, 4, stride=4)
    folded onto the token grid (the official unfold + fold(kernel 1))."""
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // TOKEN, TOKEN, w // TOKEN, TOKEN).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * TOKEN * TOKEN, h // TOKEN, w // TOKEN)


def depth_to_space(x):
    """[N,16C,h,w] → [N,C,4h,4w]: the official F.fold(tokens, (H, W), 4, stride=4) (DepthToSpace, CRD order)."""
    return F.pixel_shuffle(x, TOKEN)


def _averaging(kernel):
    """[4, kernel]: each of the 4 output rows of a token averages 2 of the `kernel` rows of its unfolded block as the
    official fold → adaptive_avg_pool2d does (kernel 6: ratio 1.5, rows {0,1},{1,2},{3,4},{4,5}; kernel 8: ratio 2,
    rows {0,1},{2,3},{4,5},{6,7})."""
    rows = {6: ((0, 1), (1, 2), (3, 4), (4, 5)), 8: ((0, 1), (2, 3), (4, 5), (6, 7))}[kernel]
    m = torch.zeros(TOKEN, kernel, dtype=torch.float64)
    for r, pair in enumerate(rows):
        m[r, list(pair)] = 0.5
    return m


def _token_kernel(kernel, channels):
    """The grouped convolution kernel [16C, 1, k, k]: output c·16 + 4r + s = Σ A[r,i]·A[s,j]·x[c, 4y+i−p, 4x+j−p]."""
    a = _averaging(kernel)
    k = torch.einsum('ri,sj->rsij', a, a).reshape(TOKEN * TOKEN, 1, kernel, kernel)
    return k.repeat(channels, 1, 1, 1).to(torch.float32)


class Tokenizer:
    """The three token scales of a feature map and the index tokens (plain attributes: graph constants, not
    checkpoint tensors)."""

    def __init__(self, channels):
        self.channels = channels
        self.k2 = _token_kernel(6, channels)
        self.k3 = _token_kernel(8, channels)

    def __call__(self, prop, feature):
        s1 = space_to_depth(prop)
        s2 = F.conv2d(prop, self.k2, stride=TOKEN, padding=1, groups=self.channels)
        s3 = F.conv2d(prop, self.k3, stride=TOKEN, padding=2, groups=self.channels)
        return s1, s2, s3, space_to_depth(feature)


def _normalize(x, dim):
    """F.normalize (L2, eps 1e-12) as ReduceSum/Sqrt/Max/Div."""
    return x / torch.clamp(torch.sqrt((x * x).sum(dim=dim, keepdim=True)), min=1e-12)


def ltam(fusion, feature, anchor, s1, s2, s3, index, location):
    """The official LTAM.forward for tokens [N,K,F,h,w] and location [N,K,2,h,w] (official: [N,2K,h,w])."""
    n, k, f, h, w = s1.shape
    grid = location.permute(0, 1, 3, 4, 2)
    gx = 2.0 * grid[..., 0] / (w - 1) - 1.0
    gy = 2.0 * grid[..., 1] / (h - 1) - 1.0
    grid = torch.stack((gx, gy), dim=4).reshape(n * k, h, w, 2)

    def along(tokens):  # each keyframe's tokens at its trajectory positions: [N,K,F,h·w]
        out = F.grid_sample(tokens.reshape(n * k, f, h, w), grid, mode='nearest', padding_mode='zeros',
                            align_corners=True)
        return out.reshape(n, k, f, h * w)

    current = _normalize(space_to_depth(feature).reshape(n, 1, f, h * w), 2)
    similarity = (_normalize(along(index), 2) * current).sum(dim=2)  # [N,K,h·w]
    best, which = torch.max(similarity, dim=1)  # [N,h·w]
    pick = which.reshape(n, 1, 1, h * w).expand(n, 1, f, h * w)

    def chosen(tokens):
        return depth_to_space(torch.gather(along(tokens), 1, pick).reshape(n, f, h, w))

    out = fusion(torch.cat([chosen(s1), chosen(s2), chosen(s3)], dim=1))
    weight = depth_to_space(best.reshape(n, 1, h, w).expand(n, TOKEN * TOKEN, h, w))  # [N,1,H,W]
    return out * weight + anchor


def reconstruct(net, frame, backward, feature, forward):
    """The official upsampling of one frame from its backward and forward features."""
    out = F.leaky_relu(net.fusion(torch.cat([backward, feature, forward], dim=1)), 0.1)
    out = F.leaky_relu(net.upsample1(out), 0.1)
    out = F.leaky_relu(net.upsample2(out), 0.1)
    out = F.leaky_relu(net.conv_hr(out), 0.1)
    out = net.conv_last(out)
    return out + F.interpolate(frame, scale_factor=SCALE, mode='bilinear', align_corners=False)


# ---------------------------------------------------------------------------------------------------------------
# The parts (each holds the generator's submodules under their official names)


class FlowPart(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.spynet = net.spynet

    def forward(self, reference, supporting):
        return self.spynet(reference, supporting)


class FeaturesPart(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.feat_extractor = net.feat_extractor

    def forward(self, frame):
        return self.feat_extractor(frame)


class AlignPart(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.LTAM = net.LTAM

    def forward(self, feature, propagated, flow, location, tokens_s1, tokens_s2, tokens_s3, tokens_index):
        anchor = warp(propagated, flow, 'bilinear', 'border')
        n, k, _, h, w = location.shape
        cell = F.avg_pool2d(flow, TOKEN, TOKEN) / TOKEN  # official: adaptive_avg_pool2d to (H/4, W/4), / stride
        moved = warp(location.reshape(n, k * 2, h, w), cell, 'nearest', 'border').reshape(n, k, 2, h, w)
        aligned = ltam(self.LTAM.fusion, feature, anchor, tokens_s1, tokens_s2, tokens_s3, tokens_index, moved)
        return aligned, moved


class RefinePart(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.resblocks = net.resblocks
        self.tokenizer = Tokenizer(net.mid_channels)

    def forward(self, feature, aligned):
        prop = self.resblocks(torch.cat([feature, aligned], dim=1))
        return (prop,) + self.tokenizer(prop, feature)


class ReconstructPart(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.fusion, self.upsample1, self.upsample2 = net.fusion, net.upsample1, net.upsample2
        self.conv_hr, self.conv_last = net.conv_hr, net.conv_last

    def forward(self, frame, backward, feature, forward):
        return reconstruct(self, frame, backward, feature, forward)


PART_MODULES = {'flow': FlowPart, 'features': FeaturesPart, 'align': AlignPart, 'refine': RefinePart,
                'reconstruct': ReconstructPart}
PART_INPUTS = {
    'flow': ['reference', 'supporting'],
    'features': ['frame'],
    'align': ['feature', 'propagated', 'flow', 'location', 'tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index'],
    'refine': ['feature', 'aligned'],
    'reconstruct': ['frame', 'backward', 'feature', 'forward'],
}
PART_OUTPUTS = {
    'flow': ['flow'],
    'features': ['feature'],
    'align': ['aligned', 'location_out'],
    'refine': ['propagated', 'tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index'],
    'reconstruct': ['image'],
}
TOKEN_NAMES = ('tokens_s1', 'tokens_s2', 'tokens_s3', 'tokens_index')


def parts(model):
    """{part: module} over one restorer's generator."""
    net = model.generator if isinstance(model, TTVSR) else model
    return {name: cls(net).eval() for name, cls in PART_MODULES.items()}


# ---------------------------------------------------------------------------------------------------------------
# The host-driven recurrence (the reference for the server's driver)


def keyframes(t, backward):
    return set(range(t - 1, 0, -KEYFRAME_STRIDE)) if backward else set(range(0, t, KEYFRAME_STRIDE))


def token_grid(n, h, w, dtype=torch.float32):
    """One keyframe's initial trajectory map [N,1,2,h,w]: (x, y) = (column, row) of each token."""
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    return torch.stack([cols, rows]).to(dtype).expand(n, 2, h, w).reshape(n, 1, 2, h, w)


def drive(run, lrs, log=None):
    """Runs a clip lrs [N,T,3,H,W] through the parts in recurrence order; `run(part, {input: tensor})` returns
    {output: tensor}. Returns [N,T,3,4H,4W]."""
    n, t, _, h, w = lrs.shape
    frames = [lrs[:, i] for i in range(t)]
    features = [run('features', {'frame': f})['feature'] for f in frames]
    grid = token_grid(n, h // TOKEN, w // TOKEN)

    def one_pass(backward):
        order = range(t - 1, -1, -1) if backward else range(t)
        keys = keyframes(t, backward)
        prop = location = None
        buffers = {name: [] for name in TOKEN_NAMES}
        results = {}
        for step, i in enumerate(order):
            if step == 0:
                aligned = torch.zeros_like(features[i])
            else:
                previous = i + 1 if backward else i - 1
                flow = run('flow', {'reference': frames[i], 'supporting': frames[previous]})['flow']
                feeds = {'feature': features[i], 'propagated': prop, 'flow': flow, 'location': location}
                feeds.update({name: torch.cat(buffers[name], dim=1) for name in TOKEN_NAMES})
                out = run('align', feeds)
                aligned, location = out['aligned'], out['location_out']
            if step == 0 or i in keys:
                location = grid if step == 0 else torch.cat([location, grid], dim=1)
            out = run('refine', {'feature': features[i], 'aligned': aligned})
            prop = out['propagated']
            if i in keys:
                for name in TOKEN_NAMES:
                    buffers[name].append(out[name].unsqueeze(1))
            if backward:
                results[i] = prop
            else:
                results[i] = run('reconstruct', {'frame': frames[i], 'backward': back[i], 'feature': features[i],
                                                 'forward': prop})['image']
            if log:
                log(f'{"backward" if backward else "forward"} {i}: keyframes {len(buffers["tokens_s1"])}')
        return results

    back = one_pass(True)
    images = one_pass(False)
    return torch.stack([images[i] for i in range(t)], dim=1)


def torch_runner(model):
    """run() for drive() over the PyTorch parts."""
    modules = parts(model)

    def run(name, feeds):
        with torch.no_grad():
            out = modules[name](*[feeds[k] for k in PART_INPUTS[name]])
        return dict(zip(PART_OUTPUTS[name], _as_tuple(out)))
    return run


# ---------------------------------------------------------------------------------------------------------------
# The reference: the official whole-clip forward, written with the official operations (F.unfold, F.fold,
# adaptive pooling, grid_sample on [N, 2K, h, w] location maps). It also records the margins of the discrete
# choices (see reference()).


def official_flow_warp(x, flow, mode='bilinear', padding='zeros'):
    """official flow_warp: flow [N,H,W,2] in pixels, align_corners=True."""
    h, w = x.shape[2], x.shape[3]
    rows, cols = torch.meshgrid(torch.arange(0, h), torch.arange(0, w), indexing='ij')
    base = torch.stack((cols, rows), 2).type_as(x)
    moved = base + flow
    gx = 2.0 * moved[..., 0] / max(w - 1, 1) - 1.0
    gy = 2.0 * moved[..., 1] / max(h - 1, 1) - 1.0
    return F.grid_sample(x, torch.stack((gx, gy), dim=3), mode=mode, padding_mode=padding, align_corners=True)


def official_tokens(feat, feature, h, w):
    """The official keyframe tokenisation: unfold/fold, with fold to 1.5× and 2× then adaptive average pooling."""
    s, hs, ws = TOKEN, h // TOKEN, w // TOKEN

    def grid_tokens(x):
        return F.fold(F.unfold(x, s, padding=0, stride=s), (hs, ws), 1, padding=0, stride=1)

    def scaled(x, kernel, pad, size):
        x = F.fold(F.unfold(x, kernel, padding=pad, stride=s), size, kernel, padding=0, stride=kernel)
        return grid_tokens(F.adaptive_avg_pool2d(x, (h, w)))
    return (grid_tokens(feat), scaled(feat, int(1.5 * s), int(0.25 * s), (int(1.5 * h), int(1.5 * w))),
            scaled(feat, 2 * s, int(0.5 * s), (2 * h, 2 * w)), grid_tokens(feature))


def official_ltam(fusion, curr, index_set, anchor, s1_set, s2_set, s3_set, location, margins):
    """official LTAM.forward (sets [N,K,F,h,w], location [N,2K,h,w]); records the smallest best-vs-second gap."""
    n, c, h, w = anchor.shape
    t = s1_set.shape[1]
    flen, fnum = c * TOKEN * TOKEN, (h // TOKEN) * (w // TOKEN)
    hs, ws = h // TOKEN, w // TOKEN
    grid = location.view(n, t, 2, hs, ws).permute(0, 1, 3, 4, 2)
    grid = torch.stack((2.0 * grid[..., 0] / max(ws - 1, 1) - 1.0, 2.0 * grid[..., 1] / max(hs - 1, 1) - 1.0), 4)
    grid = grid.reshape(-1, hs, ws, 2)

    def sample(x):
        out = F.grid_sample(x.reshape(-1, flen, hs, ws), grid, mode='nearest', padding_mode='zeros',
                            align_corners=True)
        return F.unfold(out, 1, padding=0, stride=1).view(n, -1, flen, fnum)

    cur = F.normalize(F.unfold(curr, TOKEN, padding=0, stride=TOKEN).permute(0, 2, 1), dim=2).unsqueeze(3)
    idx = F.normalize(sample(index_set).permute(0, 3, 1, 2), dim=3)
    matrix = torch.matmul(idx, cur).squeeze(3)  # [N, fnum, t]
    soft, index = torch.max(matrix, dim=2)
    if t > 1:
        top2 = torch.topk(matrix, 2, dim=2).values
        margins['keyframe'] = min(margins.get('keyframe', math.inf), float((top2[..., 0] - top2[..., 1]).min()))
    soft = F.fold(soft.unsqueeze(1).expand(-1, flen, -1), (h, w), TOKEN, padding=0, stride=TOKEN)
    gather = index.view(n, 1, 1, fnum).expand(-1, -1, flen, -1)

    def chosen(x):
        out = torch.gather(sample(x).contiguous().view(n, t, flen, fnum), 1, gather).squeeze(1)
        return F.fold(out, (h, w), TOKEN, padding=0, stride=TOKEN)
    out = fusion(torch.cat([chosen(s1_set), chosen(s2_set), chosen(s3_set)], dim=1))
    return out * soft + anchor


def _nearest_margin(location, flow, hs, ws):
    """How close the nearest-neighbour sample positions of a location update come to a rounding tie (0.5): the
    smallest |frac(p) − 0.5| over positions inside the map (border-clamped ones cannot tie)."""
    rows, cols = torch.meshgrid(torch.arange(hs), torch.arange(ws), indexing='ij')
    px = (cols + flow[:, :, :, 0]).double()
    py = (rows + flow[:, :, :, 1]).double()
    inside = (px > 0) & (px < ws - 1) & (py > 0) & (py < hs - 1)
    gaps = torch.minimum((px - px.floor() - 0.5).abs(), (py - py.floor() - 0.5).abs())[inside]
    return float(gaps.min()) if gaps.numel() else math.inf


def reference_forward(net, lrs, margins=None):
    """The official TTVSRNet.forward on a whole clip lrs [N,T,3,H,W] → [N,T,3,4H,4W]."""
    margins = {} if margins is None else margins
    n, t, c, h, w = lrs.shape
    assert h >= MIN_SIZE and w >= MIN_SIZE, f'the official forward needs H, W ≥ {MIN_SIZE}, got {h}×{w}'
    hs, ws = h // TOKEN, w // TOKEN
    first, rest = lrs[:, :-1].reshape(-1, c, h, w), lrs[:, 1:].reshape(-1, c, h, w)
    flows_backward = net.spynet(first, rest).view(n, t - 1, 2, h, w)
    flows_forward = net.spynet(rest, first).view(n, t - 1, 2, h, w)
    feats = net.feat_extractor(lrs.view(-1, c, h, w)).view(n, t, -1, h, w)
    rows, cols = torch.meshgrid(torch.arange(0, hs), torch.arange(0, ws), indexing='ij')
    grid = torch.stack([cols, rows], dim=0).type_as(lrs).expand(n, -1, -1, -1)

    def propagate(order, flow_at, keys):
        prop = lrs.new_zeros(n, net.mid_channels, h, w)
        location = grid
        sets = ([], [], [], [])  # s1, s2, s3, index
        out = {}
        for step, i in enumerate(order):
            cur = feats[:, i]
            if step > 0:
                flow = flow_at(i)
                prop = official_flow_warp(prop, flow.permute(0, 2, 3, 1), padding='border')
                cell = (F.adaptive_avg_pool2d(flow, (hs, ws)) / TOKEN).permute(0, 2, 3, 1)
                margins['nearest'] = min(margins.get('nearest', math.inf), _nearest_margin(location, cell, hs, ws))
                location = official_flow_warp(location, cell, mode='nearest', padding='border')
                stacked = [torch.stack(s, dim=1) for s in sets]
                prop = official_ltam(net.LTAM.fusion, cur, stacked[3], prop, stacked[0], stacked[1], stacked[2],
                                     location, margins)
                if i in keys:
                    location = torch.cat([location, grid], dim=1)
            prop = net.resblocks(torch.cat([cur, prop], dim=1))
            out[i] = prop
            if i in keys:
                for store, tokens in zip(sets, official_tokens(prop, cur, h, w)):
                    store.append(tokens)
        return out

    back = propagate(range(t - 1, -1, -1), lambda i: flows_backward[:, i], keyframes(t, True))
    fwd = propagate(range(t), lambda i: flows_forward[:, i - 1], keyframes(t, False))
    return torch.stack([reconstruct(net, lrs[:, i], back[i], feats[:, i], fwd[i]) for i in range(t)], dim=1)


# ---------------------------------------------------------------------------------------------------------------
# Family interface (models/export/README.md)


def build(model_id, tiny):
    """The whole restorer for every part id. Tiny: seeded random weights from torch's global RNG (export.py seeds
    it), so the tiny parts of one seed share their weights; full: PyTorch's default initialisation, to be
    replaced by a checkpoint."""
    model_info(model_id)
    model = TTVSR(config(model_id, tiny)).eval()
    if tiny:
        randomize_tiny(model)
    return model


def randomize_tiny(model):
    """Random weights under which every path matters (PyTorch's default initialisation shrinks each layer, and the
    trajectory attention then moves the output by ~1e-3 only): unit-gain convolutions (√2 before ReLU), residual
    branches at 1/√(2·blocks) (0.5 for the tiny model's 2 blocks; features stay O(1) at full depth too), SPyNet's
    flow layers at 0.1 (flows of a few pixels), the last layer at 0.1 (output = bilinear frame + a residual of
    σ ≈ 0.05). On the test clip the attention then moves the output by up to ≈0.3."""
    residual = {f'{name}.main.2.': 1 / math.sqrt(2 * len(module.main[2]))
                for name, module in model.named_modules() if isinstance(module, ResidualBlocksWithInputConv)}
    with torch.no_grad():
        for name, module in model.named_modules():
            if not isinstance(module, nn.Conv2d):
                continue
            gain = math.sqrt(2)
            if name.endswith('conv2'):
                gain = next(g for prefix, g in residual.items() if name.startswith(prefix))
            elif name.startswith('generator.spynet.') and name.endswith('.4.conv'):
                gain = 0.1
            elif name.endswith('conv_last'):
                gain = 0.1
            common.random_matrix_(module.weight, gain)
            common.random_bias_(module.bias)
            if name.endswith('conv_last'):
                module.bias.mul_(0.1)


class _Placeholder(dict):
    """Stands in for a pickled class outside the tensor machinery (none expected in mmcv's meta/optimizer, which are
    builtins): accepts any arguments and state, runs no code."""

    def __init__(self, *args, **kwargs):  # noqa: D107 - the stood-in class's arguments are ignored
        super().__init__()

    def __setstate__(self, state):
        self.__dict__['_pickled_state'] = state


class _Unpickler(common.TorchZipUnpickler):
    def __init__(self, file, archive, prefix, unresolved):
        super().__init__(file, archive, prefix)
        self.unresolved = unresolved

    def other_class(self, module, name):
        self.unresolved.add(f'{module}.{name}')
        return type(name, (_Placeholder,), {'__module__': module})


def read_checkpoint(path):
    """The object in `path`: zip-format torch.save files (torch ≥ 1.6; the official README asks for torch 1.9) are
    read without running pickled code; older files go through torch.load."""
    if not os.path.isfile(path):
        raise common.ExportError(f'checkpoint not found: {path}')
    unresolved = set()
    try:
        if zipfile.is_zipfile(path):
            obj = common.read_torch_zip(path, lambda f, archive, prefix: _Unpickler(f, archive, prefix, unresolved))
        else:
            obj = torch.load(path, map_location='cpu')
    except common.ExportError:
        raise
    except (pickle.UnpicklingError, KeyError, ValueError, RuntimeError, EOFError) as error:
        raise common.ExportError(f'cannot read checkpoint {path}: {error}') from error
    if unresolved:
        common.warn(f'{path}: read as placeholders, not run: {", ".join(sorted(unresolved))} (only the weights are '
                    'used)')
    return obj


GENERATOR = 'generator.'
MARKER = 'spynet.basic_module.0.basic_module.0.conv.weight'


def select_state(obj, path):
    """The restorer's state_dict from the file: mmcv's {'state_dict': …} (or a bare one); a bare generator
    state_dict gets the prefix. step_counter (training iterations, unused) is filled with 0 when absent."""
    if not isinstance(obj, dict):
        raise common.ExportError(f'{path} holds a {type(obj).__name__}, not a checkpoint dict')
    state = obj['state_dict'] if isinstance(obj.get('state_dict'), dict) else obj
    if GENERATOR + MARKER in state:
        state = dict(state)
    elif MARKER in state:
        state = {GENERATOR + k: v for k, v in state.items()}
    else:
        top = ', '.join(f'{k} ({len(v)} entries)' if isinstance(v, dict) else str(k) for k, v in list(obj.items())[:12])
        raise common.ExportError(f'{path} is not a TTVSR checkpoint: no {GENERATOR}{MARKER} in its \'state_dict\' '
                                 f'(mmcv layout) nor a bare generator state_dict; its top-level entries: {top}')
    state.setdefault('step_counter', torch.zeros(1))
    return state


def load_checkpoint(model, model_id, path):
    """Loads the official file's 'state_dict' (restorer layout: step_counter, generator.*) with strict=True; SPyNet's
    mean/std buffers are loaded too (the forward uses them, as the official does: a file whose values differ from
    ImageNet's is reported)."""
    info = model_info(model_id)
    state = select_state(read_checkpoint(path), path)
    fixed = common.buffer_copies(model, lambda k: k.endswith(('spynet.mean', 'spynet.std')))
    common.load_strict(model, state, f'{model_id} (TTVSR, {info["checkpoint"]} layout)', path)
    common.warn_changed_buffers(model, fixed, path, kind="SPyNet normalisation buffers",
                                effect='the export uses the file\'s values, as the official code does.',
                                same=lambda a, b: torch.allclose(a, b, atol=1e-6))


def official_layout(model_id):
    """[(name, shape, dtype)] of the official files' 'state_dict' (both datasets: the same generator)."""
    model_info(model_id)
    return common.official_layout_file('ttvsr-reds.txt')


def official_keys(model_id):
    return common.layout_keys(official_layout(model_id))


def prepare(model, model_id, tiny):
    """Nothing to compute: everything comes with the weights."""


def _clip(gen, n, t, h, w):
    """A synthetic clip [N,T,3,H,W] in [0, 1]: smooth colour patterns moving by sub-pixel steps per frame (so SPyNet
    sees motion), plus a little noise."""
    rows = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1)
    cols = torch.arange(w, dtype=torch.float64).view(1, 1, 1, w)
    phase = torch.rand(n, 3, 1, 1, generator=gen, dtype=torch.float64) * 6.28
    freq = 0.15 + 0.2 * torch.rand(n, 3, 2, generator=gen, dtype=torch.float64)
    step = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 2 - 1
    frames = []
    for i in range(t):
        x = cols - 1.3 * i * step[:, 0].view(n, 1, 1, 1)
        y = rows - 0.9 * i * step[:, 1].view(n, 1, 1, 1)
        v = 0.5 + 0.25 * torch.sin(freq[..., 0, None, None] * x + phase) * torch.cos(freq[..., 1, None, None] * y)
        v = v + 0.15 * torch.sin(0.05 * (x + y) + phase * 2)
        frames.append(v)
    clip = torch.stack(frames, dim=1).float()
    return (clip + 0.02 * torch.randn(clip.shape, generator=gen)).clamp(0, 1)


def example_inputs(part, cfg, gen, n, h, w, k):
    """Inputs of one part for the check: frames in [0, 1], features ~ N(0, 1), smooth flows of a few pixels,
    integer trajectory positions inside the token grid (what the recurrence feeds), random tokens."""
    c, hs, ws = cfg['mid'], h // TOKEN, w // TOKEN
    f = c * TOKEN * TOKEN
    frames = _clip(gen, n, 2, h, w)
    if part == 'flow':
        return frames[:, 0], frames[:, 1]
    if part == 'features':
        return (frames[:, 0],)
    feature = torch.randn(n, c, h, w, generator=gen)
    if part == 'refine':
        return feature, torch.randn(n, c, h, w, generator=gen)
    if part == 'reconstruct':
        return frames[:, 0], torch.randn(n, c, h, w, generator=gen), feature, torch.randn(n, c, h, w, generator=gen)
    coarse = torch.randn(n, 2, 4, 4, generator=gen) * 3
    flow = F.interpolate(coarse, size=(h, w), mode='bicubic', align_corners=False)
    cols = torch.randint(0, ws, (n, k, 1, hs, ws), generator=gen)
    rows = torch.randint(0, hs, (n, k, 1, hs, ws), generator=gen)
    location = torch.cat([cols, rows], dim=2).float()
    tokens = [torch.randn(n, k, f, hs, ws, generator=gen) for _ in TOKEN_NAMES]
    return (feature, torch.randn(n, c, h, w, generator=gen), flow, location, *tokens)


DYNAMIC = {'frame': {0: 'batch', 2: 'height', 3: 'width'}, 'map': {0: 'batch', 2: 'height', 3: 'width'},
           'tokens': {0: 'batch', 1: 'keyframes', 3: 'token_rows', 4: 'token_cols'},
           'step_tokens': {0: 'batch', 2: 'token_rows', 3: 'token_cols'},
           'image': {0: 'batch', 2: 'out_height', 3: 'out_width'}}
KINDS = {'reference': 'frame', 'supporting': 'frame', 'frame': 'frame', 'flow': 'map', 'feature': 'map',
         'propagated': 'map', 'aligned': 'map', 'backward': 'map', 'forward': 'map', 'location': 'tokens',
         'location_out': 'tokens', 'image': 'image'}


def _kind(part, name):
    if name.startswith('tokens_'):
        return 'tokens' if part == 'align' else 'step_tokens'
    return KINDS[name]


def export_spec(model, model_id, tiny):
    part = model_info(model_id)['part']
    cfg = config(model_id, tiny)
    module = parts(model)[part]
    gen = torch.Generator().manual_seed(1234)
    # Two sizes: 64×72 (W not a multiple of 32: SPyNet resizes), 68×64 at batch 2; align with 2 and 3 keyframes.
    compare = [example_inputs(part, cfg, gen, 1, 64, 72, 2), example_inputs(part, cfg, gen, 2, 68, 64, 3)]
    names_in, names_out = PART_INPUTS[part], PART_OUTPUTS[part]
    dynamic = {name: DYNAMIC[_kind(part, name)] for name in names_in + names_out}
    return {'module': module, 'inputs': compare[0], 'input_names': names_in, 'output_names': names_out,
            'dynamic_axes': dynamic, 'tolerance': tolerance(part, module, compare), 'compare_inputs': compare}


def tolerance(part, module, compare):
    """TOLERANCE[part], or RELATIVE_TOLERANCE × the largest feature/pixel magnitude on the compare inputs when that
    is larger (trained weights may make features far larger than the test model's). Trajectory positions are not
    counted: they are copied, not computed, so they must match exactly."""
    with torch.no_grad():
        peak = max(float(o.abs().max()) for inputs in compare
                   for name, o in zip(PART_OUTPUTS[part], _as_tuple(module(*inputs))) if name != 'location_out')
    return max(TOLERANCE[part], RELATIVE_TOLERANCE * peak)


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def _shape(part, name, cfg):
    c = cfg['mid']
    f = c * TOKEN * TOKEN
    return {'frame': ['batch', 3, 'height', 'width'],
            'map': ['batch', 2 if name == 'flow' else c, 'height', 'width'],
            'tokens': ['batch', 'keyframes', 2 if name.startswith('location') else f, 'token_rows', 'token_cols'],
            'step_tokens': ['batch', f, 'token_rows', 'token_cols'],
            'image': ['batch', 3, 'out_height', 'out_width']}[_kind(part, name)]


WHAT = {
    'flow': 'SPyNet optical flow from the reference frame to the supporting frame, in pixels (x, y).',
    'features': 'Per-frame features (a convolution and residual blocks).',
    'align': ('One propagation step\'s alignment: warps the propagated feature by the flow, moves each keyframe\'s '
              'token trajectory, and attends along the trajectories to the most similar keyframe tokens (LTAM).'),
    'refine': ('One propagation step\'s residual blocks, and the step\'s tokens at three scales plus the index '
               'tokens (kept by the host at keyframes).'),
    'reconstruct': 'Fuses a frame\'s backward and forward features and upsamples ×4, plus the bilinear ×4 frame.',
}


def _ids(dataset, tiny):
    suffix = '-tiny' if tiny else ''
    return {'id': f'ttvsr-{dataset}{suffix}', **{p: f'ttvsr-{dataset}-{p}{suffix}' for p in PARTS}}


def video_io(cfg):
    """What the host needs to run the recurrence (see the module docstring)."""
    return {'scale': SCALE, 'keyframeStride': KEYFRAME_STRIDE, 'tokenSize': TOKEN, 'channels': cfg['mid'],
            'tokenChannels': cfg['mid'] * TOKEN * TOKEN, 'sizeMultiple': TOKEN, 'minSize': MIN_SIZE,
            'backwardKeyframes': 'T−1, T−4, … while > 0', 'forwardKeyframes': '0, 3, 6, …',
            'locationGrid': '(x, y) = (column, row) of each token, float32 [N,1,2,H/4,W/4], appended at a keyframe',
            'driver': 'worker/video/ttvsr.ts runWindow() (its Python twin: models/export/ttvsr.py drive())'}


def card(model_id, tiny):
    info = model_info(model_id)
    part, dataset = info['part'], info['dataset']
    cfg = config(model_id, tiny)
    data = DATASETS[dataset]
    io = {'inputs': [{'name': n, 'dtype': 'float32', 'shape': _shape(part, n, cfg)} for n in PART_INPUTS[part]],
          'outputs': [{'name': n, 'dtype': 'float32', 'shape': _shape(part, n, cfg)} for n in PART_OUTPUTS[part]],
          'image': {'layout': 'NCHW', 'range': [0, 1]},
          'scale': SCALE if part == 'reconstruct' else 1,
          'tile': {'size': 0, 'overlap': 0},
          'video': video_io(cfg)}
    if tiny:
        label = f'TTVSR tiny {part} (random-weight test model)'
        description = f'Random-weight test model: {WHAT[part]} Tiny width; produces noise, not video.'
        license_text, checkpoint = common.TINY_LICENSE, common.TINY_CHECKPOINT
    else:
        label = f'TTVSR {data["label"]} {part}'
        description = f'{WHAT[part]} Trained on {data["label"]} ({data["degradation"]}).'
        license_text, checkpoint = LICENSE, info['checkpoint']
    return {
        **common.card_head(model_id, tiny, TASK, label, description),
        'role': part,
        'pipeline': _ids(dataset, tiny),
        'io': io,
        'license': license_text,
        'source': {'paper': PAPER, 'checkpoint': checkpoint, 'converter': CONVERTER},
        'targets': ['node', 'server'],
        'notes': ('A part of the TTVSR recurrence, driven by the host (models/export/ttvsr.py describes the order '
                  'and the state). Frame sizes must be multiples of 4 and at least 64. ' +
                  ('' if tiny else data['quality'] + '.')).strip(),
    }


# ---------------------------------------------------------------------------------------------------------------
# Whole-clip reference (tests): python3 ttvsr.py reference --tiny --seed 0 --out DIR


def reference(args, log=print):
    """Builds the model as export.py does (seed, then build), runs reference_forward on a synthetic clip and drive()
    over the PyTorch parts, and writes DIR/clip.f32 [1,T,3,H,W], DIR/output.f32 [1,T,3,4H,4W] and
    DIR/reference.json (shapes, the PyTorch parts' difference, the choices' margins, the bound)."""
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    model = build(args.model_id, args.tiny)
    if args.checkpoint:
        load_checkpoint(model, args.model_id, args.checkpoint)
    t, h, w = args.frames, args.height, args.width
    lrs = _clip(torch.Generator().manual_seed(args.clip_seed), 1, t, h, w)
    margins = {}
    with torch.no_grad():
        official = reference_forward(model.generator, lrs, margins)
        driven = drive(torch_runner(model), lrs)
    diff = float((official - driven).abs().max())
    log(f'reference_forward vs drive() over the PyTorch parts: max |diff| = {diff:.3g}; margins {margins}')
    os.makedirs(args.out, exist_ok=True)
    lrs.numpy().astype('<f4').tofile(os.path.join(args.out, 'clip.f32'))
    official.numpy().astype('<f4').tofile(os.path.join(args.out, 'output.f32'))
    meta = {'clip': list(lrs.shape), 'output': list(official.shape), 'partsDiff': diff, 'margins': margins,
            'tolerance': CLIP_TOLERANCE, 'keyframeStride': KEYFRAME_STRIDE,
            'outputRange': [float(official.min()), float(official.max())]}
    with open(os.path.join(args.out, 'reference.json'), 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2)
    return meta


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description='TTVSR: `reference` writes the whole-clip PyTorch reference for the host-driven parts (the parts '
                    'are exported by export.py, as every family\'s models)')
    parser.add_argument('command', choices=['reference'])
    parser.add_argument('--model-id', default='ttvsr-reds-refine')
    parser.add_argument('--tiny', action='store_true')
    parser.add_argument('--checkpoint')
    parser.add_argument('--seed', type=int, default=0, help='the weights\' seed (as export.py --seed)')
    parser.add_argument('--clip-seed', type=int, default=7)
    parser.add_argument('--frames', type=int, default=CLIP['frames'])
    parser.add_argument('--height', type=int, default=CLIP['height'])
    parser.add_argument('--width', type=int, default=CLIP['width'])
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    if not args.tiny and not args.checkpoint:
        parser.error('one of --tiny or --checkpoint is required')
    try:
        reference(args)
    except common.ExportError as error:
        print(f'reference failed: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
