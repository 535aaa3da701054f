"""Swin window attention pieces shared by styleswin.py and simmim.py (Liu et al., "Swin Transformer", ICCV 2021;
facts from microsoft/Swin-Transformer's layout as both official repositories copy it): relative position index,
shifted-window mask, window partition and reverse, the MLP, and the relative-bias part of WindowAttention.
Attribute names are the official ones, so the families' state_dict keys stay as they are."""

import torch
import torch.nn.functional as F
from torch import nn


def relative_position_index(window):
    """[N, N] (N = window²) index into the (2w−1)² relative-bias table: (Δrow + w−1)·(2w−1) + (Δcol + w−1)."""
    rows, cols = torch.meshgrid(torch.arange(window), torch.arange(window), indexing='ij')
    coords = torch.stack([rows.flatten(), cols.flatten()])  # 2, N
    rel = coords[:, :, None] - coords[:, None, :] + (window - 1)  # 2, N, N, each in [0, 2w−2]
    return rel[0] * (2 * window - 1) + rel[1]


def shift_labels(length, window, shift):
    """Region label of every row (or column) after the cyclic shift: 0 inside, 1 and 2 in the wrapped strips."""
    labels = torch.zeros(length)
    labels[length - window:length - shift] = 1
    labels[length - shift:] = 2
    return labels


def shift_mask(resolution, window, shift):
    """The official attn_mask of a shifted block: [windows, N, N], −100 between tokens that come from different
    regions of the cyclically shifted map (they are not neighbours in the image), else 0."""
    labels = shift_labels(resolution, window, shift)
    region = labels[:, None] * 3 + labels[None, :]  # H, W
    windows = window_partition(region.reshape(1, resolution, resolution, 1), window, resolution, 1).squeeze(-1)
    diff = windows[:, None, :] - windows[:, :, None]
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


# Sizes are passed as Python ints (not read from tensors) so the traced graph has static reshapes, no Shape ops.
def window_partition(x, window, size, channels):
    """[B, size, size, C] → [B·windows, window², C], windows in row-major order."""
    count = size // window
    x = x.reshape(-1, count, window, count, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, channels)


def window_reverse(windows, window, size, channels):
    """Inverse of window_partition: [B·windows, window², C] → [B, size, size, C]."""
    count = size // window
    x = windows.reshape(-1, count, count, window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, size, size, channels)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU, as nn.GELU()


class WindowAttentionBase(nn.Module):
    """What every Swin WindowAttention holds first: the learned relative position bias table and its index.
    Subclasses register their projections after super().__init__(), keeping the official key order."""

    def __init__(self, dim, window, num_heads):
        super().__init__()
        self.dim = dim
        self.window = window
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, num_heads))
        # Kept for the official key layout; the forward pass reads the copy below, which no checkpoint overwrites.
        self.register_buffer('relative_position_index', relative_position_index(window))
        self.register_buffer('bias_index', relative_position_index(window).reshape(-1), persistent=False)

    def relative_bias(self):
        """[heads, N, N], added to the attention logits (a constant once the weights are fixed)."""
        tokens = self.window * self.window
        return self.relative_position_bias_table[self.bias_index].reshape(tokens, tokens, -1).permute(2, 0, 1)
