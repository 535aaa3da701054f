"""PyTorch reference for the VQ-Diffusion sampling loop in worker/diffusion/ (TypeScript), written independently in
the tensor style of microsoft/VQ-Diffusion (image_synthesis/modeling/transformers/diffusion_transformer.py:
predict_start, q_pred, q_pred_one_timestep, q_posterior, log_sample_categorical, sample_fast; modeling/models/
dalle.py: cf_predict_start guidance and the 'top{r}r' truncation), in float64 on [C + 1, L] log-probabilities.

The transformer is the exported ONNX, run in one persistent onnxruntime-node process (Debian's Python has no
onnxruntime; same session options as the TypeScript test, so equal tokens give bit-equal log-probs). The Gumbel
noise uses the same uniforms as worker/random.ts (Rng: splitmix32 seeding, xoshiro128**, 53-bit uniforms), drawn in
the same order ([C + 1, L] row-major per step), so final tokens can be compared exactly.

    /usr/bin/python3 models/export/vq_reference.py --card CARD.json --onnx MODEL.onnx --text TEXT.f32 \
        [--null NULL.f32] --seed N --steps N --guidance S --truncation R --out RESULT.json
    /usr/bin/python3 models/export/vq_reference.py --uniforms N --seed N      (prints the first N uniforms, JSON)

TEXT.f32 / NULL.f32: raw float32 little-endian [77, text_dim] (the prompt's features; the null text embedding).
RESULT.json: {"timesteps": [...], "posteriorTimesteps": [...], "xt": [[tokens fed at each step]...],
"tokens": [final], "x0Argmax": [last step's argmax of log p(x0)]}.

Differences from the official code, all shared with worker/diffusion: float64 instead of float32; r >= 1 keeps
every class (officially 'top1.0r' may cut float32 round-off tails); fewer steps than the schedule's visit evenly
spaced timesteps with the posterior taken at (next visited timestep + 1) (sample_fast's 't - skip_step').
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vqdiffusion  # noqa: E402  (the official alpha_schedule, as exported)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG_EPS = math.log(1e-30)  # the official log(clamp(onehot, 1e-30)) and log_zero_vector
M32 = 0xffffffff

# ---------------------------------------------------------------------------------------------------------------
# worker/random.ts Rng, bit for bit


def _splitmix32(seed):
    state = [seed & M32]

    def next_():
        state[0] = (state[0] + 0x9e3779b9) & M32
        z = state[0]
        z = ((z ^ (z >> 16)) * 0x85ebca6b) & M32
        z = ((z ^ (z >> 13)) * 0xc2b2ae35) & M32
        return (z ^ (z >> 16)) & M32
    return next_


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed):
        if not (isinstance(seed, int) and 0 <= seed < 2 ** 53):
            raise ValueError(f'seed must be an integer in [0, 2^53) (got {seed})')
        lo = _splitmix32(seed & M32)
        hi = _splitmix32(((seed >> 32) ^ 0x5bd1e995) & M32)
        self.s = [lo() ^ hi() for _ in range(4)]
        if not any(self.s):
            self.s[0] = 1

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        a = self.next_u32() >> 5
        b = self.next_u32() >> 6
        return (a * 67108864 + b + 0.5) / 9007199254740992.0

    def uniforms(self, n):
        return np.array([self.uniform() for _ in range(n)], dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# Schedule (official alpha1, float64 logs) and the step math


class Diffusion:
    def __init__(self, io):
        self.T, self.C = io['steps'], io['classes']
        self.L = io['latent']['height'] * io['latent']['width']
        self.floor = float(io['logProbFloor'])
        s = io['schedule']
        at, bt, ct, att, btt, ctt = (torch.tensor(np.asarray(a, dtype=np.float64)) for a in vqdiffusion.alpha_schedule(
            self.T, self.C, s['att1'], s['attT'], s['ctt1'], s['cttT']))
        self.log_at, self.log_bt, self.log_ct = torch.log(at), torch.log(bt), torch.log(ct)
        self.log_cumprod_at, self.log_cumprod_bt, self.log_cumprod_ct = torch.log(att), torch.log(btt), torch.log(ctt)
        self.log_1_min_ct = torch.log(1 - self.log_ct.exp() + 1e-40)
        self.log_1_min_cumprod_ct = torch.log(1 - self.log_cumprod_ct.exp() + 1e-40)

    # log_x: [C + 1, L] (one image, no batch dimension)
    def q_pred_one_timestep(self, log_x_t, t):
        return torch.cat([log_add_exp(log_x_t[:-1] + self.log_at[t], self.log_bt[t]),
                          log_add_exp(log_x_t[-1:] + self.log_1_min_ct[t], self.log_ct[t])])

    def q_pred(self, log_x_start, t):
        t = (t + self.T + 1) % (self.T + 1)
        return torch.cat([log_add_exp(log_x_start[:-1] + self.log_cumprod_at[t], self.log_cumprod_bt[t]),
                          log_add_exp(log_x_start[-1:] + self.log_1_min_cumprod_ct[t], self.log_cumprod_ct[t])])

    def q_posterior(self, log_x_start, log_x_t, t):
        mask = (log_x_t.argmax(0) == self.C)[None]  # [1, L]
        zero = torch.full((1, self.L), LOG_EPS, dtype=torch.float64)
        log_qt = self.q_pred(log_x_t, t)[:-1]
        log_qt = torch.where(mask, self.log_cumprod_ct[t].expand(self.C, self.L), log_qt)
        one = torch.cat([self.q_pred_one_timestep(log_x_t, t)[:-1], zero])
        ct_vector = torch.cat([self.log_ct[t].expand(self.C, self.L), torch.zeros(1, self.L, dtype=torch.float64)])
        one = torch.where(mask, ct_vector, one)
        q = torch.cat([log_x_start[:-1] - log_qt, zero])
        lse = torch.logsumexp(q, dim=0, keepdim=True)
        return torch.clamp(self.q_pred(q - lse, t - 1) + one + lse, self.floor, 0)

    def onehot(self, tokens):
        x = torch.nn.functional.one_hot(tokens, self.C + 1).T.to(torch.float64)
        return torch.log(x.clamp(min=1e-30))

    def predict_start(self, log_probs, guidance, truncation):
        """log_probs: float32 [batch, C, L] from the ONNX ([cond, uncond] when guided) → log p(x0) [C + 1, L]."""
        lp = torch.clamp(torch.from_numpy(log_probs).to(torch.float64), self.floor, 0)
        if abs(guidance - 1) < 1e-3:
            x0 = lp[0]
        else:
            cond, uncond = lp[0], lp[1]
            x0 = uncond + guidance * (cond - uncond)
            x0 = torch.clamp(x0 - torch.logsumexp(x0, dim=0, keepdim=True), self.floor, 0)
        x0 = torch.cat([x0, torch.full((1, self.L), self.floor, dtype=torch.float64)])
        if truncation < 1:  # 'top{r}r': keep sorted classes while the probability before them is < r
            values, order = torch.sort(x0, dim=0, descending=True, stable=True)
            before = torch.cat([torch.zeros(1, self.L, dtype=torch.float64), values.exp().cumsum(0)[:-1]])
            keep_sorted = before < truncation
            keep_sorted[0] = True
            keep = torch.zeros_like(keep_sorted).scatter(0, order, keep_sorted)
            x0 = torch.where(keep, x0, torch.full_like(x0, self.floor))
        return x0


def log_add_exp(a, b):
    b = torch.as_tensor(b, dtype=torch.float64).expand_as(a)
    m = torch.maximum(a, b)
    safe = torch.where(torch.isinf(m) & (m < 0), torch.zeros_like(m), m)
    return safe + torch.log(torch.exp(a - safe) + torch.exp(b - safe))


def gumbel_sample(logits, uniforms):
    noise = -torch.log(-torch.log(uniforms + 1e-30) + 1e-30)
    return (logits + noise).argmax(0)


def plan(train_steps, steps):
    """Visited timesteps (evenly spaced from T - 1 to 0, rounded half up) and the posterior timestep of each."""
    if steps == 1:
        return [train_steps - 1], [0]
    span, gaps = train_steps - 1, steps - 1
    visited = [(2 * span * (gaps - i) + gaps) // (2 * gaps) for i in range(steps)]
    return visited, [visited[i + 1] + 1 for i in range(steps - 1)] + [0]


# ---------------------------------------------------------------------------------------------------------------
# The transformer on onnxruntime-node (one process; one request per line)

NODE_BRIDGE = r"""
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
const [model, textPath, nullPath] = process.argv.slice(1);
const f32 = (path) => { const b = readFileSync(path); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
const text = f32(textPath);
const nullText = nullPath ? f32(nullPath) : null;
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const { tokens, timestep, batch, out } = JSON.parse(line);
  const b = readFileSync(tokens);
  const ids = new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const feedText = new Float32Array(batch * text.length);
  feedText.set(text);
  if (batch === 2) feedText.set(nullText, text.length);
  const result = await session.run({
    tokens: new ort.Tensor('int64', ids, [batch, ids.length / batch]),
    timestep: new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(timestep)), [batch]),
    text: new ort.Tensor('float32', feedText, [batch, 77, text.length / 77]),
  });
  const data = result.log_probs.data;
  writeFileSync(out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  process.stdout.write('ok\n');
}
await session.release();
"""


class Transformer:
    def __init__(self, onnx_path, text_path, null_path, work):
        node = shutil.which('node')
        if not node:
            raise SystemExit('node not found on PATH: the reference runs the ONNX on onnxruntime-node')
        args = [node, '--input-type=module', '-e', NODE_BRIDGE, os.path.abspath(onnx_path),
                os.path.abspath(text_path)] + ([os.path.abspath(null_path)] if null_path else [])
        self.proc = subprocess.Popen(args, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.work = work

    def __call__(self, tokens, timestep, batch, classes):
        tokens_path, out_path = os.path.join(self.work, 'tokens.bin'), os.path.join(self.work, 'out.bin')
        np.tile(tokens.numpy().astype('<i8'), batch).tofile(tokens_path)
        self.proc.stdin.write(json.dumps({'tokens': tokens_path, 'timestep': timestep, 'batch': batch,
                                          'out': out_path}) + '\n')
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != 'ok':
            raise SystemExit(f'onnxruntime-node bridge failed (exit {self.proc.poll()})')
        return np.fromfile(out_path, dtype='<f4').reshape(batch, classes, -1)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def sample(io, transformer, seed, steps, guidance, truncation):
    d = Diffusion(io)
    rng = Rng(seed)
    batch = 1 if abs(guidance - 1) < 1e-3 else 2
    visited, posterior_t = plan(d.T, steps)
    tokens = torch.full((d.L,), d.C, dtype=torch.int64)
    history, x0 = [], None
    for t, tp in zip(visited, posterior_t):
        history.append(tokens.tolist())
        log_probs = transformer(tokens, t, batch, d.C)
        x0 = d.predict_start(log_probs, guidance, truncation)
        model_log_prob = d.q_posterior(x0, d.onehot(tokens), tp)
        uniforms = torch.from_numpy(rng.uniforms((d.C + 1) * d.L).reshape(d.C + 1, d.L))
        tokens = gumbel_sample(model_log_prob, uniforms)
    return {'timesteps': visited, 'posteriorTimesteps': posterior_t, 'xt': history, 'tokens': tokens.tolist(),
            'x0Argmax': x0[:-1].argmax(0).tolist()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--card')
    parser.add_argument('--onnx')
    parser.add_argument('--text')
    parser.add_argument('--null')
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--steps', type=int)
    parser.add_argument('--guidance', type=float, default=1.0)
    parser.add_argument('--truncation', type=float, default=1.0)
    parser.add_argument('--out')
    parser.add_argument('--uniforms', type=int, help='print the first N uniforms of the seed and exit')
    a = parser.parse_args()
    if a.uniforms:
        print(json.dumps(Rng(a.seed).uniforms(a.uniforms).tolist()))
        return
    for name in ('card', 'onnx', 'text', 'steps', 'out'):
        if getattr(a, name) is None:
            parser.error(f'--{name} is required')
    io = json.load(open(a.card))['io']['diffusion']
    if not 1 <= a.steps <= io['steps']:
        parser.error(f'--steps must be in 1..{io["steps"]}')
    if abs(a.guidance - 1) >= 1e-3 and not a.null:
        parser.error('guidance needs --null (the null text embedding)')
    with tempfile.TemporaryDirectory(prefix='vq-reference-') as work:
        transformer = Transformer(a.onnx, a.text, a.null, work)
        try:
            result = sample(io, transformer, a.seed, a.steps, a.guidance, a.truncation)
        finally:
            transformer.close()
    with open(a.out, 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    torch.set_grad_enabled(False)
    main()
