// Reading PyTorch checkpoints without Python (models/convert/torch-checkpoint.ts), against files real torch writes:
// /usr/bin/python3 (Debian's python3-torch) saves checkpoints in every format and protocol torch.save offers, plus
// zips rewritten the ways a download can differ (deflated, zip64, data in front, byteorder), and writes what each
// value must read back as (tensor bytes, float32 conversions as torch's .float() makes them); the test compares
// bit-exactly. Malicious pickles must come back as placeholders without running (their payloads are proven live by
// letting torch.load run them first).
//
//   node --import tsx --test --test-reporter=spec test/convert/torch-checkpoint.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError, PyDict, PyGlobal, PyObject, TorchDtype, TorchStorage, TorchTensor, flattenTensors, isTuple, pyGet, readCheckpoint, readPickle,
  type PyValue,
} from '../../models/convert/torch-checkpoint.ts';

const PYTHON = '/usr/bin/python3';

// The fixture writer. argv[1]: output folder. Writes the checkpoints and expected.json.
const FIXTURE_PY = String.raw`
import sys, os, json, struct, zipfile, zlib, collections, argparse, pickle, hashlib
import torch, torch.nn as nn

out = sys.argv[1]
P = lambda name: os.path.join(out, name)
torch.manual_seed(0)

class Ema:  # like torch_ema.ExponentialMovingAverage: a plain object holding a list of tensors
    def __init__(self, params, decay):
        self.decay = decay
        self.num_updates = None
        self.shadow_params = [p.clone().detach() for p in params]
        self.collected_params = []

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.bn = nn.BatchNorm2d(3)
        self.head = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 1, bias=False))
        self.register_buffer('scratch', torch.zeros(2), persistent=False)
        self.register_buffer('table', torch.arange(3))

class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

class EvilSystem:
    def __init__(self, cmd): self.cmd = cmd
    def __reduce__(self): return (os.system, (self.cmd,))

class EvilEval:
    def __init__(self, code): self.code = code
    def __reduce__(self): return (eval, (self.code,))

def raw(t):
    c = t.detach().contiguous().reshape(-1)
    if c.dtype == torch.bool:
        c = c.to(torch.uint8)
    return bytes(c.view(torch.uint8).tolist()).hex() if c.numel() else ''

FLOATS = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
def tensor_info(t):
    return {
        'dtype': str(t.dtype).split('.')[1], 'shape': list(t.shape), 'stride': list(t.stride()), 'offset': t.storage_offset(),
        'raw': raw(t), 'f32': raw(t.float()), 'i64': None if t.dtype in FLOATS else raw(t.long()),
        'param': isinstance(t, nn.Parameter), 'requires_grad': t.requires_grad,
    }

def enc(v):
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int): return {'int': str(v)}
    if isinstance(v, float): return {'float': struct.pack('>d', v).hex()}
    if isinstance(v, (bytes, bytearray)): return {'bytes': bytes(v).hex()}
    if isinstance(v, torch.Tensor): return {'tensor': tensor_info(v)}
    if isinstance(v, torch.dtype): return {'dtype': str(v).split('.')[1]}
    if isinstance(v, tuple): return {'tuple': [enc(x) for x in v]}
    if isinstance(v, list): return {'list': [enc(x) for x in v]}
    if isinstance(v, collections.OrderedDict):
        d = {'odict': [[enc(k), enc(x)] for k, x in v.items()]}
        if vars(v): d['attrs'] = enc(dict(vars(v)))
        return d
    if isinstance(v, dict): return {'dict': [[enc(k), enc(x)] for k, x in v.items()]}
    if isinstance(v, (set, frozenset)): return {'set': [enc(x) for x in v]}
    rv = v.__reduce_ex__(2)  # what pickle stores for any other object: its class and its state
    return {'object': type(v).__module__ + '.' + type(v).__qualname__, 'state': enc(rv[2]) if len(rv) > 2 else None}

def join(p, k): return p + '.' + k if p else k
def walk(v, prefix, acc):
    if isinstance(v, torch.Tensor): acc.append([prefix, raw(v)])
    elif isinstance(v, nn.Module):
        for k, t in v.state_dict().items(): acc.append([join(prefix, k), raw(t)])
    elif isinstance(v, dict):
        for k, x in v.items():
            if isinstance(k, (str, int)): walk(x, join(prefix, str(k)), acc)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v): walk(x, join(prefix, str(i)), acc)
    elif hasattr(v, '__dict__') and not isinstance(v, (type, torch.dtype)):
        walk(vars(v), prefix, acc)
    return acc

# ── the checkpoint
f32 = torch.randn(3, 4)
f32[0, 0] = float('nan'); f32[0, 1] = float('inf'); f32[0, 2] = -0.0; f32[0, 3] = 1e-40
base = torch.arange(20, dtype=torch.float32)
net = Net()
tensors = {
    'f32': f32,
    'f16': torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-5, float('inf'), float('-inf'), float('nan'), 0.1], dtype=torch.float16),
    'bf16': torch.cat([torch.randn(5), torch.tensor([float('nan'), float('inf'), 1e-39, 3e38, -0.0])]).bfloat16(),
    'f64': torch.tensor([0.1, 1 + 2**-24, 1 + 3 * 2**-24, 1e300, -1e-320, 2**-149, 2**-150, 3.4028235677973366e38, float('nan'), -7.25], dtype=torch.float64),
    'i64': torch.tensor([0, -1, 2**40, -2**63, 2**63 - 1, 2**53 + 1, 2**60 + 2**36 + 1, -(2**60 + 2**36 + 1), 2**24 + 1]),
    'i64_small': torch.tensor([[1, -2], [2**31 - 1, -2**31]]),
    'i32': torch.tensor([0, -1, 2**31 - 1, -2**31, 123456], dtype=torch.int32),
    'i16': torch.tensor([-32768, 32767, 5], dtype=torch.int16),
    'i8': torch.tensor([-128, 127, 0], dtype=torch.int8),
    'u8': torch.arange(256, dtype=torch.uint8).reshape(16, 16),
    'bool': torch.tensor([True, False, True, True]),
    'scalar': torch.tensor(3.5),
    'scalar_i64': torch.tensor(7),
    'scalar_f16': torch.tensor(-1.5, dtype=torch.float16),
    'empty': torch.zeros(0, 3),
    'empty_i64': torch.zeros(0, dtype=torch.int64),
}
views = {
    'transposed': torch.arange(12.).reshape(3, 4).t(),
    'slice_a': base[2:5],
    'slice_b': base[10:16].view(2, 3),
    'strided': torch.arange(24.).reshape(2, 3, 4)[:, ::2, 1::2],
    'expanded': torch.tensor([1., 2.]).expand(3, 2),
    'half_t': torch.randn(3, 2).half().t(),
}
g_ema = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2)).state_dict()
tied = torch.randn(2)
ckpt = {
    'tensors': tensors,
    'views': views,
    'g_ema': g_ema,
    'nested': {'a': {'b': {'c': torch.randn(2)}}, 'n': 1},
    'list': [torch.randn(2), torch.randn(3).half()],
    'tied': [tied, tied],
    'param': nn.Parameter(torch.randn(2, 2)),
    'frozen_param': nn.Parameter(torch.randn(2), requires_grad=False),
    'py': {
        'int': 7, 'neg': -300, 'i32min': -2**31, 'big': 2**40, 'huge': 2**70, 'neghuge': -2**70,
        'float': 0.1, 'negzero': -0.0, 'inf': float('inf'), 'nan': float('nan'), 'str': 'h\u00e9llo \u2713 \U0001d11e', 'empty_str': '',
        'none': None, 'true': True, 'false': False, 'tuple': (1, 'two', 3.0), 'empty_tuple': (), 'nested_list': [1, [2, [3, []]]],
        'set': {1, 2, 3}, 'frozenset': frozenset({'a'}), 'bytes': b'\x00\xffab', 'empty_bytes': b'', 'bytearray': bytearray(b'xy'),
        'int_keys': {1: 'one', 2: 'two'}, 'tuple_key': {(1, 2): 'pair'},
    },
    'ema': Ema(list(net.parameters())[:2], 0.999),
    'model': net,
    'dtype': torch.float16,
    'size': torch.Size([2, 3]),
    'args': argparse.Namespace(lr=0.1, name='run', betas=(0.9, 0.99)),
    'od': collections.OrderedDict([('z', 1), ('a', 2)]),
}
expected = {'root': enc(ckpt), 'flat': walk(ckpt, '', []), 'files': {}}

saves = {
    'zip-p2.pt': {}, 'zip-p4.pt': {'pickle_protocol': 4}, 'zip-p5.pt': {'pickle_protocol': 5},
    'legacy-p1.pt': {'_use_new_zipfile_serialization': False, 'pickle_protocol': 1},
    'legacy-p2.pt': {'_use_new_zipfile_serialization': False},
    'legacy-p4.pt': {'_use_new_zipfile_serialization': False, 'pickle_protocol': 4},
    'legacy-p5.pt': {'_use_new_zipfile_serialization': False, 'pickle_protocol': 5},
}
for name, kw in saves.items():
    torch.save(ckpt, P(name), **kw)

# ── rewrites of the zip (what a download or another zip tool can produce)
src = zipfile.ZipFile(P('zip-p2.pt'))
names = src.namelist()
prefix = names[0].split('/')[0] + '/'
expected['prefix'] = prefix
def rewrite(dest, compression=zipfile.ZIP_STORED, force_zip64=False, skip=(), add=(), fileobj=None):
    zf = zipfile.ZipFile(fileobj or P(dest), 'w', compression)
    for n in names:
        if n in skip: continue
        info = zipfile.ZipInfo(n); info.compress_type = compression
        with zf.open(info, 'w', force_zip64=force_zip64) as w: w.write(src.read(n))
    for n, data in add: zf.writestr(n, data)
    zf.close()
rewrite('deflated.pt', compression=zipfile.ZIP_DEFLATED)
assert zipfile.ZipFile(P('deflated.pt')).infolist()[0].compress_type == zipfile.ZIP_DEFLATED
rewrite('zip64-local.pt', force_zip64=True)
rewrite('little.pt', add=[(prefix + 'byteorder', 'little')])
rewrite('bigendian.pt', add=[(prefix + 'byteorder', 'big')])
rewrite('missing.pt', skip=(prefix + 'data/0',))
# 4.4 GB of (sparse) data in front: the central directory lies past 4 GiB, so zipfile writes zip64 offsets in the
# central directory and the zip64 end-of-central-directory record and locator.
with open(P('zip64-offset.pt'), 'wb') as f:
    f.seek(4_400_000_000)
    rewrite(None, fileobj=f)
st = os.stat(P('zip64-offset.pt'))
assert st.st_size > 2**32 and st.st_blocks * 512 < 64 << 20, 'the zip64-offset fixture is not sparse'

def write_all_zip64(dest):
    # Every size and offset in both headers is 0xFFFFFFFF with the real values in zip64 extra fields, plus the zip64
    # end-of-central-directory record and locator (what a > 4 GiB checkpoint has), verified with Python's zipfile.
    central = []
    with open(P(dest), 'wb') as f:
        for n in names:
            data, name = src.read(n), n.encode()
            crc, off = zlib.crc32(data), f.tell()
            extra = struct.pack('<HHQQ', 1, 16, len(data), len(data))
            f.write(struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)))
            f.write(name + extra + data)
            central.append((name, crc, len(data), off))
        cd = f.tell()
        for name, crc, size, off in central:
            extra = struct.pack('<HHQQQ', 1, 24, size, size, off)
            f.write(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF))
            f.write(name + extra)
        z64 = f.tell()
        f.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(central), len(central), z64 - cd, cd))
        f.write(struct.pack('<IIQI', 0x07064b50, 0, z64, 1))
        f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    zf = zipfile.ZipFile(P(dest))
    assert zf.testzip() is None and zf.namelist() == names
    assert zf.getinfo(names[1]).header_offset == central[1][3]
write_all_zip64('zip64-full.pt')

# ── lazy reading: a 4 MiB tensor that stays on disk until asked for
big = torch.randn(1 << 20)
lazy = {'small': torch.arange(4.), 'big': big}
torch.save(lazy, P('lazy-zip.pt'))
torch.save(lazy, P('lazy-legacy.pt'), _use_new_zipfile_serialization=False)
expected['lazy'] = {'big_sha256': hashlib.sha256(big.numpy().tobytes()).hexdigest(), 'small': raw(lazy['small'])}

# ── malicious pickles: their payloads create marker files when unpickled by Python
m1, m2, m3 = P('pwned-system'), P('pwned-eval'), P('pwned-raw')
evil = {'system': EvilSystem('touch ' + m1), 'eval': EvilEval('open(%r, "w").close()' % m2), 'weight': torch.ones(2)}
torch.save(evil, P('evil-zip.pt'))
torch.save(evil, P('evil-legacy.pt'), _use_new_zipfile_serialization=False)
raw_payload = b'\x80\x02}q\x00(X\x03\x00\x00\x00cmdcos\nsystem\nq\x01X' + struct.pack('<I', len('touch ' + m3)) + ('touch ' + m3).encode() + b'\x85Rq\x02u.'
with zipfile.ZipFile(P('evil-raw.pt'), 'w') as zf:
    zf.writestr('evil/data.pkl', raw_payload); zf.writestr('evil/version', '3\n')
live = []
for f in ('evil-zip.pt', 'evil-legacy.pt'):
    torch.load(P(f))
    live.append(os.path.exists(m1) and os.path.exists(m2))
    for m in (m1, m2):
        if os.path.exists(m): os.remove(m)
pickle.loads(raw_payload)
live.append(os.path.exists(m3))
os.remove(m3)
expected['evil'] = {'live': live, 'markers': [m1, m2, m3], 'system_cmd': 'touch ' + m1, 'eval_code': 'open(%r, "w").close()' % m2}

# ── plain pickles in every protocol, for readPickle
plain = {
    'py': ckpt['py'], 'od': collections.OrderedDict([('b', 1), ('a', [1.5, None])]), 'point': Point(1, 'y'),
    'nested': [(), ((),), {'k': {'j': frozenset()}}], 'long_str': 'x' * 300, 'many': list(range(300)),
}
for proto in range(6):
    with open(P('plain-p%d.pkl' % proto), 'wb') as f: pickle.dump(plain, f, protocol=proto)
expected['plain'] = enc(plain)
# tensors pickled by plain pickle (no torch.save): storages travel as embedded legacy checkpoints
tp = {'t': torch.arange(6.).reshape(2, 3)[:, 1:], 's': torch.arange(3).storage()}
with open(P('tensor-pickle.pkl'), 'wb') as f: pickle.dump(tp, f, protocol=2)
expected['tensor_pickle'] = enc(tp['t'])
cyc = [1]; cyc.append(cyc)
with open(P('cycle.pkl'), 'wb') as f: pickle.dump(cyc, f, protocol=2)

for f in os.listdir(out):
    expected['files'][f] = os.path.getsize(P(f))
with open(P('expected.json'), 'w') as f: json.dump(expected, f)
`;

interface TensorInfo { dtype: string; shape: number[]; stride: number[]; offset: number; raw: string; f32: string; i64: string | null; param: boolean; requires_grad: boolean }
type Enc = null | boolean | string | { int: string } | { float: string } | { bytes: string } | { tensor: TensorInfo } | { dtype: string }
  | { tuple: Enc[] } | { list: Enc[] } | { odict: [Enc, Enc][]; attrs?: Enc } | { dict: [Enc, Enc][] } | { set: Enc[] } | { object: string; state: Enc };
interface Expected {
  root: Enc; flat: [string, string][]; files: Record<string, number>; prefix: string; plain: Enc; tensor_pickle: Enc;
  lazy: { big_sha256: string; small: string };
  evil: { live: boolean[]; markers: string[]; system_cmd: string; eval_code: string };
}

let fixtureCache: { dir: string; expected: Expected } | Error | null = null;
/** Runs the fixture writer once; a missing torch fails every test that needs it, with what to install. */
function fixtures(): { dir: string; expected: Expected } {
  if (!fixtureCache) {
    const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      fixtureCache = new Error(`${PYTHON} with torch is needed to write the test checkpoints (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}): run apt-get install -y python3-torch`);
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'torch-ckpt-'));
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      const script = join(dir, 'fixtures.py');
      writeFileSync(script, FIXTURE_PY);
      const r = spawnSync(PYTHON, [script, dir], { encoding: 'utf8', timeout: 120_000 });
      fixtureCache = r.status === 0
        ? { dir, expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected }
        : new Error(`the fixture script failed (status ${r.status}):\n${r.stderr}`);
    }
  }
  if (fixtureCache instanceof Error) throw fixtureCache;
  return fixtureCache;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f64hex = (v: number): string => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return b.toString('hex'); };

/** Compares a value read here with what Python encoded, bit-exactly; `where` names the path in failures. */
function check(exp: Enc, act: PyValue | undefined, where: string): void {
  const fail = (what: string): never => assert.fail(`${where}: ${what}`);
  if (exp === null) { if (act !== null) fail(`expected None, got ${String(act)}`); return; }
  if (typeof exp === 'boolean' || typeof exp === 'string') { assert.equal(act, exp, where); return; }
  if ('int' in exp) {
    if (typeof act !== 'number' && typeof act !== 'bigint') fail(`expected int ${exp.int}, got ${typeof act}`);
    assert.equal(BigInt(act as number | bigint), BigInt(exp.int), where);
    assert.equal(typeof act, Number.isSafeInteger(Number(exp.int)) && BigInt(Number(exp.int)) === BigInt(exp.int) ? 'number' : 'bigint', `${where}: int representation`);
    return;
  }
  if ('float' in exp) {
    if (typeof act !== 'number') fail(`expected a float, got ${typeof act}`);
    if (f64hex(act as number) !== exp.float && !(Number.isNaN(act) && exp.float.startsWith('7ff8'))) fail(`float bits ${f64hex(act as number)} ≠ ${exp.float}`);
    return;
  }
  if ('bytes' in exp) { if (!(act instanceof Uint8Array)) fail('expected bytes'); assert.equal(hex(act as Uint8Array), exp.bytes, where); return; }
  if ('dtype' in exp) { if (!(act instanceof TorchDtype)) fail('expected a dtype'); assert.equal((act as TorchDtype).name, exp.dtype, where); return; }
  if ('tensor' in exp) { checkTensor(exp.tensor, act, where); return; }
  if ('tuple' in exp || 'list' in exp) {
    const items = 'tuple' in exp ? exp.tuple : exp.list;
    if (!Array.isArray(act)) fail(`expected a ${'tuple' in exp ? 'tuple' : 'list'}, got ${String(act)}`);
    assert.equal(isTuple(act), 'tuple' in exp, `${where}: tuple vs list`);
    assert.equal((act as PyValue[]).length, items.length, `${where}: length`);
    items.forEach((e, i) => check(e, (act as PyValue[])[i], `${where}[${i}]`));
    return;
  }
  if ('dict' in exp || 'odict' in exp) {
    if (!(act instanceof PyDict)) fail(`expected a dict, got ${String(act)}`);
    const d = act as PyDict;
    assert.equal(d.className, 'odict' in exp ? 'collections.OrderedDict' : 'dict', `${where}: dict class`);
    const items = 'odict' in exp ? exp.odict : exp.dict;
    const entries = [...d];
    assert.equal(entries.length, items.length, `${where}: dict size`);
    items.forEach(([k, v], i) => { check(k, entries[i][0], `${where} key ${i}`); check(v, entries[i][1], `${where}.${String(entries[i][0])}`); });
    if ('odict' in exp && exp.attrs) check(exp.attrs, d.attributes, `${where} attributes`);
    return;
  }
  if ('set' in exp) {
    if (!(act instanceof Set)) fail('expected a set');
    const items = [...(act as Set<PyValue>)];
    assert.equal(items.length, exp.set.length, `${where}: set size`);
    exp.set.forEach((e, i) => check(e, items[i], `${where}{${i}}`));
    return;
  }
  if ('object' in exp) {
    if (!(act instanceof PyObject)) fail(`expected a placeholder for ${exp.object}, got ${String(act)}`);
    assert.equal((act as PyObject).$class, exp.object, `${where}: class`);
    check(exp.state, (act as PyObject).state, `${where}.<state>`);
    return;
  }
  fail(`unknown expectation ${JSON.stringify(exp)}`);
}

function checkTensor(exp: TensorInfo, act: PyValue | undefined, where: string): void {
  if (!(act instanceof TorchTensor)) assert.fail(`${where}: expected a tensor, got ${String(act)}`);
  const t = act as TorchTensor;
  assert.equal(t.dtype, exp.dtype, `${where}: dtype`);
  assert.deepEqual([...t.shape], exp.shape, `${where}: shape`);
  if (t.numel > 0) assert.deepEqual([...t.stride], exp.stride, `${where}: stride`);
  assert.equal(t.storageOffset, exp.offset, `${where}: storage offset`);
  assert.equal(t.isParameter, exp.param, `${where}: parameter`);
  assert.equal(t.requiresGrad, exp.requires_grad, `${where}: requires_grad`);
  assert.equal(hex(t.bytes()), exp.raw, `${where}: bytes`);
  assert.equal(hex(bytesOf(t.toFloat32())), exp.f32, `${where}: toFloat32 vs torch .float()`);
  if (exp.i64 !== null) {
    assert.equal(hex(bytesOf(t.toBigInt64())), exp.i64, `${where}: toBigInt64 vs torch .long()`);
    const i64 = t.toBigInt64();
    if (i64.every((v) => v >= -2147483648n && v <= 2147483647n)) assert.deepEqual([...t.toInt32()], [...i64].map(Number), `${where}: toInt32`);
    else assert.throws(() => t.toInt32(), /outside int32/, `${where}: toInt32 out of range`);
  }
}

function checkCheckpoint(file: string, format: 'zip' | 'legacy'): void {
  const { dir, expected } = fixtures();
  const ckpt = readCheckpoint(join(dir, file));
  try {
    assert.equal(ckpt.format, format);
    check(expected.root, ckpt.value, file);
    // flattened keys, in order, and their bytes
    const flat = flattenTensors(ckpt.value);
    assert.deepEqual([...flat.keys()], expected.flat.map(([k]) => k), `${file}: flattened keys`);
    for (const [k, raw] of expected.flat) assert.equal(hex((flat.get(k) as TorchTensor).bytes()), raw, `${file}: ${k}`);
    // views share their storage
    const a = pyGet(ckpt.value, 'views', 'slice_a') as TorchTensor, b = pyGet(ckpt.value, 'views', 'slice_b') as TorchTensor;
    assert.equal(a.storage, b.storage, `${file}: slices share one storage`);
    assert.equal(a.storage.numel, 20);
    const [t0, t1] = pyGet(ckpt.value, 'tied') as TorchTensor[];
    assert.equal(t0, t1, `${file}: the same tensor twice is one object`);
    // the state_dict keeps its keys and order; placeholders keep their state
    assert.deepEqual([...(pyGet(ckpt.value, 'g_ema') as PyDict).keys()].slice(0, 3), ['0.weight', '0.bias', '1.weight']);
    const ema = pyGet(ckpt.value, 'ema') as PyObject;
    assert.equal(ema.$class, '__main__.Ema');
    assert.equal(pyGet(ema, 'decay'), 0.999);
    assert.equal((pyGet(ema, 'shadow_params') as TorchTensor[]).length, 2);
    assert.ok(flat.has('ema.shadow_params.1') && flat.has('model.head.2.weight') && !flat.has('model.scratch'));
  } finally {
    ckpt.close();
  }
}

for (const [file, format] of [
  ['zip-p2.pt', 'zip'], ['zip-p4.pt', 'zip'], ['zip-p5.pt', 'zip'],
  ['legacy-p1.pt', 'legacy'], ['legacy-p2.pt', 'legacy'], ['legacy-p4.pt', 'legacy'], ['legacy-p5.pt', 'legacy'],
] as const) {
  test(`torch.save ${file}: every value, tensor and view reads back bit-exactly`, () => checkCheckpoint(file, format));
}

test('zip variants: deflated entries, zip64 extra fields, all-zip64 headers, data in front (past 4 GiB; unfixed offsets), byteorder "little"', () => {
  const { dir, expected } = fixtures();
  assert.ok(expected.files['zip64-offset.pt'] > 2 ** 32);
  // bytes glued in front of a zip without fixing its offsets (`cat stub.bin model.pt`): offsets are relative to the zip
  writeFileSync(join(dir, 'prepended.pt'), Buffer.concat([Buffer.alloc(1000, 7), readFileSync(join(dir, 'zip-p2.pt'))]));
  for (const f of ['deflated.pt', 'zip64-local.pt', 'zip64-full.pt', 'zip64-offset.pt', 'little.pt', 'prepended.pt']) checkCheckpoint(f, 'zip');
  const ckpt = readCheckpoint(join(dir, 'zip64-offset.pt'));
  try {
    assert.ok(ckpt.bytesRead < 1 << 20, `read ${ckpt.bytesRead} bytes of a 4.4 GB file`);
    ckpt.verify();
  } finally { ckpt.close(); }
});

test('tensor data is read lazily, only when asked for, and only the bytes a view covers', () => {
  const { dir, expected } = fixtures();
  for (const f of ['lazy-zip.pt', 'lazy-legacy.pt']) {
    const ckpt = readCheckpoint(join(dir, f));
    try {
      const size = statSync(join(dir, f)).size;
      assert.ok(size > 4 << 20);
      assert.ok(ckpt.bytesRead < 256 << 10, `${f}: opening read ${ckpt.bytesRead} bytes`);
      const before = ckpt.bytesRead;
      assert.equal(hex((pyGet(ckpt.value, 'small') as TorchTensor).bytes()), expected.lazy.small);
      // 16 bytes of data (and, the first time a zip entry is touched, its 30-byte local header)
      assert.ok(ckpt.bytesRead - before >= 16 && ckpt.bytesRead - before <= 16 + 30 + 64, `${f}: a 4-element tensor read ${ckpt.bytesRead - before} bytes`);
      const big = pyGet(ckpt.value, 'big') as TorchTensor;
      assert.equal(createHash('sha256').update(big.bytes()).digest('hex'), expected.lazy.big_sha256);
      assert.ok(ckpt.bytesRead >= 4 << 20);
    } finally { ckpt.close(); }
  }
});

test('malicious pickles (os.system, builtins.eval via GLOBAL+REDUCE) never run and come back as placeholders', () => {
  const { dir, expected } = fixtures();
  assert.deepEqual(expected.evil.live, [true, true, true], 'the payloads do run under Python (proof they are live)');
  for (const f of ['evil-zip.pt', 'evil-legacy.pt']) {
    const ckpt = readCheckpoint(join(dir, f));
    try {
      const sys = pyGet(ckpt.value, 'system') as PyObject;
      assert.ok(sys instanceof PyObject);
      assert.equal(sys.$class, 'posix.system');
      assert.deepEqual(sys.args, [expected.evil.system_cmd]);
      const ev = pyGet(ckpt.value, 'eval') as PyObject;
      assert.equal(ev.$class, 'builtins.eval');
      assert.deepEqual(ev.args, [expected.evil.eval_code]);
      assert.deepEqual([...(pyGet(ckpt.value, 'weight') as TorchTensor).toFloat32()], [1, 1]);
      ckpt.verify();
    } finally { ckpt.close(); }
  }
  const raw = readCheckpoint(join(dir, 'evil-raw.pt'));
  const cmd = pyGet(raw.value, 'cmd') as PyObject;
  raw.close();
  assert.equal(cmd.$class, 'os.system');
  assert.match(String(cmd.args[0]), /^touch /);
  for (const m of expected.evil.markers) assert.ok(!existsSync(m), `${m} was created: a payload ran`);
});

function rejects(file: string | Uint8Array, code: string, message: RegExp, name?: string): CheckpointError {
  let err: unknown;
  try { readCheckpoint(file, name ? { name } : {}).close(); } catch (e) { err = e; }
  assert.ok(err instanceof CheckpointError, `expected a CheckpointError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  assert.ok(err.message.startsWith(`${name ?? (typeof file === 'string' ? file : '<memory>')}: `), `the message names the file: ${err.message}`);
  return err;
}

test('truncated downloads say where the file ends and how long it should be', () => {
  const { dir, expected } = fixtures();
  const zip = readFileSync(join(dir, 'zip-p2.pt'));
  const cut = join(dir, 'cut-zip.pt');
  writeFileSync(cut, zip.subarray(0, zip.length >> 1));
  rejects(cut, 'truncated', new RegExp(`ends at byte ${zip.length >> 1}, expected at least \\d+.*download it again`));
  const legacy = readFileSync(join(dir, 'legacy-p2.pt'));
  const cutStorages = join(dir, 'cut-legacy.pt');
  writeFileSync(cutStorages, legacy.subarray(0, legacy.length - 10));
  // the storages' sizes are known from the pickle, so the expected length is exact
  rejects(cutStorages, 'truncated', new RegExp(`ends at byte ${legacy.length - 10}, expected ${expected.files['legacy-p2.pt']}: .*download it again`));
  const cutPickle = join(dir, 'cut-pickle.pt');
  writeFileSync(cutPickle, legacy.subarray(0, 300));
  rejects(cutPickle, 'truncated', /ends at byte 300, expected at least 30\d: .*download it again/);
});

test('files that are not checkpoints say what they are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'torch-ckpt-bad-'));
  try {
    const write = (name: string, data: string | Uint8Array): string => { const p = join(dir, name); writeFileSync(p, data); return p; };
    rejects(write('page.pt', '<!DOCTYPE html>\n<html><head><title>Sign in - Google Accounts</title></head><body>…</body></html>'),
      'not-checkpoint', /HTML page \("Sign in - Google Accounts"\).*download it again/);
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const st = Buffer.concat([Buffer.alloc(8), header, Buffer.alloc(4)]);
    st.writeBigUInt64LE(BigInt(header.length));
    rejects(write('model.safetensors', st), 'not-checkpoint', /safetensors file/);
    rejects(write('lfs.pt', 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n'), 'not-checkpoint', /Git LFS pointer/);
    rejects(write('empty.pt', ''), 'not-checkpoint', /empty/);
    rejects(write('error.pt', '{"error": "rate limited"}'), 'not-checkpoint', /JSON.*rate limited/);
    rejects(write('noise.pt', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])), 'not-checkpoint', /starts with bytes 01 02 03/);
    rejects(Buffer.from('\x80\x02K\x05.', 'latin1'), 'not-checkpoint', /not one torch\.save wrote/, 'plain.pkl');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('big-endian checkpoints, missing storages and unknown opcodes fail clearly', () => {
  const { dir, expected } = fixtures();
  rejects(join(dir, 'bigendian.pt'), 'big-endian', /big-endian machine.*save it again/);
  // legacy: flip sys_info's little_endian True to False
  const legacy = Buffer.from(readFileSync(join(dir, 'legacy-p2.pt')));
  const at = legacy.indexOf('little_endian');
  const t = legacy.indexOf(0x88, at);
  assert.ok(at > 0 && t - at < 20);
  legacy[t] = 0x89;
  rejects(legacy, 'big-endian', /big-endian machine/, 'be-legacy.pt');
  rejects(join(dir, 'missing.pt'), 'missing-storage', new RegExp(`${expected.prefix}data/0 .*missing from the zip.*download it again`));
  let err: unknown;
  try { readPickle(Uint8Array.from([0x80, 0x02, 0x7d, 0xff, 0x2e]), { file: 'x.pt', label: 'data.pkl' }); } catch (e) { err = e; }
  assert.ok(err instanceof CheckpointError && err.code === 'unknown-opcode');
  assert.match(err.message, /^x\.pt: unknown pickle opcode 0xff at byte 3 of data\.pkl/);
});

test('readPickle: plain pickles of protocols 0–5 read the same, with placeholders for classes; pickle.dumps tensors; cycles are kept', () => {
  const { dir, expected } = fixtures();
  for (let p = 0; p <= 5; p++) {
    const v = readPickle(readFileSync(join(dir, `plain-p${p}.pkl`)), { file: `plain-p${p}.pkl` });
    check(expected.plain, v, `protocol ${p}`);
    const point = pyGet(v, 'point') as PyObject;
    assert.equal(point.$class, '__main__.Point');
    assert.equal(pyGet(point, 'y'), 'y');
    assert.equal(pyGet(v, 'py', 'int_keys', '2'), 'two');
  }
  const tp = readPickle(readFileSync(join(dir, 'tensor-pickle.pkl')));
  check(expected.tensor_pickle, pyGet(tp, 't'), 'pickle.dumps tensor');
  const storage = pyGet(tp, 's') as TorchStorage;
  assert.ok(storage instanceof TorchStorage && storage.dtype === 'int64' && storage.numel === 3);
  assert.deepEqual([...new BigInt64Array(storage.readBytes().buffer)], [0n, 1n, 2n]);
  const cyc = readPickle(readFileSync(join(dir, 'cycle.pkl'))) as PyValue[];
  assert.equal(cyc[1], cyc);
  assert.equal(flattenTensors(cyc).size, 0);
  // a class reference used as a value stays a reference
  const g = readPickle(Buffer.from('\x80\x02cargparse\nNamespace\nq\x00.', 'latin1'));
  assert.ok(g instanceof PyGlobal && g.fullName === 'argparse.Namespace');
});
