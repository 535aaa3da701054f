"""SimMIM (Xie et al., "SimMIM: A Simple Framework for Masked Image Modeling", CVPR 2022) with its Swin-B encoder
and one-layer linear decoder, re-implemented for ONNX export as an inpainting model.

Facts come from microsoft/SimMIM (MIT) at commit d3e29bc: models/simmim.py (SwinTransformerForSimMIM, SimMIM,
build_simmim), models/swin_transformer.py (SwinTransformer, BasicLayer, SwinTransformerBlock, WindowAttention,
PatchMerging, PatchEmbed), config.py defaults (patch 4, mlp ratio 4, qkv bias, no absolute position embedding,
patch norm) and configs/swin_base__100ep/simmim_pretrain__swin_base__img192_window6__100ep.yaml (192 px, embed 128,
depths 2-2-18-2, heads 4-8-16-32, window 6, 32-px mask cells). utils.save_checkpoint stores
{'model': model_without_ddp.state_dict(), 'optimizer', 'lr_scheduler', 'max_accuracy', 'epoch', 'config'};
transformers' convert_swin_simmim_to_pytorch.py reads that file's ['model'] (keys encoder.…, decoder.0.…, and
attn_mask buffers it drops) to make microsoft/swin-base-simmim-window6-192.

Module and tensor names mirror the official modules, registered so that `state_dict()` lists the same keys in the
same order (keys/simmim-swin-base-192.txt, 365 tensors, including the persistent buffers relative_position_index and
the shifted blocks' attn_mask). The forward pass is our own and written for export:
  * the graph takes the token mask [B, 48, 48] (1 = hidden) and returns the decoder output [B, 3, 192, 192]
    (the official forward returns the training loss instead);
  * reshapes use Python ints with -1 for the batch (no Shape ops); windows are one Reshape + Transpose each way;
  * patch merging is one Reshape + Transpose instead of four strided slices and a Concat (same channel order);
  * the 1×1 decoder conv runs on tokens as a MatMul, and PixelShuffle(32) is one Reshape + Transpose;
  * the shifted-window mask is one constant per stage, shared by the stage's shifted blocks;
  * buffers that follow from the architecture (relative_position_index, attn_mask) are kept for the checkpoint's
    key layout, but the forward pass uses copies computed here, so a checkpoint cannot change them (a warning says
    when its values differ).

Checkpoints: the official file (its 'config' is a yacs CfgNode; torch.save zip files are read by a restricted
unpickler that turns such classes into inert placeholders, so yacs need not be installed and no pickled code runs),
a bare state_dict, or Hugging Face's SwinForMaskedImageModeling layout (pytorch_model.bin or model.safetensors:
renamed, query/key/value joined into qkv, missing architecture buffers filled in).
"""

import json
import math
import os
import struct
import zipfile

import torch
import torch.nn.functional as F
from torch import nn

import common
import swin

# Official Swin-B SimMIM pretraining config (see the module docstring).
SWIN_BASE = {'embed_dim': 128, 'depths': (2, 2, 18, 2), 'num_heads': (4, 8, 16, 32)}
IMAGE_SIZE = 192
PATCH = 4
WINDOW = 6
MLP_RATIO = 4
MASK_CELL = 32            # the mask generator's cell (DATA.MASK_PATCH_SIZE); also the encoder's total stride
TOKENS = IMAGE_SIZE // PATCH  # 48: the token grid the mask lives on
ENCODER_STRIDE = 32       # decoder: 1×1 conv to 32²·3 channels + PixelShuffle(32)

# Tiny: the same architecture (192 px, patch 4, window 6, 4 stages, shifted blocks in stages 1–3, 32² · 3 decoder
# outputs) at embed 8 with head dim 8; the decoder (64 → 3072, 0.8 MB) and the stage-1 shift mask (0.33 MB)
# dominate its size. The last stage is one window (never shifted): one block there covers it.
TINY = {'embed_dim': 8, 'depths': (2, 2, 2, 1), 'num_heads': (1, 2, 4, 8)}

PAPER = 'SimMIM: A Simple Framework for Masked Image Modeling (CVPR 2022)'
CHECKPOINT = 'simmim_pretrain__swin_base__img192_window6__100ep.pth'

MODELS = {
    'simmim-swin-base-192': {
        'checkpoint': CHECKPOINT,
        'label': 'SimMIM Swin-B 192 (inpaint)',
        'pretraining': 'ImageNet-1K, 100 epochs, 60% of 32-px cells masked',
    },
}


def config(model_id, tiny):
    if model_id not in MODELS:
        raise KeyError(f'unknown SimMIM model {model_id!r}; known: {", ".join(MODELS)}')
    return dict(TINY if tiny else SWIN_BASE)


# ---------------------------------------------------------------------------------------------------------------
# Swin encoder (attribute names = the official ones; children registered in the official order)


class WindowAttention(swin.WindowAttentionBase):
    def __init__(self, dim, window, num_heads):
        super().__init__(dim, window, num_heads)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        """x: [B·windows, N, C]; mask: the shift mask [windows, 1, N, N] or None."""
        tokens, heads = self.window * self.window, self.num_heads
        qkv = self.qkv(x).reshape(-1, tokens, 3, heads, self.dim // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn + self.relative_bias()
        if mask is not None:
            windows = mask.shape[0]
            attn = (attn.reshape(-1, windows, heads, tokens, tokens) + mask).reshape(-1, heads, tokens, tokens)
        attn = torch.softmax(attn, dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(-1, tokens, self.dim))


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, resolution, num_heads, window, shift):
        super().__init__()
        self.dim = dim
        self.resolution = resolution
        self.window = window
        self.shift = shift
        if resolution <= window:  # official: the map fits one window, so no partition and no shift
            self.window, self.shift = resolution, 0
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, self.window, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = swin.Mlp(dim, int(dim * MLP_RATIO))
        if self.shift > 0:  # official key layout only: the forward pass uses BasicLayer's shift_mask
            self.register_buffer('attn_mask', swin.shift_mask(resolution, self.window, self.shift))

    def forward(self, x, mask):
        """x: [B, H·W, C]; mask: the stage's shift mask [windows, 1, N, N], used when this block shifts."""
        size, channels, shift = self.resolution, self.dim, self.shift
        shortcut = x
        x = self.norm1(x).reshape(-1, size, size, channels)
        if shift > 0:
            x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
        x = swin.window_partition(x, self.window, size, channels)
        x = self.attn(x, mask if shift > 0 else None)
        x = swin.window_reverse(x, self.window, size, channels)
        if shift > 0:
            x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
        x = shortcut + x.reshape(-1, size * size, channels)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """2×2 neighbours → one token: channels [x(0,0), x(1,0), x(0,1), x(1,1)] (row, col offsets), LayerNorm, linear."""

    def __init__(self, resolution, dim):
        super().__init__()
        self.resolution = resolution
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        half, channels = self.resolution // 2, self.dim
        x = x.reshape(-1, half, 2, half, 2, channels)  # b, row, row offset, col, col offset, c
        x = x.permute(0, 1, 3, 4, 2, 5).reshape(-1, half * half, 4 * channels)  # offsets ordered (col, row)
        return self.reduction(self.norm(x))


class BasicLayer(nn.Module):
    def __init__(self, dim, resolution, depth, num_heads, window, downsample):
        super().__init__()
        self.blocks = nn.ModuleList([
            SwinTransformerBlock(dim, resolution, num_heads, window, 0 if i % 2 == 0 else window // 2)
            for i in range(depth)])
        self.downsample = PatchMerging(resolution, dim) if downsample else None
        shifted = [b for b in self.blocks if b.shift > 0]
        # One copy for all shifted blocks of the stage (the graph holds it once), broadcast over heads. The official
        # −100 values are kept exactly; a per-axis split would be smaller but needs a Max to stay exact, and
        # onnxruntime-web's WebGPU (JSEP) kernels have no Max.
        mask = swin.shift_mask(resolution, shifted[0].window, shifted[0].shift).unsqueeze(1) if shifted else None
        self.register_buffer('shift_mask', mask, persistent=False)

    def forward(self, x):
        for block in self.blocks:
            x = block(x, self.shift_mask)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed(nn.Module):
    def __init__(self, embed_dim):
        super().__init__()
        self.embed_dim = embed_dim
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=PATCH, stride=PATCH)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, image):
        x = self.proj(image).reshape(-1, self.embed_dim, TOKENS * TOKENS).transpose(1, 2)
        return self.norm(x)


class SwinEncoder(nn.Module):
    """SwinTransformerForSimMIM: its own mask_token first (the state_dict lists a module's own tensors before its
    children's), then patch_embed, layers, norm; the classifier head is an Identity (num_classes 0)."""

    def __init__(self, embed_dim, depths, num_heads):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_features = embed_dim * 2 ** (len(depths) - 1)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.patch_embed = PatchEmbed(embed_dim)
        self.layers = nn.ModuleList()
        for i, (depth, heads) in enumerate(zip(depths, num_heads)):
            self.layers.append(BasicLayer(embed_dim * 2 ** i, TOKENS // 2 ** i, depth, heads, WINDOW,
                                          downsample=i < len(depths) - 1))
        self.norm = nn.LayerNorm(self.num_features)

    def forward(self, image, mask):
        """image [B, 3, 192, 192], mask [B, 48, 48] → tokens [B, 36, num_features] (6×6, row-major)."""
        x = self.patch_embed(image)
        w = mask.reshape(-1, TOKENS * TOKENS, 1)
        x = x * (1.0 - w) + self.mask_token * w  # as the official forward: hidden tokens become mask_token
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class SimMIM(nn.Module):
    """image [B, 3, 192, 192] (ImageNet-normalised) + mask [B, 48, 48] → reconstruction [B, 3, 192, 192]."""

    def __init__(self, embed_dim, depths, num_heads):
        super().__init__()
        self.encoder = SwinEncoder(embed_dim, depths, num_heads)
        self.decoder = nn.Sequential(
            nn.Conv2d(self.encoder.num_features, ENCODER_STRIDE ** 2 * 3, kernel_size=1),
            nn.PixelShuffle(ENCODER_STRIDE))

    def forward(self, image, mask):
        tokens = self.encoder(image, mask)
        conv = self.decoder[0]
        weight = conv.weight.reshape(conv.out_channels, conv.in_channels)
        x = F.linear(tokens, weight, conv.bias)  # the 1×1 conv, per token: [B, 36, 3·32²]
        # PixelShuffle: channel c·32² + i·32 + j of cell (h, w) → pixel (c, 32h + i, 32w + j).
        cells, r = IMAGE_SIZE // ENCODER_STRIDE, ENCODER_STRIDE
        x = x.reshape(-1, cells, cells, 3, r, r).permute(0, 3, 1, 4, 2, 5)
        return x.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE)


# ---------------------------------------------------------------------------------------------------------------
# Masks


def cell_mask_to_tokens(cells):
    """[B, 6, 6] mask of 32-px cells → [B, 48, 48] token mask (what the graph takes), as MaskGenerator repeats it."""
    scale = MASK_CELL // PATCH
    return cells.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)


def random_cell_mask(batch, generator, ratio=0.6):
    """MaskGenerator's masks: ceil(36·ratio) of the 6×6 cells hidden, chosen uniformly; returns [B, 48, 48]."""
    count = (IMAGE_SIZE // MASK_CELL) ** 2
    hidden = math.ceil(count * ratio)
    cells = torch.zeros(batch, count)
    for b in range(batch):
        cells[b, torch.randperm(count, generator=generator)[:hidden]] = 1.0
    side = IMAGE_SIZE // MASK_CELL
    return cell_mask_to_tokens(cells.reshape(batch, side, side))


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints: the official file (torch.save of a dict with 'model'), a bare state_dict, or Hugging Face's layout


class _Unresolved(dict):
    """Stands in for every pickled class or function outside the tensor machinery (the official file's 'config'
    is a yacs CfgNode, optimizer and scheduler states may hold others): accepts any arguments and state and runs
    no code, so the weights load without those packages and a checkpoint cannot execute anything."""

    def __init__(self, *args, **kwargs):  # noqa: D107 - arguments of the stood-in class are ignored
        super().__init__()

    def __setstate__(self, state):
        self.__dict__['_pickled_state'] = state

    def append(self, item):
        self.setdefault('_items', []).append(item)

    def extend(self, items):
        self.setdefault('_items', []).extend(items)


class _PlaceholderUnpickler(common.TorchZipUnpickler):
    """Turns every class outside the tensor machinery into an _Unresolved placeholder (named in `unresolved`)."""

    def __init__(self, file, archive, prefix, unresolved):
        super().__init__(file, archive, prefix)
        self.unresolved = unresolved

    def other_class(self, module, name):
        self.unresolved.add(f'{module}.{name}')
        return type(name, (_Unresolved,), {'__module__': module})


_SAFETENSORS_DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64,
                       'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8, 'BOOL': torch.bool}


def read_safetensors(path):
    """A .safetensors file (8-byte little-endian header size, JSON header, raw little-endian data) → {name: tensor}."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        (size,) = struct.unpack('<Q', data[:8])
        header = json.loads(data[8:8 + size])
    except (struct.error, ValueError) as error:
        raise common.ExportError(f'{path}: not a safetensors file ({error})') from error
    body = memoryview(data)[8 + size:]
    state = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        dtype = _SAFETENSORS_DTYPES.get(entry['dtype'])
        if dtype is None:
            raise common.ExportError(f'{path}: tensor {name} has unsupported dtype {entry["dtype"]}')
        start, end = entry['data_offsets']
        raw = bytearray(body[start:end])
        tensor = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        state[name] = tensor.reshape(entry['shape'])
    return state


def read_checkpoint(path):
    """The object in `path` and the names of the classes read as placeholders. Zip-format torch.save files (all
    since torch 1.6) and .safetensors are read without running pickled code; older files go through torch.load."""
    if not os.path.isfile(path):
        raise common.ExportError(f'checkpoint not found: {path}')
    if path.endswith('.safetensors'):
        return read_safetensors(path), set()
    unresolved = set()
    try:
        if zipfile.is_zipfile(path):
            return common.read_torch_zip(
                path, lambda f, archive, prefix: _PlaceholderUnpickler(f, archive, prefix, unresolved)), unresolved
        return torch.load(path, map_location='cpu'), unresolved
    except common.ExportError:
        raise
    except Exception as error:  # zip/pickle errors, a missing module in a legacy file: say which file and why
        raise common.ExportError(f'cannot read checkpoint {path}: {error}') from error


HF_PREFIX = 'swin.'
# Hugging Face SwinForMaskedImageModeling names → official names (transformers' convert_swin_simmim_to_pytorch.py
# renames the other way; query/key/value are split from qkv there and joined here).
_HF_RENAMES = (
    ('swin.embeddings.mask_token', 'encoder.mask_token'),
    ('swin.embeddings.patch_embeddings.projection.', 'encoder.patch_embed.proj.'),
    ('swin.embeddings.norm.', 'encoder.patch_embed.norm.'),
    ('swin.layernorm.', 'encoder.norm.'),
    ('swin.encoder.layers.', 'encoder.layers.'),
    ('.layernorm_before.', '.norm1.'),
    ('.layernorm_after.', '.norm2.'),
    ('.attention.output.dense.', '.attn.proj.'),
    ('.attention.self.', '.attn.'),
    ('.intermediate.dense.', '.mlp.fc1.'),
    ('.output.dense.', '.mlp.fc2.'),
)


def from_hf_layout(state):
    """microsoft/swin-base-simmim-window6-192's state_dict → the official layout. Architecture buffers the HF file
    lacks (attn_mask; relative_position_index in newer transformers) are left for load_checkpoint to fill."""
    out, qkv = {}, {}
    for name, tensor in state.items():
        if not (name.startswith(HF_PREFIX) or name.startswith('decoder.')):
            out[name] = tensor  # reported as unexpected by the strict check
            continue
        for old, new in _HF_RENAMES:
            name = name.replace(old, new)
        parts = name.rsplit('.', 2)  # …attn, query|key|value, weight|bias
        if len(parts) == 3 and parts[1] in ('query', 'key', 'value') and parts[0].endswith('.attn'):
            qkv.setdefault((parts[0], parts[2]), {})[parts[1]] = tensor
        else:
            out[name] = tensor
    for (prefix, leaf), pieces in qkv.items():
        if set(pieces) != {'query', 'key', 'value'}:
            raise common.ExportError(f'Hugging Face checkpoint: {prefix} has only {sorted(pieces)} of query/key/value '
                                     f'{leaf}')
        out[f'{prefix}.qkv.{leaf}'] = torch.cat([pieces['query'], pieces['key'], pieces['value']], dim=0)
    return out


ARCHITECTURE_BUFFERS = ('relative_position_index', 'attn_mask')


def pick_state(obj, path):
    """The SimMIM state_dict inside what torch.load returned, and the layout it was in ('official' or 'hf')."""
    if not isinstance(obj, dict):
        raise common.ExportError(f'{path} holds a {type(obj).__name__}, not a checkpoint dict')
    if isinstance(obj.get('model'), dict):  # the official training file: {'model', 'optimizer', …, 'config'}
        obj = obj['model']
    if 'encoder.mask_token' in obj:
        return obj, 'official'
    if 'swin.embeddings.mask_token' in obj:
        return from_hf_layout(obj), 'hf'
    shown = ', '.join(map(str, list(obj)[:20]))
    raise common.ExportError(f'{path} is neither the official SimMIM file (a dict with \'model\' holding '
                             f'encoder.mask_token, …) nor a bare SimMIM or Hugging Face SwinForMaskedImageModeling '
                             f'state_dict; its top-level keys: {shown}')


def load_checkpoint(model, model_id, path):
    """Loads the official pretrain file's 'model' (or a bare state_dict in the official or the Hugging Face layout)
    with strict=True. Architecture buffers: the official file holds relative_position_index and attn_mask; they
    load into the persistent buffers (so strict=True checks their presence and shapes) but the forward pass uses
    recomputed copies; the Hugging Face layout lacks them, so they are filled with the recomputed values."""
    obj, unresolved = read_checkpoint(path)
    if unresolved:
        common.warn(f'{path}: read as placeholders, not run: {", ".join(sorted(unresolved))} (only the weights '
                    'are used)')
    state, layout = pick_state(obj, path)
    fixed = common.buffer_copies(model, lambda k: k.endswith(ARCHITECTURE_BUFFERS))
    if layout == 'hf':
        state = dict(state)
        for key, value in fixed.items():
            state.setdefault(key, value)
    what = f'{model_id} (SimMIM Swin-B, {"Hugging Face layout" if layout == "hf" else "official layout"})'
    common.load_strict(model, state, what, path)
    common.warn_changed_buffers(model, fixed, path)


def official_layout(model_id):
    """[(name, shape, dtype)] of the official checkpoint's 'model' dict, from keys/<model id>.txt."""
    if model_id not in MODELS:
        raise KeyError(f'unknown SimMIM model {model_id!r}')
    return common.official_layout_file(f'{model_id}.txt')


def official_keys(model_id):
    return common.layout_keys(official_layout(model_id))


# ---------------------------------------------------------------------------------------------------------------
# Exporter interface (models/export/README.md)


def build(model_id, tiny):
    cfg = config(model_id, tiny)
    model = SimMIM(cfg['embed_dim'], cfg['depths'], cfg['num_heads'])
    if tiny:
        randomize(model)
    return model.eval()


def randomize(model):
    """Random weights from torch's global RNG (export.py seeds it), scaled so activations stay O(1) and every path
    (mask token, relative bias, shifted windows, merging, decoder) visibly shapes the output."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            if leaf == 'mask_token':
                p.copy_(torch.randn(p.shape))
            elif leaf == 'relative_position_bias_table':
                p.copy_(0.5 * torch.randn(p.shape))
            elif 'norm' in name.rsplit('.', 2)[-2]:  # LayerNorms: norm, norm1, norm2, patch_embed.norm
                common.random_norm_(p, leaf)
            elif leaf == 'weight':  # linear / conv: unit gain; residual branches damped
                gain = 0.5 if name.endswith(('attn.proj.weight', 'fc2.weight')) else 1.0
                common.random_matrix_(p, gain)
            else:  # biases
                common.random_bias_(p)


def prepare(model, model_id, tiny):
    """Nothing is computed at export time: everything the forward pass needs is in the checkpoint or fixed."""


# ONNX (onnxruntime-node, CPU) vs PyTorch, max abs difference of the normalised reconstruction. Both compute in
# float32 but sum matmuls, LayerNorms and softmax in different orders through 24 transformer blocks. 2e-3 in
# normalised units is < 0.12 of an 8-bit level after de-normalising (× std ≤ 0.229 × 255), invisible, while wiring
# errors (window order, shift direction, mask, merging order, pixel shuffle) move outputs by O(0.1–1).
TOLERANCE = 2e-3


def example_images(batch, generator):
    """Smooth random RGB images in [0, 1] (a coarse random field, bilinearly upsampled), ImageNet-normalised."""
    coarse = torch.rand(batch, 3, 12, 12, generator=generator)
    pixels = F.interpolate(coarse, size=(IMAGE_SIZE, IMAGE_SIZE), mode='bilinear', align_corners=False)
    pixels = (pixels + 0.05 * torch.randn(pixels.shape, generator=generator)).clamp(0, 1)
    mean = torch.tensor(common.IMAGENET_MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(common.IMAGENET_STD).reshape(1, 3, 1, 1)
    return (pixels - mean) / std


def export_spec(model, model_id, tiny):
    gen = torch.Generator().manual_seed(1234)
    images = example_images(2, gen)
    masks = random_cell_mask(2, gen)
    # Training-like masks at the traced batch size, then nothing hidden and everything hidden at batch 1.
    compare = [(images, masks), (images[:1], torch.zeros(1, TOKENS, TOKENS)),
               (images[1:], torch.ones(1, TOKENS, TOKENS))]
    return {
        'module': model,
        'inputs': (images, masks),
        'input_names': ['image', 'mask'],
        'output_names': ['reconstruction'],
        'dynamic_axes': {'image': {0: 'batch'}, 'mask': {0: 'batch'}, 'reconstruction': {0: 'batch'}},
        'tolerance': TOLERANCE,
        'compare_inputs': compare,
    }


def card(model_id, tiny):
    entry = MODELS[model_id]
    cfg = config(model_id, tiny)
    size = IMAGE_SIZE
    if tiny:
        label = f'SimMIM tiny {size}px (random weights, test model)'
        description = (f'Random-weight test model: the SimMIM Swin encoder + linear decoder architecture of '
                       f'{model_id} at tiny width (embed {cfg["embed_dim"]}, depths {list(cfg["depths"])}); '
                       f'same inputs and outputs, but fills masked cells with noise, not image content.')
        license_text = common.TINY_LICENSE
        checkpoint = common.TINY_CHECKPOINT
    else:
        label = entry['label']
        description = (f'Fills masked 32-px cells of a {size}×{size} tile from the visible ones: SimMIM masked image '
                       f'modeling (Swin-B encoder, window 6, one linear decoder), pretrained on '
                       f'{entry["pretraining"]}. A regression model: fills are blurry.')
        license_text = "MIT (code); weights: see the checkpoint's source"
        checkpoint = entry['checkpoint']
    return {
        **common.card_head(model_id, tiny, 'inpaint', label, description),
        'io': {
            'inputs': [
                {'name': 'image', 'dtype': 'float32', 'shape': ['batch', 3, size, size]},
                {'name': 'mask', 'dtype': 'float32', 'shape': ['batch', TOKENS, TOKENS]},
            ],
            'outputs': [{'name': 'reconstruction', 'dtype': 'float32', 'shape': ['batch', 3, size, size]}],
            'image': common.imagenet_image(),
            'scale': 1,
            # Tiles of 192 px stepping 128 px: every masked cell keeps ≥ 32 px of visible context around it in some
            # tile, and neighbouring fills blend over 64 px.
            'tile': {'size': size, 'overlap': 64},
            'mask': {'name': 'mask', 'grid': MASK_CELL, 'tokens': TOKENS, 'patch': PATCH},
        },
        'license': license_text,
        'source': {'paper': PAPER, 'checkpoint': checkpoint, 'converter': 'models/export/simmim.py'},
        'targets': ['webgpu', 'wasm', 'node', 'server'],
        'notes': (f'image: a {size}×{size} RGB tile, pixels in [0, 1] then (pixel − mean)/std. mask: float32 '
                  f'[batch, {TOKENS}, {TOKENS}], one value per {PATCH}×{PATCH}-px patch (token (r, c) covers pixels '
                  f'rows {PATCH}r…{PATCH}r+{PATCH - 1}, columns {PATCH}c…{PATCH}c+{PATCH - 1}); 1 = hidden (the '
                  f'patch is replaced by the learned mask token: its pixels are never seen), 0 = visible. The model '
                  f'was trained on masks of {MASK_CELL}-px cells aligned to the tile ({size // MASK_CELL}×'
                  f'{size // MASK_CELL} cells, each an {MASK_CELL // PATCH}×{MASK_CELL // PATCH} block of tokens), '
                  f'about 60% hidden: round the user\'s mask up to whole cells. reconstruction: same space as image; '
                  f'pixels = clamp(reconstruction·std + mean, 0, 1); paste it inside the mask only (outside, it is '
                  f'a blurry re-encoding, not the input).'),
    }
