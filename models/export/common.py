"""Helpers shared by export.py and the family modules: checkpoints, key layouts, onnxruntime-node runs, files."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

EXPORT_DIR = os.path.dirname(os.path.abspath(__file__))
ORT_RUN = os.path.join(EXPORT_DIR, 'ort_run.mjs')


class ExportError(Exception):
    """A failure to report to the user as one clear message (export.py prints it and exits non-zero)."""


def warn(message):
    print(f'warning: {message}', file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints


def read_checkpoint(path):
    if not os.path.isfile(path):
        raise ExportError(f'checkpoint not found: {path}')
    try:
        return torch.load(path, map_location='cpu')
    except Exception as error:  # pickle/zip errors: say which file and why
        raise ExportError(f'cannot read checkpoint {path}: {error}') from error


def pick_state_dict(obj, path, prefer, marker):
    """The generator weights inside a training checkpoint: the first of `prefer` present (e.g. 'g_ema' in files
    that also hold 'g', 'd', optimiser states), or the file itself when it is already a bare state_dict (has
    `marker`)."""
    if isinstance(obj, dict):
        for name in prefer:
            if isinstance(obj.get(name), dict):
                return obj[name]
        if marker in obj:
            return obj
        raise ExportError(f'{path} holds neither {" nor ".join(map(repr, prefer))} nor a bare generator state_dict '
                          f'(no {marker!r}); its top-level keys: {", ".join(map(str, list(obj)[:20]))}')
    raise ExportError(f'{path} holds a {type(obj).__name__}, not a checkpoint dict')


def _listing(names, limit=30):
    shown = ', '.join(names[:limit])
    return shown + (f', … ({len(names) - limit} more)' if len(names) > limit else '')


def check_state_dict(model, state, what, path):
    """Raises ExportError naming every missing, unexpected or mis-shaped key (load_state_dict would only say
    'Error(s) in loading state_dict' with a wall of text)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f'{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})' for k, v in expected.items()
              if k in state and tuple(getattr(state[k], 'shape', ())) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = [f'checkpoint {path} does not match {what}:']
        if missing:
            parts.append(f'  missing keys ({len(missing)}): {_listing(missing)}')
        if unexpected:
            parts.append(f'  unexpected keys ({len(unexpected)}): {_listing(unexpected)}')
        if shapes:
            parts.append(f'  shape mismatches ({len(shapes)}): {_listing(shapes)}')
        parts.append('  (is it the right model id / resolution for this file?)')
        raise ExportError('\n'.join(parts))


def load_strict(model, state, what, path):
    check_state_dict(model, state, what, path)
    model.load_state_dict(state, strict=True)


# ---------------------------------------------------------------------------------------------------------------
# Key layouts (models/export/keys/*.txt): "name dim×dim… dtype" per line, '#' comments


def read_key_layout(path):
    entries = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            name, shape, dtype = line.split()
            entries.append((name, tuple(int(d) for d in shape.split('x')) if shape != 'scalar' else (), dtype))
    return entries


def format_key_layout(state):
    return ''.join(f"{k} {'x'.join(map(str, v.shape)) or 'scalar'} {str(v.dtype).replace('torch.', '')}\n"
                   for k, v in state.items())


# ---------------------------------------------------------------------------------------------------------------
# Files


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def tensor_json(t):
    """A tensor as {dtype, shape, data} (floats exactly: float32 → Python float → JSON round-trips)."""
    a = t.detach().cpu().numpy()
    return {'dtype': str(a.dtype), 'shape': list(a.shape), 'data': a.reshape(-1).tolist()}


# ---------------------------------------------------------------------------------------------------------------
# onnxruntime-node (no onnxruntime for Debian's Python: ort_run.mjs runs the model in Node)

_DTYPES = {torch.float32: 'float32', torch.float64: 'float64', torch.int64: 'int64', torch.int32: 'int32',
           torch.uint8: 'uint8', torch.bool: 'bool'}
_NUMPY = {'float32': np.float32, 'float64': np.float64, 'int64': np.int64, 'int32': np.int32, 'uint8': np.uint8,
          'bool': np.bool_}


def node_executable():
    node = shutil.which('node')
    if not node:
        raise ExportError('node not found on PATH: the ONNX check runs onnxruntime-node (install Node.js ≥ 20 and '
                          'run npm install in the repository)')
    return node


def run_onnx_node(onnx_path, runs, threads=2, timeout=3600):
    """Runs the model once per feed dict ({input name: tensor}) in one onnxruntime-node session.
    Returns [{output name: numpy array}] in the same order."""
    node = node_executable()
    with tempfile.TemporaryDirectory(prefix='ort-run-') as work:
        job = {'model': os.path.abspath(onnx_path), 'threads': threads, 'runs': []}
        for i, feeds in enumerate(runs):
            inputs = []
            for name, tensor in feeds.items():
                dtype = _DTYPES.get(tensor.dtype)
                if dtype is None:
                    raise ExportError(f'input {name}: dtype {tensor.dtype} is not supported by ort_run.mjs')
                file = os.path.join(work, f'in{i}.{name}.bin')
                tensor.detach().cpu().contiguous().numpy().astype(_NUMPY[dtype]).tofile(file)
                inputs.append({'name': name, 'dtype': dtype, 'shape': list(tensor.shape), 'file': file})
            job['runs'].append({'inputs': inputs})
        job_path = os.path.join(work, 'job.json')
        with open(job_path, 'w', encoding='utf-8') as f:
            json.dump(job, f)
        proc = subprocess.run([node, ORT_RUN, job_path, work], capture_output=True, text=True, timeout=timeout,
                              cwd=EXPORT_DIR)
        if proc.returncode != 0:
            raise ExportError(f'onnxruntime-node failed on {onnx_path}:\n{proc.stderr.strip() or proc.stdout.strip()}')
        with open(os.path.join(work, 'result.json'), encoding='utf-8') as f:
            result = json.load(f)
        outputs = []
        for run in result['runs']:
            outputs.append({o['name']: np.fromfile(o['file'], dtype=_NUMPY[o['dtype']]).reshape(o['shape'])
                            for o in run['outputs']})
        return outputs
