"""VQ-Diffusion ITHQ (Gu et al., "Vector Quantized Diffusion Model for Text-to-Image Synthesis", CVPR 2022; Tang et
al., "Improved Vector Quantized Diffusion Models"), re-implemented for ONNX export as three graphs:

  vqdiffusion-ithq-text         CLIP ViT-B/32 text encoder: tokens int64 [B, 77] → text [B, 77, 512], each token's
                                feature L2-normalised (condition_emb with normalize=True, pick_last_embedding=False);
  vqdiffusion-ithq-transformer  ONE denoising step: tokens int64 [B, 1024] (codes 0..4095, mask 4096), timestep int64
                                [B] (0..99), text [B, 77, 512] → log_probs [B, 4096, 1024] = log p(x0 | x_t) over the
                                4096 codes (log-softmax over dim 1, the official [batch, class, position] layout);
  vqdiffusion-ithq-decoder      VQ-VAE decoder: tokens int64 [B, 1024] → image [B, 3, 256, 256], clamped to [-1, 1].

Facts come from microsoft/VQ-Diffusion (MIT) at commit d1d3948 (d1d39487eaab): configs/ithq.yaml,
image_synthesis/modeling/transformers/{diffusion_transformer,transformer_utils}.py,
modeling/embeddings/{clip_text_embedding,dalle_mask_image_embedding}.py, modeling/modules/clip/model.py,
modeling/codecs/image_codec/{ema_vqvae,patch_vqgan}.py, OUTPUT/pretrained_model/taming_dvae/config.yaml and
modeling/models/dalle.py (guidance). Note the ITHQ codebook has 4096 codes, so the content embedding has 4097 rows
(the last is the mask token) and the transformer predicts 4096 classes (diffusers: num_vector_embeds=4097).

Checkpoint layout: the OFFICIAL one, not diffusers'. The official training file ithq_learnable.pth holds
{'model': DALLE.state_dict(), 'ema': DiffusionTransformer.state_dict() (optional)}, everything the three graphs need:
  text encoder  ← 'ema' condition_emb.*  (or 'model' transformer.condition_emb.*)
  transformer   ← 'ema' without condition_emb.*  (or 'model' transformer.*), incl. empty_text_embed (the learned
                  null text embedding for classifier-free guidance) and the schedule buffers
  decoder       ← 'model' content_codec.dec.*  (or ithq_vqvae.pth 'model' decoder.* / post_quant_conv.* / quantize.*)
'ema' wins where present, as in the official inference script. The layouts (keys/vqdiffusion-ithq-*.txt) were
listed from the official classes themselves, so they are exact, while diffusers' saved files depend on the
transformers/diffusers versions that wrote them (position_ids buffer, attention parameter names).

Our modules mirror the official module and tensor names in registration order, so the selected sub-dicts load with
strict=True and list in the same order. The forward passes are our own, written for export: static reshapes with
Python ints, the log-softmax spelled out with ReduceMax/Exp/ReduceSum/Log (all WebGPU kernels), the causal mask as a
finite −1e4 (exp underflows to exactly 0 in float32, as −inf does), everything in float32 (the official CLIP text
encoder runs in float16 on GPU: its Linear weights are stored as float16 and load here exactly). Buffers that follow
from the architecture (schedule, cross-attention mask) are kept for the key layout but not used by the graphs.

Files next to the ONNX (finish(), a hook proposed for export.py): the text encoder ships CLIP's BPE vocabulary
(bpe_simple_vocab_16e6.txt.gz, MIT, sha256-pinned); the transformer ships the learned null text embedding as raw
float32 little-endian [77, 512]; a graph above the external-data threshold keeps its weights in one
content-addressed `.onnx.data` file.
"""

import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

import common

PAPER = 'Vector Quantized Diffusion Model for Text-to-Image Synthesis (CVPR 2022)'
CONVERTER = 'models/export/vqdiffusion.py'
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# CLIP's BPE merges (openai/CLIP clip/bpe_simple_vocab_16e6.txt.gz, MIT; byte-identical copy in VQ-Diffusion).
BPE_FILE = 'bpe_simple_vocab_16e6.txt.gz'
BPE_SHA256 = '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a'
BPE_ENV = 'CLIP_BPE_VOCAB'
BPE_TEST_COPY = os.path.join(REPO_ROOT, 'models', 'tiny', 'clip-bpe-simple-vocab-16e6.924691ac288e5440.txt.gz')

# Above this many bytes the ONNX weights go to one external data file (protobuf cannot hold 2 GiB; torch then
# writes one file per tensor, which finish() gathers). Tests lower it through the environment variable.
EXTERNAL_DATA_ENV = 'ONNX_EXTERNAL_DATA_THRESHOLD'
EXTERNAL_DATA_THRESHOLD = 2 ** 31 - 1
EXTERNAL_MIN_TENSOR = 1024  # smaller tensors stay inside the graph (onnx's own default)
EXTERNAL_ALIGN = 4096  # page-aligned offsets let onnxruntime memory-map the weights

CLIP_START, CLIP_END, CLIP_PAD = 49406, 49407, 0  # VQ-Diffusion pads with 0 ('!'), not with the end token
TOKENIZER = {'type': 'clip-bpe', 'vocabularyKind': 'clip-bpe-vocabulary', 'contextLength': 77,
             'startToken': CLIP_START, 'endToken': CLIP_END, 'padToken': CLIP_PAD,
             'truncate': 'keep the first 76 tokens, then the end token'}

# ---------------------------------------------------------------------------------------------------------------
# Configurations

FULL = {
    # CLIP ViT-B/32 text transformer (configs/ithq.yaml condition_emb: clip_name ViT-B/32, embed_dim 512).
    'text': {'vocab': 49408, 'context': 77, 'width': 512, 'layers': 12, 'heads': 8, 'projection': 512},
    # Text2ImageTransformer (n_layer 36, n_embd 1408, n_head 16, condition_dim 512, 32×32 content, 100 steps,
    # content_emb num_embed 4096 → 4097 embeddings with the mask).
    'transformer': {'layers': 36, 'dim': 1408, 'heads': 16, 'text_dim': 512, 'text_len': 77, 'latent': 32,
                    'codes': 4096, 'steps': 100, 'mlp_ratio': 4},
    # PatchVQGAN decoder (taming_dvae/config.yaml: ch 64, ch_mult 1,2,4,8, 2 res blocks, attention at 32×32,
    # z_channels 256, embed_dim 128, n_embed 4096, 256 px).
    'decoder': {'ch': 64, 'ch_mult': (1, 2, 4, 8), 'res_blocks': 2, 'z_channels': 256, 'embed_dim': 128,
                'codes': 4096, 'latent': 32},
}

# Tiny: the same architectures at test width. The text encoder keeps CLIP's 49408 token ids and 77 positions (the
# tokenizer stays CLIP's), so its width is what keeps the file small: 49408 × 12 floats ≈ 2.4 MB.
TINY = {
    'text': {'vocab': 49408, 'context': 77, 'width': 12, 'layers': 2, 'heads': 2, 'projection': 12},
    'transformer': {'layers': 2, 'dim': 32, 'heads': 2, 'text_dim': 12, 'text_len': 77, 'latent': 8,
                    'codes': 64, 'steps': 100, 'mlp_ratio': 4},
    'decoder': {'ch': 32, 'ch_mult': (1, 1, 1, 2), 'res_blocks': 1, 'z_channels': 32, 'embed_dim': 16,
                'codes': 64, 'latent': 8},
}

# The official alpha1 schedule (diffusion_transformer.alpha_schedule defaults).
SCHEDULE = {'att1': 0.99999, 'attT': 0.000009, 'ctt1': 0.000009, 'cttT': 0.99999}
GUIDANCE_SCALE = 5.0  # ITHQ with the learned null embedding (inference_VQ_Diffusion.py)

_LICENSE = ('MIT (microsoft/VQ-Diffusion code and ITHQ weights; the CLIP ViT-B/32 text weights inside come from '
            'openai/CLIP, MIT)')

MODELS = {
    'vqdiffusion-ithq-text': {'role': 'text-encoder', 'checkpoint': 'ithq_learnable.pth', 'license': _LICENSE},
    'vqdiffusion-ithq-transformer': {'role': 'transformer', 'checkpoint': 'ithq_learnable.pth', 'license': _LICENSE},
    'vqdiffusion-ithq-decoder': {'role': 'decoder', 'checkpoint': 'ithq_learnable.pth or ithq_vqvae.pth',
                                 'license': _LICENSE},
}
ROLES = {'text-encoder': 'text', 'transformer': 'transformer', 'decoder': 'decoder'}
PIPELINE = 'vqdiffusion-ithq'


def part(model_id):
    if model_id not in MODELS:
        raise KeyError(f'unknown VQ-Diffusion model {model_id!r}; known: {", ".join(MODELS)}')
    return ROLES[MODELS[model_id]['role']]


def config(model_id, tiny):
    return (TINY if tiny else FULL)[part(model_id)]


# ---------------------------------------------------------------------------------------------------------------
# Layers with uninitialised storage: full-size weights always come from a checkpoint (1.36 B parameters would take
# long to initialise for nothing); tiny ones from randomize().


class Linear(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_dim, in_dim))
        self.bias = nn.Parameter(torch.empty(out_dim))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Embedding(nn.Module):
    def __init__(self, count, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(count, dim))

    def forward(self, index):
        return F.embedding(index, self.weight)


class Conv2d(nn.Module):
    def __init__(self, in_ch, out_ch, kernel):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.empty(out_ch))
        self.padding = kernel // 2

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)


def log_softmax(x, dim):
    """log_softmax spelled out (ReduceMax, Sub, Exp, ReduceSum, Log): every op has a WebGPU kernel."""
    shifted = x - x.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def attend(q, k, v, heads, lq, lk, channels, mask=None):
    """Multi-head scaled dot-product attention. q: [B, lq, channels], k, v: [B, lk, channels] → [B, lq, channels].
    Sizes are Python ints (not read from tensors), so the traced graph has static reshapes and no Shape ops."""
    head_dim = channels // heads
    q = q.reshape(-1, lq, heads, head_dim).transpose(1, 2)
    k = k.reshape(-1, lk, heads, head_dim).transpose(1, 2)
    v = v.reshape(-1, lk, heads, head_dim).transpose(1, 2)
    att = (q * head_dim ** -0.5) @ k.transpose(-2, -1)
    if mask is not None:
        att = att + mask
    out = torch.softmax(att, dim=-1) @ v
    return out.transpose(1, 2).reshape(-1, lq, channels)


# ---------------------------------------------------------------------------------------------------------------
# CLIP text encoder (official CLIPTextEmbedding: clip/model.py Transformer with causal mask, QuickGELU, pre-LN)


class ClipAttention(nn.Module):
    """nn.MultiheadAttention's tensors (packed in_proj_weight/in_proj_bias, out_proj)."""

    def __init__(self, width, heads, context):
        super().__init__()
        self.heads, self.width, self.context = heads, width, context
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj = Linear(width, width)

    def forward(self, x, mask):
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        w = self.width
        q, k, v = qkv[:, :, :w], qkv[:, :, w:2 * w], qkv[:, :, 2 * w:]
        return self.out_proj(attend(q, k, v, self.heads, self.context, self.context, self.width, mask))


class ClipMlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.c_fc = Linear(width, 4 * width)
        self.c_proj = Linear(4 * width, width)

    def forward(self, x):
        h = self.c_fc(x)
        return self.c_proj(h * torch.sigmoid(1.702 * h))  # QuickGELU


class ClipBlock(nn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.attn = ClipAttention(width, heads, context)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = ClipMlp(width)
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class ClipTransformer(nn.Module):
    def __init__(self, width, layers, heads, context):
        super().__init__()
        self.resblocks = nn.Sequential(*[ClipBlock(width, heads, context) for _ in range(layers)])


class TextEncoder(nn.Module):
    """tokens [B, 77] → per-token features after ln_final, each L2-normalised: [B, 77, width]."""

    def __init__(self, vocab, context, width, layers, heads, projection):
        super().__init__()
        # Registration order = the official state_dict order (own parameters first, then submodules).
        self.positional_embedding = nn.Parameter(torch.empty(context, width))
        self.text_projection = nn.Parameter(torch.empty(width, projection))  # unused per token; kept for the keys
        self.token_embedding = Embedding(vocab, width)
        self.transformer = ClipTransformer(width, layers, heads, context)
        self.ln_final = nn.LayerNorm(width)
        causal = torch.full((context, context), -1e4).triu(1)  # 0 on and below the diagonal
        self.register_buffer('causal_mask', causal, persistent=False)

    def forward(self, tokens):
        x = self.token_embedding(tokens) + self.positional_embedding
        for block in self.transformer.resblocks:
            x = block(x, self.causal_mask)
        x = self.ln_final(x)
        return x / torch.sqrt((x * x).sum(dim=-1, keepdim=True))


# ---------------------------------------------------------------------------------------------------------------
# Denoising transformer (DiffusionTransformer minus condition_emb; Text2ImageTransformer, selfcross blocks)


def alpha_schedule(steps, classes, att_1=SCHEDULE['att1'], att_T=SCHEDULE['attT'], ctt_1=SCHEDULE['ctt1'],
                   ctt_T=SCHEDULE['cttT']):
    """The official alpha1 schedule: per-step a_t, b_t, c_t and the cumulative products (float64)."""
    att = np.arange(0, steps) / (steps - 1) * (att_T - att_1) + att_1
    att = np.concatenate(([1], att))
    at = att[1:] / att[:-1]
    ctt = np.arange(0, steps) / (steps - 1) * (ctt_T - ctt_1) + ctt_1
    ctt = np.concatenate(([0], ctt))
    one_minus_ct = (1 - ctt[1:]) / (1 - ctt[:-1])
    ct = 1 - one_minus_ct
    bt = (1 - at - ct) / classes
    att = np.concatenate((att[1:], [1]))
    ctt = np.concatenate((ctt[1:], [0]))
    btt = (1 - att - ctt) / classes
    return at, bt, ct, att, btt, ctt


def schedule_buffers(steps, classes):
    """The official log-space schedule buffers (float32), in registration order."""
    at, bt, ct, att, btt, ctt = (torch.tensor(a.astype('float64')) for a in alpha_schedule(steps, classes))
    log_ct, log_cumprod_ct = torch.log(ct), torch.log(ctt)  # the last cumulative c is 0: log = −inf, as officially
    return {
        'log_at': torch.log(at), 'log_bt': torch.log(bt), 'log_ct': log_ct,
        'log_cumprod_at': torch.log(att), 'log_cumprod_bt': torch.log(btt), 'log_cumprod_ct': log_cumprod_ct,
        'log_1_min_ct': torch.log(1 - log_ct.exp() + 1e-40),
        'log_1_min_cumprod_ct': torch.log(1 - log_cumprod_ct.exp() + 1e-40),
    }


class ContentEmbedding(nn.Module):
    """DalleMaskImageEmbedding: code embedding (codes + mask) plus a row and a column position embedding."""

    def __init__(self, embeddings, latent, dim):
        super().__init__()
        self.latent = latent
        self.emb = Embedding(embeddings, dim)
        self.height_emb = Embedding(latent, dim)
        self.width_emb = Embedding(latent, dim)

    def forward(self, tokens):
        pos = (self.height_emb.weight[:, None, :] + self.width_emb.weight[None, :, :]).reshape(
            self.latent * self.latent, -1)  # row-major (h, w), as the official view(1, H·W, D)
        return self.emb(tokens) + pos


class AdaLayerNorm(nn.Module):
    """LayerNorm without affine, scaled and shifted per sample from a learned timestep embedding."""

    def __init__(self, dim, steps):
        super().__init__()
        self.dim = dim
        self.emb = Embedding(steps, dim)
        self.linear = Linear(dim, 2 * dim)
        # Explicit unit scale and zero shift for the affine-free LayerNorm: torch 1.13 exports LayerNormalization
        # without a scale as an invalid graph, and onnxruntime(-node) 1.30 crashes (SIGSEGV while optimising the
        # session at level 'extended' or above) on a LayerNormalization without the optional bias.
        self.register_buffer('unit', torch.ones(dim), persistent=False)
        self.register_buffer('zero', torch.zeros(dim), persistent=False)

    def forward(self, x, timestep):
        emb = self.linear(F.silu(self.emb(timestep))).unsqueeze(1)  # B, 1, 2D
        scale, shift = emb[:, :, :self.dim], emb[:, :, self.dim:]
        return F.layer_norm(x, (self.dim,), self.unit, self.zero) * (1 + scale) + shift


class SelfAttention(nn.Module):
    """FullAttention: separate key/query/value projections (registered in that order), no mask."""

    def __init__(self, dim, heads, tokens):
        super().__init__()
        self.heads, self.dim, self.tokens = heads, dim, tokens
        self.key = Linear(dim, dim)
        self.query = Linear(dim, dim)
        self.value = Linear(dim, dim)
        self.proj = Linear(dim, dim)

    def forward(self, x):
        return self.proj(attend(self.query(x), self.key(x), self.value(x), self.heads, self.tokens, self.tokens,
                                self.dim))


class CrossAttention(nn.Module):
    """Image tokens attend to all 77 text tokens (padding included, as officially: no key mask). The `mask` buffer
    is the official causal mask the forward pass never reads; kept only for the key layout."""

    def __init__(self, dim, text_dim, heads, tokens, text_len):
        super().__init__()
        self.heads, self.dim, self.tokens, self.text_len = heads, dim, tokens, text_len
        self.register_buffer('mask', torch.tril(torch.ones(tokens, tokens)).view(1, 1, tokens, tokens))
        self.key = Linear(text_dim, dim)
        self.query = Linear(dim, dim)
        self.value = Linear(text_dim, dim)
        self.proj = Linear(dim, dim)

    def forward(self, x, text):
        return self.proj(attend(self.query(x), self.key(text), self.value(text), self.heads, self.tokens,
                                self.text_len, self.dim))


class GELU2(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, dim, text_dim, text_len, heads, tokens, steps, mlp_ratio):
        super().__init__()
        self.ln1 = AdaLayerNorm(dim, steps)
        self.ln2 = nn.LayerNorm(dim)
        self.attn1 = SelfAttention(dim, heads, tokens)
        self.attn2 = CrossAttention(dim, text_dim, heads, tokens, text_len)
        self.ln1_1 = AdaLayerNorm(dim, steps)
        self.mlp = nn.Sequential(Linear(dim, mlp_ratio * dim), GELU2(), Linear(mlp_ratio * dim, dim))

    def forward(self, x, text, timestep):
        x = x + self.attn1(self.ln1(x, timestep))
        x = x + self.attn2(self.ln1_1(x, timestep), text)
        return x + self.mlp(self.ln2(x))


class Text2ImageTransformer(nn.Module):
    def __init__(self, layers, dim, heads, text_dim, text_len, latent, codes, steps, mlp_ratio):
        super().__init__()
        tokens = latent * latent
        self.content_emb = ContentEmbedding(codes + 1, latent, dim)
        self.blocks = nn.Sequential(
            *[Block(dim, text_dim, text_len, heads, tokens, steps, mlp_ratio) for _ in range(layers)])
        self.to_logits = nn.Sequential(nn.LayerNorm(dim), Linear(dim, codes))


class DenoisingStep(nn.Module):
    """One step: tokens [B, L] (mask = codes), timestep [B], text [B, 77, text_dim] → log p(x0) [B, codes, L]."""

    def __init__(self, layers, dim, heads, text_dim, text_len, latent, codes, steps, mlp_ratio):
        super().__init__()
        self.codes = codes
        self.steps = steps
        self.text_len = text_len
        # The learned null text embedding (official: float64 parameter; stored float32 here, which is what the
        # guided branch feeds the float32 transformer anyway).
        self.empty_text_embed = nn.Parameter(torch.empty(text_len, text_dim))
        for name, value in schedule_buffers(steps, codes).items():
            self.register_buffer(name, value.float())
        self.register_buffer('Lt_history', torch.zeros(steps))  # training statistics, unused at inference
        self.register_buffer('Lt_count', torch.zeros(steps))
        self.transformer = Text2ImageTransformer(layers, dim, heads, text_dim, text_len, latent, codes, steps,
                                                 mlp_ratio)

    def forward(self, tokens, timestep, text):
        t = self.transformer
        x = t.content_emb(tokens)
        for block in t.blocks:
            x = block(x, text, timestep)
        logits = t.to_logits[1](t.to_logits[0](x))  # B, L, codes
        return log_softmax(logits, dim=-1).transpose(1, 2)


# ---------------------------------------------------------------------------------------------------------------
# VQ-VAE decoder (patch_vqgan.Decoder + post_quant_conv + EMAVectorQuantizer codebook, as PatchVQVAE's `dec`)


def group_norm(channels):
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.norm1 = group_norm(in_ch)
        self.conv1 = Conv2d(in_ch, out_ch, 3)
        self.norm2 = group_norm(out_ch)
        self.conv2 = Conv2d(out_ch, out_ch, 3)
        self.nin_shortcut = Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.nin_shortcut is None else self.nin_shortcut(x)) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over all positions, 1×1 convolutions as projections."""

    def __init__(self, channels, size):
        super().__init__()
        self.channels, self.size = channels, size
        self.norm = group_norm(channels)
        self.q = Conv2d(channels, channels, 1)
        self.k = Conv2d(channels, channels, 1)
        self.v = Conv2d(channels, channels, 1)
        self.proj_out = Conv2d(channels, channels, 1)

    def forward(self, x):
        size, c = self.size, self.channels
        h = self.norm(x)
        q = self.q(h).reshape(-1, c, size * size).transpose(1, 2)  # B, HW, C
        k = self.k(h).reshape(-1, c, size * size)  # B, C, HW
        v = self.v(h).reshape(-1, c, size * size)
        w = torch.softmax((q @ k) * c ** -0.5, dim=2)  # B, HW(q), HW(k)
        h = (v @ w.transpose(1, 2)).reshape(-1, c, size, size)
        return x + self.proj_out(h)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = Conv2d(channels, channels, 3)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Decoder(nn.Module):
    def __init__(self, ch, ch_mult, res_blocks, z_channels, latent):
        super().__init__()
        levels = len(ch_mult)
        block_in = ch * ch_mult[-1]
        self.conv_in = Conv2d(z_channels, block_in, 3)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in)
        self.mid.attn_1 = AttnBlock(block_in, latent)
        self.mid.block_2 = ResnetBlock(block_in, block_in)
        # Built from the lowest resolution up, stored highest first (up.0 = full size), as officially.
        ups = []
        for level in reversed(range(levels)):
            up = nn.Module()
            up.block = nn.ModuleList()
            up.attn = nn.ModuleList()
            block_out = ch * ch_mult[level]
            for _ in range(res_blocks + 1):
                up.block.append(ResnetBlock(block_in, block_out))
                block_in = block_out
                if level == levels - 1:  # attention at the latent resolution only (attn_resolutions [[32, 32]])
                    up.attn.append(AttnBlock(block_in, latent))
            if level != 0:
                up.upsample = Upsample(block_in)
            ups.insert(0, up)
        self.up = nn.ModuleList(ups)
        self.norm_out = group_norm(block_in)
        self.conv_out = Conv2d(block_in, 3, 3)

    def forward(self, z):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for up in reversed(self.up):
            for i, block in enumerate(up.block):
                h = block(h)
                if len(up.attn) > 0:
                    h = up.attn[i](h)
            if hasattr(up, 'upsample'):
                h = up.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Codebook(nn.Module):
    """EMAVectorQuantizer's buffers; decoding only reads `embedding`."""

    def __init__(self, codes, dim):
        super().__init__()
        self.register_buffer('embedding', torch.empty(codes, dim))
        self.register_buffer('cluster_size', torch.zeros(codes))
        self.register_buffer('embedding_avg', torch.empty(codes, dim))


class VQDecoder(nn.Module):
    """tokens [B, latent²] → image [B, 3, 8·latent, 8·latent] in [−1, 1]."""

    def __init__(self, ch, ch_mult, res_blocks, z_channels, embed_dim, codes, latent):
        super().__init__()
        self.latent, self.codes, self.embed_dim = latent, codes, embed_dim
        self.decoder = Decoder(ch, ch_mult, res_blocks, z_channels, latent)
        self.post_quant_conv = Conv2d(embed_dim, z_channels, 1)
        self.quantize = Codebook(codes, embed_dim)

    def forward(self, tokens):
        # A mask id (codes) or a stray index would make Gather fail: clamp into the codebook (a no-op for the
        # fully denoised tokens the sampler hands over; previews should substitute the x0 prediction first).
        z = F.embedding(tokens.clamp(0, self.codes - 1), self.quantize.embedding)  # B, HW, C
        z = z.transpose(1, 2).reshape(-1, self.embed_dim, self.latent, self.latent)
        image = self.decoder(self.post_quant_conv(z))
        return image.clamp(-1.0, 1.0)


# ---------------------------------------------------------------------------------------------------------------
# Exporter interface (models/export/README.md)


def build(model_id, tiny):
    cfg = config(model_id, tiny)
    which = part(model_id)
    if which == 'text':
        model = TextEncoder(**cfg)
    elif which == 'transformer':
        model = DenoisingStep(**cfg)
    else:
        model = VQDecoder(**cfg)
    if tiny:
        randomize(model)
    return model.eval()


def randomize(model):
    """Random weights from torch's global RNG (export.py seeds it), scaled so activations stay O(1) and every path
    (positions, timestep modulation, cross-attention, shortcuts, codebook) visibly shapes the output."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            if isinstance(_owner(model, name), (nn.LayerNorm, nn.GroupNorm)):
                common.random_norm_(p, leaf)
            elif name == 'empty_text_embed':
                p.copy_(F.normalize(torch.randn(p.shape), dim=-1))
            elif name.endswith(('emb.weight', 'embedding.weight', 'positional_embedding')):
                p.copy_(torch.randn(p.shape) * (0.1 if 'position' in name or 'height' in name or 'width' in name
                                                else 1.0))
            elif leaf == 'bias' or name.endswith('in_proj_bias'):
                common.random_bias_(p)
            else:  # matrices and kernels: unit gain; residual branches damped; AdaLN modulation small
                gain = 1.0
                if name.endswith(('proj.weight', 'mlp.2.weight', 'c_proj.weight', 'proj_out.weight',
                                  'conv2.weight')):
                    gain = 0.5
                elif '.linear.' in name:
                    gain = 0.2
                elif name.endswith('to_logits.1.weight'):
                    gain = 3.0
                common.random_matrix_(p, gain)
        for name, b in model.named_buffers():
            if name.endswith(('quantize.embedding', 'quantize.embedding_avg')):
                b.copy_(torch.randn(b.shape))


def _owner(model, name):
    module = model
    for attr in name.split('.')[:-1]:
        module = getattr(module, attr)
    return module


# Where each part lives in the official files: ('ema' prefix, 'model' prefix); the decoder also reads the separate
# VQ-VAE file (ithq_vqvae.pth 'model' = PatchVQGAN, whose decoder.*, post_quant_conv.*, quantize.* are ours as is).
_SOURCES = {
    'text': (('ema', 'condition_emb.'), ('model', 'transformer.condition_emb.')),
    'transformer': (('ema', ''), ('model', 'transformer.')),
    'decoder': (('model', 'content_codec.dec.'), ('model', '')),
}
_MARKERS = {'text': 'token_embedding.weight', 'transformer': 'transformer.to_logits.1.weight',
            'decoder': 'post_quant_conv.weight'}


def select_state(obj, model_id, path):
    """The sub-dict of an official file that holds this part, prefixes stripped; raises naming what the file holds."""
    which = part(model_id)
    if not isinstance(obj, dict):
        raise common.ExportError(f'{path} holds a {type(obj).__name__}, not a checkpoint dict')
    dicts = {k: v for k, v in obj.items() if k in ('model', 'ema') and isinstance(v, dict)}
    if not dicts:
        dicts = {'model': obj, 'ema': obj}  # a bare state_dict: try the prefixes on it directly
    marker = _MARKERS[which]
    for key, prefix in _SOURCES[which]:
        state = dicts.get(key)
        if state is None or prefix + marker not in state:
            continue
        picked = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if which == 'transformer':  # the DiffusionTransformer minus its text encoder
            picked = {k: v for k, v in picked.items() if not k.startswith('condition_emb.')}
        if which == 'decoder' and prefix == '':  # ithq_vqvae.pth: the decoder half of PatchVQGAN
            picked = {k: v for k, v in picked.items() if k.startswith(('decoder.', 'post_quant_conv.', 'quantize.'))}
        return picked, f"'{key}'" + (f' {prefix}*' if prefix else '')
    top = ', '.join(f'{k} ({len(v)} tensors)' if isinstance(v, dict) else str(k) for k, v in list(obj.items())[:12])
    looked = ' or '.join(f"'{k}' {p}{marker}" for k, p in _SOURCES[which])
    raise common.ExportError(f'{path} holds no VQ-Diffusion {which} weights (looked for {looked}); '
                             f'its top-level entries: {top}')


def load_checkpoint(model, model_id, path):
    """Loads this part from the official file (see _SOURCES) with strict=True."""
    state, where = select_state(common.read_checkpoint(path), model_id, path)
    fixed = common.buffer_copies(model, lambda k: k.startswith('log_') or k.endswith('attn2.mask'))
    common.load_strict(model, state, f'{model_id} ({where})', path)
    common.warn_changed_buffers(model, fixed, path, kind='schedule/mask buffers',
                                effect='the graph does not use them, but is this the ITHQ model?',
                                same=lambda a, b: torch.allclose(a, b, atol=1e-4, equal_nan=True))


def official_layout(model_id):
    """[(name, shape, dtype)] of this part in the official checkpoint, prefixes stripped."""
    part(model_id)
    return common.official_layout_file(f'{model_id}.txt')


def official_keys(model_id):
    return common.layout_keys(official_layout(model_id))


def prepare(model, model_id, tiny):
    """Nothing to compute: the schedule and the null embedding come with the weights."""


# ONNX (onnxruntime-node, CPU) vs PyTorch, max abs difference; both float32, different summation orders.
#  text: unit-norm features in [−1, 1]; 1e-4 is far below the float16 rounding (≈5e-4 relative) of the official
#        GPU encoder, while wiring errors (mask, head split, positions) move features by O(0.1).
#  transformer: log-probabilities (−log 4096 ≈ −8.3 on average); 2e-3 is a 0.2 % probability ratio, far below what
#        truncation and Gumbel sampling resolve, while wiring errors move log-probs by O(1).
#  decoder: pixels in [−1, 1]; 2e-3 is 0.26 of an 8-bit level after (x + 1)/2 · 255.
TOLERANCE = {'text': 1e-4, 'transformer': 2e-3, 'decoder': 2e-3}


def _random_text(gen, batch, cfg):
    return F.normalize(torch.randn(batch, cfg['text_len'], cfg['text_dim'], generator=gen), dim=-1)


def _clip_like_tokens(gen, lengths, context=77):
    """Token rows shaped like the tokenizer's: start, words, end, then 0-padding (length 77 = truncated)."""
    rows = torch.full((len(lengths), context), CLIP_PAD, dtype=torch.int64)
    for i, n in enumerate(lengths):
        rows[i, 0] = CLIP_START
        rows[i, 1:n - 1] = torch.randint(1, CLIP_START, (n - 2,), generator=gen)
        rows[i, n - 1] = CLIP_END
    return rows


def export_spec(model, model_id, tiny):
    which = part(model_id)
    cfg = config(model_id, tiny)
    gen = torch.Generator().manual_seed(1234)
    if which == 'text':
        tokens = _clip_like_tokens(gen, [7, 77])
        compare = [(tokens,), (_clip_like_tokens(gen, [20]),)]
        return {'module': model, 'inputs': (tokens,), 'input_names': ['tokens'], 'output_names': ['text'],
                'dynamic_axes': {'tokens': {0: 'batch'}, 'text': {0: 'batch'}},
                'tolerance': TOLERANCE[which], 'compare_inputs': compare}
    if which == 'transformer':
        length, codes = cfg['latent'] ** 2, cfg['codes']
        # The guided batch: [prompt, null embedding] at one timestep; a half-masked sequence; the first step
        # (everything masked) and the last (t = 0).
        tokens = torch.randint(0, codes, (2, length), generator=gen)
        tokens[:, torch.randperm(length, generator=gen)[:length // 2]] = codes
        text = torch.cat([_random_text(gen, 1, cfg), model.empty_text_embed.detach()[None]], dim=0)
        first = torch.full((1, length), codes, dtype=torch.int64)
        last = torch.randint(0, codes, (1, length), generator=gen)
        compare = [(tokens, torch.tensor([50, 50]), text),
                   (torch.cat([first, last]), torch.tensor([cfg['steps'] - 1, 0]), _random_text(gen, 2, cfg))]
        if tiny:
            compare.append((last, torch.tensor([7]), _random_text(gen, 1, cfg)))
        return {'module': model, 'inputs': compare[0], 'input_names': ['tokens', 'timestep', 'text'],
                'output_names': ['log_probs'],
                'dynamic_axes': {'tokens': {0: 'batch'}, 'timestep': {0: 'batch'}, 'text': {0: 'batch'},
                                 'log_probs': {0: 'batch'}},
                'tolerance': TOLERANCE[which], 'compare_inputs': compare}
    length, codes = cfg['latent'] ** 2, cfg['codes']
    tokens = torch.randint(0, codes, (2, length), generator=gen)
    compare = [(tokens,), (torch.randint(0, codes, (1, length), generator=gen),)]
    return {'module': model, 'inputs': (tokens,), 'input_names': ['tokens'], 'output_names': ['image'],
            'dynamic_axes': {'tokens': {0: 'batch'}, 'image': {0: 'batch'}},
            'tolerance': TOLERANCE[which], 'compare_inputs': compare}


def _ids(tiny):
    suffix = '-tiny' if tiny else ''
    return {'id': PIPELINE + suffix, 'textEncoder': f'{PIPELINE}-text{suffix}',
            'transformer': f'{PIPELINE}-transformer{suffix}', 'decoder': f'{PIPELINE}-decoder{suffix}'}


def bpe_file_name():
    return f'clip-bpe-simple-vocab-16e6.{BPE_SHA256[:16]}.txt.gz'


def card(model_id, tiny):
    which = part(model_id)
    role = MODELS[model_id]['role']
    t, x, d = (TINY if tiny else FULL)['text'], (TINY if tiny else FULL)['transformer'], (TINY if tiny else FULL)[
        'decoder']
    size = 8 * d['latent']
    length = x['latent'] ** 2
    io = {'image': {'layout': 'NCHW', 'range': [-1, 1]}, 'scale': 1, 'tile': {'size': size, 'overlap': 0},
          'size': size}
    if which == 'text':
        io = {'inputs': [{'name': 'tokens', 'dtype': 'int64', 'shape': ['batch', t['context']]}],
              'outputs': [{'name': 'text', 'dtype': 'float32', 'shape': ['batch', t['context'], t['width']]}],
              **io, 'tokenizer': TOKENIZER}
        what = (f'CLIP ViT-B/32 text encoder ({t["layers"]} layers, width {t["width"]}): prompt tokens → one '
                f'L2-normalised {t["width"]}-d feature per token, the transformer\'s condition.')
        notes = ('Tokenize with CLIP\'s BPE (the vocabulary file in files, kind clip-bpe-vocabulary): '
                 'lower-case, start 49406, words, end 49407, pad with 0 to 77 (VQ-Diffusion pads with 0, not with '
                 'the end token); longer prompts keep 76 tokens and end with 49407. Computed in float32 (the '
                 'official encoder runs in float16 on GPU).')
    elif which == 'transformer':
        io = {'inputs': [{'name': 'tokens', 'dtype': 'int64', 'shape': ['batch', length]},
                         {'name': 'timestep', 'dtype': 'int64', 'shape': ['batch']},
                         {'name': 'text', 'dtype': 'float32', 'shape': ['batch', x['text_len'], x['text_dim']]}],
              'outputs': [{'name': 'log_probs', 'dtype': 'float32', 'shape': ['batch', x['codes'], length]}],
              **io,
              'diffusion': {
                  'steps': x['steps'], 'classes': x['codes'], 'maskToken': x['codes'],
                  'latent': {'height': x['latent'], 'width': x['latent']},
                  'schedule': {'type': 'alpha1', **SCHEDULE},
                  'guidance': {'scale': GUIDANCE_SCALE, 'nullTextKind': 'null-text-embedding', 'nullTextDtype':
                               'float32', 'nullTextShape': [x['text_len'], x['text_dim']]},
                  'truncation': 1.0,
                  'logProbFloor': -70,
              }}
        what = (f'Denoising transformer, one step ({x["layers"]} layers, width {x["dim"]}): masked latent codes, '
                f'timestep and text features → log p(x0) over {x["codes"]} codes at each of {length} positions.')
        notes = ('One call per step; the loop (guidance, truncation, posterior, Gumbel sampling) runs outside. Start '
                 f'from all tokens = {x["codes"]} (mask) at timestep {x["steps"] - 1}. Guidance: run the batch '
                 '[text, null embedding] (raw float32 little-endian file in files, kind null-text-embedding, fed '
                 'as is), then uncond + s·(cond − uncond), renormalise with logsumexp, clamp at −70; the official '
                 'code appends a −70 row for the mask class. Timesteps must be in [0, steps − 1]. Log-softmax in '
                 'float32 (official: float64).')
    else:
        io = {'inputs': [{'name': 'tokens', 'dtype': 'int64', 'shape': ['batch', length]}],
              'outputs': [{'name': 'image', 'dtype': 'float32', 'shape': ['batch', 3, size, size]}], **io}
        what = (f'VQ-VAE decoder: {d["latent"]}×{d["latent"]} codes from a {d["codes"]}-entry codebook → '
                f'{size}×{size} RGB image.')
        notes = ('Output is clamped to [−1, 1]: pixels = (image + 1)/2 · 255. Token ids are clamped into the '
                 'codebook, so a mask id decodes as the last code: substitute the x0 prediction for previews.')
    if tiny:
        label = f'VQ-Diffusion tiny {role} (random-weight test model)'
        description = f'Random-weight test model: {what} Tiny width; produces noise, not pictures.'
        license_text = common.TINY_LICENSE
        checkpoint = common.TINY_CHECKPOINT
        targets = ['webgpu', 'wasm', 'node', 'server']
    else:
        label = f'VQ-Diffusion ITHQ {role}'
        description = what
        license_text = MODELS[model_id]['license']
        checkpoint = MODELS[model_id]['checkpoint']
        # The transformer is 1.36 B parameters (5.4 GB float32, ≈230 TMAC per guided 100-step image): server only.
        # Text encoder and decoder: largest buffers 101 MB (token embedding) and ≈34 MB (256 px activations), under
        # WebGPU's default 128 MiB binding limit.
        targets = ['node', 'server'] if which == 'transformer' else ['webgpu', 'wasm', 'node', 'server']
    return {
        **common.card_head(model_id, tiny, 'text-to-image', label, description),
        'role': role,
        'pipeline': _ids(tiny),
        'io': io,
        'license': license_text,
        'source': {'paper': PAPER, 'checkpoint': checkpoint, 'converter': CONVERTER},
        'targets': targets,
        'notes': notes,
    }


# ---------------------------------------------------------------------------------------------------------------
# Files next to the ONNX (the finish hook proposed for export.py; see README)


def _file_entry(path, kind):
    return {'name': os.path.basename(path), 'sha256': common.sha256_file(path), 'bytes': os.path.getsize(path),
            'kind': kind}


def find_bpe_vocabulary(checkpoint=None):
    """CLIP's bpe_simple_vocab_16e6.txt.gz: $CLIP_BPE_VOCAB, else next to the checkpoint, else the copy committed for
    the tokenizer tests. Its sha256 is pinned: the tokenizer must be exactly CLIP's."""
    candidates = [os.environ.get(BPE_ENV)]
    if checkpoint:
        candidates.append(os.path.join(os.path.dirname(os.path.abspath(checkpoint)), BPE_FILE))
    candidates.append(BPE_TEST_COPY)
    for path in candidates:
        if path and os.path.isfile(path):
            sha = common.sha256_file(path)
            if sha != BPE_SHA256:
                raise common.ExportError(f'{path} is not CLIP\'s {BPE_FILE} (sha256 {sha}, expected {BPE_SHA256})')
            return path
    raise common.ExportError(f'CLIP\'s {BPE_FILE} not found: set {BPE_ENV} to it (openai/CLIP clip/{BPE_FILE}, '
                             'or put it next to the checkpoint)')


def write_bpe_vocabulary(out_dir, checkpoint=None):
    target = os.path.join(out_dir, bpe_file_name())
    if not os.path.exists(target):
        shutil.copyfile(find_bpe_vocabulary(checkpoint), target + '.part')
        os.replace(target + '.part', target)
    return _file_entry(target, 'clip-bpe-vocabulary')


def write_null_text(model, out_dir, card_id):
    """The learned null text embedding as raw float32 little-endian [77, text_dim], content-addressed."""
    data = model.empty_text_embed.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
    tmp = os.path.join(out_dir, f'.{card_id}.{os.getpid()}.null-text')
    with open(tmp, 'wb') as f:
        f.write(data)
    sha = common.sha256_file(tmp)
    target = os.path.join(out_dir, f'{card_id}-null-text.{sha[:16]}.f32')
    os.replace(tmp, target)
    return _file_entry(target, 'null-text-embedding')


# ---------------------------------------------------------------------------------------------------------------
# Graph templates (template.py): what the graphs leave out, and the files the cards ship besides the graph, so that
# TypeScript writes the same ones when it installs from a checkpoint (models/convert/from-checkpoint.ts).

# Stored in the official file, unused by the graph: CLIP's text projection (pick_last_embedding is False).
UNUSED_PARAMETERS = ('text_projection',)


def template_files(model_id, tiny):
    """[{kind, name | (tensor, dtype, dims, suffix)}]: the text encoder ships CLIP's vocabulary (a copy of the
    committed, sha256-pinned file); the transformer ships its learned null text embedding, the checkpoint tensor
    `tensor` as raw float32 little-endian named <card id><suffix>.<sha16>.f32 (as write_null_text names it)."""
    which = part(model_id)
    if which == 'text':
        return [{'kind': 'clip-bpe-vocabulary', 'copy': os.path.relpath(BPE_TEST_COPY, REPO_ROOT),
                 'sha256': BPE_SHA256}]
    if which == 'transformer':
        x = config(model_id, tiny)
        return [{'kind': 'null-text-embedding', 'tensor': 'empty_text_embed', 'dtype': 'float32',
                 'dims': [x['text_len'], x['text_dim']], 'suffix': '-null-text', 'ext': '.f32'}]
    return []


def external_data_threshold():
    value = os.environ.get(EXTERNAL_DATA_ENV)
    return int(value) if value else EXTERNAL_DATA_THRESHOLD


def externalize(onnx_path, out_dir, card_id, threshold=None):
    """Puts the weights of `onnx_path` into ONE content-addressed file `<card_id>.<sha16>.onnx.data` next to it when
    the graph already refers to external data (torch.onnx.export writes one file per tensor above 2 GB) or the
    file is larger than `threshold`. Rewrites the graph's references (page-aligned offsets), removes torch's
    per-tensor files and returns the data file's card entry, or None when nothing moved. Streams tensor by tensor:
    memory stays at one tensor."""
    threshold = external_data_threshold() if threshold is None else threshold
    model = onnx.load(onnx_path, load_external_data=False)
    base = os.path.dirname(os.path.abspath(onnx_path))
    tensors = list(model.graph.initializer)
    external = [t for t in tensors if t.data_location == onnx.TensorProto.EXTERNAL]
    if not external and os.path.getsize(onnx_path) <= threshold:
        return None
    tmp = os.path.join(out_dir, f'.{card_id}.{os.getpid()}.onnx.data')
    moved, scattered, offset = [], set(), 0
    try:
        with open(tmp, 'wb') as out:
            for tensor in tensors:
                if tensor.data_location == onnx.TensorProto.EXTERNAL:
                    info = {e.key: e.value for e in tensor.external_data}
                    source = os.path.join(base, info['location'])
                    with open(source, 'rb') as f:
                        f.seek(int(info.get('offset', 0)))
                        data = f.read(int(info['length'])) if 'length' in info else f.read()
                    scattered.add(source)
                elif tensor.HasField('raw_data') and len(tensor.raw_data) >= EXTERNAL_MIN_TENSOR:
                    data = tensor.raw_data
                else:
                    continue
                pad = -offset % EXTERNAL_ALIGN
                out.write(b'\0' * pad)
                offset += pad
                out.write(data)
                tensor.ClearField('raw_data')
                tensor.data_location = onnx.TensorProto.EXTERNAL
                del tensor.external_data[:]
                moved.append((tensor, offset, len(data)))
                offset += len(data)
        sha = common.sha256_file(tmp)
        name = f'{card_id}.{sha[:16]}.onnx.data'
        target = os.path.join(out_dir, name)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    for tensor, start, length in moved:
        for key, value in (('location', name), ('offset', str(start)), ('length', str(length))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
    onnx.save(model, onnx_path)
    for path in scattered - {target}:
        os.remove(path)
    return _file_entry(target, 'onnx-external-data')


def finish(model, model_id, tiny, onnx_path, out_dir, card_id, checkpoint=None):
    """Proposed export.py hook, called after the ONNX is written and before it is checked and hashed: writes the
    files this part ships with and returns their card entries ({name, sha256, bytes, kind}); may rewrite the ONNX
    (external data). The ONNX stays files[0]."""
    files = []
    data = externalize(onnx_path, out_dir, card_id)
    if data:
        files.append(data)
    which = part(model_id)
    if which == 'text':
        files.append(write_bpe_vocabulary(out_dir, checkpoint))
    elif which == 'transformer':
        files.append(write_null_text(model, out_dir, card_id))
    return files
