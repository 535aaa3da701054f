"""Helpers shared by export.py and the family modules: checkpoints, key layouts, onnxruntime-node runs, files."""

import collections
import hashlib
import io
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

EXPORT_DIR = os.path.dirname(os.path.abspath(__file__))
ORT_RUN = os.path.join(EXPORT_DIR, 'ort_run.mjs')
KEYS_DIR = os.path.join(EXPORT_DIR, 'keys')

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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


_STORAGE_DTYPES = {
    'FloatStorage': torch.float32, 'DoubleStorage': torch.float64, 'HalfStorage': torch.float16,
    'BFloat16Storage': torch.bfloat16, 'LongStorage': torch.int64, 'IntStorage': torch.int32,
    'ShortStorage': torch.int16, 'CharStorage': torch.int8, 'ByteStorage': torch.uint8, 'BoolStorage': torch.bool,
}


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    return torch.as_strided(storage, tuple(size), tuple(stride), offset)


def _rebuild_parameter(data, *_rest):
    return data


class TorchZipUnpickler(pickle.Unpickler):
    """Reads torch.save's zip format (torch ≥ 1.6) without torch.load: tensors and OrderedDicts are rebuilt, every
    other class goes to other_class (a family's stub or placeholder; refused here), so a checkpoint cannot run code.
    torch.load(pickle_module=…) cannot do this on Debian's torch 1.13: it ignores pickle_module unless weights_only,
    and weights_only refuses the classes the official files pickle (yacs CfgNode, torch_ema)."""

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self.archive, self.prefix, self.storages = archive, prefix, {}

    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if module == 'torch._utils' and name in ('_rebuild_tensor_v2', '_rebuild_tensor'):
            return _rebuild_tensor
        if module == 'torch._utils' and name == '_rebuild_parameter':
            return _rebuild_parameter
        if module in ('torch', 'torch.cuda') and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        return self.other_class(module, name)

    def other_class(self, module, name):
        raise pickle.UnpicklingError(f'refusing to unpickle {module}.{name}')

    def persistent_load(self, pid):
        kind, dtype, key, _location, _numel = pid
        if kind != 'storage' or not isinstance(dtype, torch.dtype):
            raise pickle.UnpicklingError(f'unknown persistent id {pid!r}')
        if key not in self.storages:
            raw = bytearray(self.archive.read(f'{self.prefix}data/{key}'))
            self.storages[key] = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        return self.storages[key]


def read_torch_zip(path, make_unpickler):
    """The object torch.save wrote to the zip archive `path`, read by make_unpickler(file, archive, prefix) (a
    TorchZipUnpickler)."""
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith('/data.pkl') and n.count('/') == 1]
        if len(pickles) != 1:
            raise ExportError(f'{path}: expected one <name>/data.pkl in the archive, found {pickles}')
        prefix = pickles[0][:-len('data.pkl')]
        with archive.open(pickles[0]) as f:
            return make_unpickler(io.BytesIO(f.read()), archive, prefix).load()


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


def buffer_copies(model, keep):
    """{key: copy} of the state_dict entries whose key `keep` accepts: buffers whose values follow from the
    architecture, copied before loading so warn_changed_buffers can compare."""
    return {k: v.clone() for k, v in model.state_dict().items() if keep(k)}


def warn_changed_buffers(model, fixed, path, kind='architecture buffers',
                         effect='the export uses recomputed values, so outputs are not affected.', same=torch.equal):
    """Warns when a checkpoint's values of such buffers differ from `fixed` (another code version or model?)."""
    loaded = model.state_dict()
    differ = [k for k, v in fixed.items() if not same(loaded[k], v)]
    if differ:
        warn(f'{len(differ)} {kind} in {path} differ from the values the official code computes '
             f'(e.g. {differ[0]}); {effect}')


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


def official_layout_file(name):
    """[(name, shape, dtype)] from keys/<name>."""
    return read_key_layout(os.path.join(KEYS_DIR, name))


def layout_keys(layout):
    """[(name, shape)] of a key layout: a family's official_keys from its official_layout."""
    return [(name, shape) for name, shape, _ in layout]


def format_key_layout(state):
    return ''.join(f"{k} {'x'.join(map(str, v.shape)) or 'scalar'} {str(v.dtype).replace('torch.', '')}\n"
                   for k, v in state.items())


# ---------------------------------------------------------------------------------------------------------------
# Random weights of tiny models (torch's global RNG, which export.py seeds): one randn draw of p's shape each, so a
# family's randomize() draws in registration order


def random_norm_(p, leaf):
    """A norm layer's weight (≈1) or bias (≈0)."""
    p.copy_((1.0 if leaf == 'weight' else 0.0) + 0.1 * torch.randn(p.shape))


def random_bias_(p):
    p.copy_(0.1 * torch.randn(p.shape))


def random_matrix_(p, gain=1.0):
    """A linear or conv weight with output gain `gain` for unit-variance inputs (fan-in = one output's inputs)."""
    p.copy_(torch.randn(p.shape) * gain / math.sqrt(p[0].numel()))


# ---------------------------------------------------------------------------------------------------------------
# Cards (export.py puts their fields in CARD_ORDER and adds files)

TINY_LICENSE = 'MIT (code); random weights, no training data'
TINY_CHECKPOINT = 'random (tiny)'


def card_id(model_id, tiny):
    return f'{model_id}-tiny' if tiny else model_id


def card_head(model_id, tiny, task, label, description):
    """The fields every card starts with."""
    return {'id': card_id(model_id, tiny), 'task': task, 'label': label, 'description': description,
            'variant': 'tiny' if tiny else 'full'}


def imagenet_image():
    """The io.image entry of a model whose images are NCHW, pixels in [0, 1], then ImageNet-normalised."""
    return {'layout': 'NCHW', 'range': [0, 1], 'normalize': {'mean': list(IMAGENET_MEAN), 'std': list(IMAGENET_STD)}}


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
