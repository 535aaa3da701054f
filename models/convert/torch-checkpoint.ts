// Reading PyTorch checkpoints (what `torch.save` writes) in TypeScript, without Python and without executing anything:
// the first step of installing an official checkpoint (StyleSwin, GRAM, SimMIM, VQ-Diffusion, TTVSR) on a machine
// that has no Python. A checkpoint is untrusted input: its pickle is interpreted by a small virtual machine that knows
// a fixed allow-list of globals (OrderedDict, torch's tensor/parameter rebuild functions, storage classes, dtypes,
// torch.Size, set/frozenset, bytes); every other global — a config class, an EMA helper, a whole nn.Module, or
// `os.system` — becomes an inert placeholder (`PyObject`) carrying its constructor arguments and state, so callers can
// dig out what they need and nothing ever runs.
//
// Formats:
//  - zip (torch ≥ 1.6 default): `<name>/data.pkl` (the object; tensors refer to storages by persistent id),
//    `<name>/data/<key>` (raw little-endian storage bytes), `<name>/version`, optionally `<name>/byteorder`.
//    Stored or deflated entries, zip64 (local and central extra fields, the zip64 end-of-central-directory record),
//    read with positioned reads: a multi-GB file is never loaded whole.
//  - legacy (`_use_new_zipfile_serialization=False`, torch < 1.6): the magic-number pickle, the protocol-version
//    pickle, the sys_info pickle, the object's pickle (persistent ids `('storage', type, key, location, numel,
//    view)` and, for pickled nn.Module classes, `('module', class, file, source)`), the pickle of the storage keys, then
//    per key an 8-byte little-endian element count followed by the raw bytes.
//
// Tensors are lazy: nothing of a storage is read until a tensor's data is asked for, and then only the byte range
// that tensor's view covers.
//
// Representation of Python values (PyValue):
//   None → null, bool → boolean, int → number (bigint beyond ±2^53), float → number, str → string,
//   bytes/bytearray → Uint8Array, list → array, tuple (and torch.Size) → frozen array (`isTuple`),
//   dict and collections.OrderedDict → PyDict (a Map keeping insertion order and Python key types; `className` tells
//   which; attributes set on an OrderedDict, e.g. a state_dict's `_metadata`, are in `attributes`), set/frozenset →
//   Set, torch dtypes → TorchDtype, tensors and parameters → TorchTensor, any other object → PyObject, a global used as
//   a value (a class reference) → PyGlobal.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { crc32, inflateRawSync } from 'node:zlib';

// ───────────────────────────────────────────── values ─────────────────────────────────────────────

/** The tensor element types this module materialises and converts. */
export type TensorDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
/** Element types that can be read as raw bytes (`TorchTensor.bytes()`) but not converted. */
export type RawDtype = 'complex64' | 'complex128' | 'qint8' | 'quint8' | 'qint32' | 'float8_e4m3fn' | 'float8_e5m2' | 'uint16' | 'uint32' | 'uint64';
export type AnyDtype = TensorDtype | RawDtype;

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyDict
  | Set<PyValue>
  | PyObject
  | PyGlobal
  | TorchDtype
  | TorchTensor
  | TorchStorage;

/** A Python dict or collections.OrderedDict: insertion-ordered, keys keep their Python types (string, number, …). */
export class PyDict extends Map<PyValue, PyValue> {
  /** 'dict' or 'collections.OrderedDict'. */
  className = 'dict';
  /** Instance attributes restored by BUILD (a state_dict's OrderedDict carries `_metadata` here). */
  attributes: PyValue = null;
}

/** A reference to a Python global (module + name) that was pushed as a value, e.g. a class. Never resolved. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get fullName(): string { return `${this.module}.${this.name}`; }
}

/**
 * An inert placeholder for an object of a class outside the allow-list (or the result of calling a function outside
 * it): the class's dotted name, the arguments it was created or called with, and the state BUILD gave it.
 */
export class PyObject {
  /** Keyword arguments (NEWOBJ_EX / copyreg.__newobj_ex__). */
  kwargs: PyDict | null = null;
  /** Items set on it with SETITEM(S) (a dict subclass). */
  items: PyDict | null = null;
  /** Items appended with APPEND(S) (a list subclass). */
  list: PyValue[] | null = null;
  constructor(readonly $class: string, public args: PyValue[] = [], public state: PyValue = null) {}
}

/** A torch dtype value (`torch.float32` …), as found in checkpoints that store dtypes. */
export class TorchDtype {
  constructor(readonly name: string) {}
}

const ITEM_SIZE: Record<AnyDtype, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
  complex64: 8, complex128: 16, qint8: 1, quint8: 1, qint32: 4, float8_e4m3fn: 1, float8_e5m2: 1, uint16: 2, uint32: 4, uint64: 8,
};
export const itemSize = (dtype: AnyDtype): number => ITEM_SIZE[dtype];

/** torch dtype global names (`torch.<name>`) → element type. */
const DTYPE_GLOBALS: Record<string, AnyDtype> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16', float64: 'float64',
  double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool', complex64: 'complex64', cfloat: 'complex64', complex128: 'complex128',
  cdouble: 'complex128', qint8: 'qint8', quint8: 'quint8', qint32: 'qint32', float8_e4m3fn: 'float8_e4m3fn',
  float8_e5m2: 'float8_e5m2', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
};

/** Storage class names (in `torch`, `torch.cuda`, `torch.storage`) → element type. */
const STORAGE_TYPES: Record<string, AnyDtype> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', ComplexFloatStorage: 'complex64', ComplexDoubleStorage: 'complex128', QInt8Storage: 'qint8',
  QUInt8Storage: 'quint8', QInt32Storage: 'qint32', UntypedStorage: 'uint8', _UntypedStorage: 'uint8',
};

/** True for a tuple (tuples are frozen arrays; lists are ordinary arrays). */
export const isTuple = (v: PyValue | undefined): v is PyValue[] => Array.isArray(v) && Object.isFrozen(v);
const tuple = (items: PyValue[]): PyValue[] => Object.freeze(items) as PyValue[];

// ───────────────────────────────────────────── errors ─────────────────────────────────────────────

export type CheckpointErrorCode =
  | 'not-checkpoint' | 'truncated' | 'big-endian' | 'unknown-opcode' | 'missing-storage' | 'malformed' | 'unsupported' | 'corrupt';

/** Every failure names the file and says what to do. */
export class CheckpointError extends Error {
  constructor(readonly code: CheckpointErrorCode, readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

// ───────────────────────────────────────────── byte sources ─────────────────────────────────────────────

interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Bytes read so far (for checking laziness). */
  bytesRead: number;
  /** A fresh copy of [position, position + length); throws 'truncated' past the end. */
  read(position: number, length: number): Uint8Array;
  close(): void;
}

const READ_CHUNK = 1 << 30;

class FileSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  bytesRead = 0;
  private fd: number | null;
  constructor(readonly path: string, name?: string) {
    this.name = name ?? path;
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }
  read(position: number, length: number): Uint8Array {
    if (position + length > this.size) throw truncatedError(this.name, this.size, position + length, true);
    if (this.fd === null) this.fd = openSync(this.path, 'r');
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, Math.min(length - done, READ_CHUNK), position + done);
      if (n === 0) throw new CheckpointError('truncated', this.name, `the file ended at byte ${position + done} while reading (it shrank while open?): download it again`);
      done += n;
    }
    this.bytesRead += length;
    return out;
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

class MemorySource implements ByteSource {
  bytesRead = 0;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {}
  get size(): number { return this.bytes.length; }
  read(position: number, length: number): Uint8Array {
    if (position + length > this.size) throw truncatedError(this.name, this.size, position + length, true);
    this.bytesRead += length;
    return this.bytes.slice(position, position + length);
  }
  close(): void {}
}

function truncatedError(file: string, size: number, expected: number, atLeast: boolean): CheckpointError {
  return new CheckpointError('truncated', file,
    `the file ends at byte ${size}, expected ${atLeast ? 'at least ' : ''}${expected}: the download was cut short, download it again`);
}

/** Sequential reads over a source, buffered in chunks (pickles are read this way, even from a multi-GB file). */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  /** Grows from 64 KiB to 16 MiB, so a small pickle in front of gigabytes of storages reads little more than itself. */
  private chunk = 1 << 16;
  pos: number;
  constructor(private readonly src: ByteSource, start: number, public label: string, private readonly onEnd: (needed: number) => Error) {
    this.pos = start;
  }
  private ensure(n: number): void {
    const end = this.pos + n;
    if (this.pos >= this.bufStart && end <= this.bufStart + this.buf.length) return;
    if (end > this.src.size) throw this.onEnd(end);
    const len = Math.min(Math.max(n, this.chunk), this.src.size - this.pos);
    this.chunk = Math.min(this.chunk * 2, 1 << 24);
    this.buf = this.src.read(this.pos, len);
    this.bufStart = this.pos;
  }
  u8(): number {
    this.ensure(1);
    return this.buf[this.pos++ - this.bufStart];
  }
  bytes(n: number): Uint8Array {
    if (n < 0 || !Number.isSafeInteger(n)) throw this.onEnd(Number.MAX_SAFE_INTEGER);
    this.ensure(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.slice(o, o + n);
  }
  u16(): number { const b = this.bytes(2); return b[0] | (b[1] << 8); }
  u32(): number { const b = this.bytes(4); return (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 0x1000000; }
  i32(): number { const b = this.bytes(4); return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24); }
  u64(): number {
    const lo = this.u32(), hi = this.u32();
    if (hi >= 0x200000) throw this.onEnd(Number.MAX_SAFE_INTEGER);
    return hi * 0x100000000 + lo;
  }
  /** A line up to (not including) '\n', as latin-1 text. */
  line(): string {
    let s = '';
    for (;;) {
      const c = this.u8();
      if (c === 0x0a) return s;
      s += String.fromCharCode(c);
      if (s.length > 1 << 20) throw new Error(`a text line longer than 1 MiB at byte ${this.pos} of ${this.label}`);
    }
  }
}

// ───────────────────────────────────────────── pickle ─────────────────────────────────────────────

export interface PickleOptions {
  /** Resolves a persistent id (BINPERSID / PERSID); by default it becomes `PyObject('$persistent', [pid])`. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** The file name used in error messages. */
  file?: string;
  /** What is being read, for error messages (e.g. 'data.pkl'). */
  label?: string;
}

const utf8 = new TextDecoder('utf-8');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const latin1 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
};
/** Python 2 `str` (BINSTRING …): torch.load decodes these as UTF-8; undecodable ones stay bytes. */
const py2str = (b: Uint8Array): string | Uint8Array => {
  try { return utf8Fatal.decode(b); } catch { return b; }
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const intValue = (v: bigint): number | bigint => (v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v);

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return intValue(v);
}

function parseTextInt(s: string): number | bigint | null {
  const t = s.endsWith('L') ? s.slice(0, -1) : s;
  if (!/^[+-]?\d+$/.test(t)) return null;
  return intValue(BigInt(t));
}

function parseTextFloat(s: string): number | null {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
  const v = Number(t);
  return Number.isNaN(v) ? null : v;
}

/** Python 2 string-escape (the STRING opcode's quoted repr) → bytes. */
function unescapeString(quoted: string): Uint8Array | null {
  const q = quoted[0];
  if (quoted.length < 2 || (q !== "'" && q !== '"') || quoted[quoted.length - 1] !== q) return null;
  const s = quoted.slice(1, -1);
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '\n': -1 };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') { out.push(s.charCodeAt(i) & 0xff); continue; }
    const d = s[++i];
    if (d === undefined) { out.push(92); break; }
    if (d in simple) { if (simple[d] >= 0) out.push(simple[d]); continue; }
    if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; continue; }
    const oct = /^[0-7]{1,3}/.exec(s.slice(i));
    if (oct) { out.push(parseInt(oct[0], 8) & 0xff); i += oct[0].length - 1; continue; }
    out.push(92, s.charCodeAt(i) & 0xff);
  }
  return Uint8Array.from(out);
}

/** Python's raw-unicode-escape (the UNICODE opcode): latin-1 with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8) as string, 16)));
}

const normaliseModule = (m: string): string => (m === '__builtin__' ? 'builtins' : m === 'copy_reg' ? 'copyreg' : m);

/** GLOBAL / STACK_GLOBAL / INST: dtypes become values at once; everything else stays a reference. */
function resolveGlobal(module: string, name: string): PyValue {
  const mod = normaliseModule(module);
  if (mod === 'torch' && Object.hasOwn(DTYPE_GLOBALS, name)) return new TorchDtype(DTYPE_GLOBALS[name]);
  return new PyGlobal(mod, name);
}

type Builder = (args: PyValue[], kwargs: PyDict | null) => PyValue;

const iterItems = (v: PyValue | undefined): PyValue[] =>
  Array.isArray(v) ? v : v instanceof Set ? [...v] : v instanceof PyDict ? [...v.keys()] : v instanceof Uint8Array ? [...v] : [];

function dictFrom(className: string, init: PyValue | undefined): PyDict {
  const d = new PyDict();
  d.className = className;
  if (init instanceof PyDict) for (const [k, v] of init) d.set(k, v);
  else for (const pair of iterItems(init)) if (Array.isArray(pair) && pair.length === 2) d.set(pair[0], pair[1]);
  return d;
}

function bytesFrom(args: PyValue[]): Uint8Array {
  const [a, enc] = args;
  if (a === undefined || a === null) return new Uint8Array(0);
  if (a instanceof Uint8Array) return a.slice();
  if (typeof a === 'string') {
    const e = typeof enc === 'string' ? enc.toLowerCase().replace(/[-_]/g, '') : 'latin1';
    if (e === 'latin1' || e === 'iso88591') return Uint8Array.from(a, (c) => c.charCodeAt(0) & 0xff);
    return new TextEncoder().encode(a);
  }
  return Uint8Array.from(iterItems(a), (x) => Number(x) & 0xff);
}

/** Allow-listed classes: instantiated (REDUCE, NEWOBJ, INST, OBJ) into plain values. */
const CLASSES: Record<string, Builder> = {
  'collections.OrderedDict': (a) => dictFrom('collections.OrderedDict', a[0]),
  'builtins.dict': (a) => dictFrom('dict', a[0]),
  'builtins.set': (a) => new Set(iterItems(a[0])),
  'builtins.frozenset': (a) => new Set(iterItems(a[0])),
  'builtins.list': (a) => [...iterItems(a[0])],
  'builtins.tuple': (a) => tuple([...iterItems(a[0])]),
  'builtins.bytes': (a) => bytesFrom(a),
  'builtins.bytearray': (a) => bytesFrom(a),
  'torch.Size': (a) => tuple([...iterItems(a[0])]),
};

/** Allow-listed functions: their effect is rebuilt here (never called). */
const FUNCTIONS: Record<string, Builder> = {
  '_codecs.encode': (a) => bytesFrom(a),
  'torch._utils._rebuild_tensor': (a) => rebuildTensor('torch._utils._rebuild_tensor', a, null),
  'torch._utils._rebuild_tensor_v2': (a) => rebuildTensor('torch._utils._rebuild_tensor_v2', a, null),
  'torch._utils._rebuild_tensor_v3': (a) => rebuildTensor('torch._utils._rebuild_tensor_v3', a, a[6] instanceof TorchDtype ? a[6].name : null),
  'torch._utils._rebuild_parameter': (a) => rebuildParameter('torch._utils._rebuild_parameter', a, null),
  'torch._utils._rebuild_parameter_with_state': (a) => rebuildParameter('torch._utils._rebuild_parameter_with_state', a, a[3] ?? null),
  'torch._tensor._rebuild_from_type_v2': (a) => rebuildFromType('torch._tensor._rebuild_from_type_v2', a),
  'torch._tensor._rebuild_from_type': (a) => rebuildFromType('torch._tensor._rebuild_from_type', a),
  // A storage pickled outside torch.save (pickle.dumps of a tensor): a whole legacy checkpoint in bytes, read as one.
  'torch.storage._load_from_bytes': (a) =>
    a[0] instanceof Uint8Array ? openLegacy(new MemorySource('<storage pickled by pickle.dumps>', a[0])).value : new PyObject('torch.storage._load_from_bytes', a),
  // copyreg helpers used by protocols 0/1 (and by __reduce_ex__ of plain objects): instances of the class they name.
  'copyreg._reconstructor': (a) => {
    const [cls, base, state] = a;
    const plainBase = !(base instanceof PyGlobal) || base.fullName === 'builtins.object';
    return construct(cls, plainBase || state === null || state === undefined ? [] : [state], null);
  },
  'copyreg.__newobj__': (a) => construct(a[0], a.slice(1), null),
  'copyreg.__newobj_ex__': (a) => construct(a[0], iterItems(a[1]), a[2] instanceof PyDict ? a[2] : null),
};

/** Calling something (REDUCE, INST, OBJ): allow-listed globals are rebuilt, anything else is a placeholder. */
function call(f: PyValue, args: PyValue[]): PyValue {
  if (f instanceof PyGlobal) {
    const name = f.fullName;
    const build = Object.hasOwn(CLASSES, name) ? CLASSES[name] : Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : null;
    return build ? build(args, null) : new PyObject(name, args);
  }
  return new PyObject(`<call of ${describe(f)}>`, args);
}

/** `cls.__new__(cls, *args)` (NEWOBJ): allow-listed classes are rebuilt, any other class is a placeholder. */
function construct(cls: PyValue | undefined, args: PyValue[], kwargs: PyDict | null): PyValue {
  if (cls instanceof PyGlobal) {
    if (Object.hasOwn(CLASSES, cls.fullName)) return CLASSES[cls.fullName](args, kwargs);
    const o = new PyObject(cls.fullName, args);
    o.kwargs = kwargs;
    return o;
  }
  const o = new PyObject(`<instance of ${describe(cls ?? null)}>`, args);
  o.kwargs = kwargs;
  return o;
}

function describe(v: PyValue): string {
  if (v instanceof PyGlobal) return v.fullName;
  if (v instanceof PyObject) return v.$class;
  if (v === null) return 'None';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  return typeof v === 'object' ? v.constructor.name : typeof v;
}

/** BUILD: `inst.__setstate__(state)` or `inst.__dict__.update(state)`, done as data. */
function build(inst: PyValue, state: PyValue): void {
  if (inst instanceof PyObject) {
    if (inst.state instanceof PyDict && state instanceof PyDict) for (const [k, v] of state) inst.state.set(k, v);
    else inst.state = state;
  } else if (inst instanceof PyDict) {
    inst.attributes = state;
  } else if (inst instanceof TorchTensor) {
    inst.state = state;
  }
  // Anything else (a list, a number): Python would fail or ignore; nothing to keep.
}

/**
 * Reads one pickle (up to STOP) from `bytes` with the allow-list above; nothing is ever executed. Unknown opcodes fail
 * with the opcode and byte offset.
 */
export function readPickle(bytes: Uint8Array, options: PickleOptions = {}): PyValue {
  const file = options.file ?? '<pickle>';
  const label = options.label ?? 'the pickle';
  const src = new MemorySource(file, bytes);
  const reader = new ByteReader(src, 0, label, (needed) =>
    new CheckpointError('malformed', file, `${label} ends at byte ${bytes.length} but needs ${needed === Number.MAX_SAFE_INTEGER ? 'more' : needed} bytes: the file is corrupt`));
  return runPickle(reader, file, options.persistentLoad);
}

function runPickle(r: ByteReader, file: string, persistentLoad?: (pid: PyValue) => PyValue): PyValue {
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let at = r.pos;
  const fail = (what: string): CheckpointError =>
    new CheckpointError('malformed', file, `malformed pickle: ${what} (opcode at byte ${at} of ${r.label}); the file is corrupt or not a checkpoint`);
  const floor = (): number => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): PyValue => {
    if (stack.length <= floor()) throw fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length <= floor()) throw fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw fail('no MARK to pop to');
    return stack.splice(m);
  };
  const getMemo = (i: number): PyValue => {
    if (!memo.has(i)) throw fail(`memo entry ${i} was never stored`);
    return memo.get(i) as PyValue;
  };
  const persistent = (pid: PyValue): PyValue => (persistentLoad ? persistentLoad(pid) : new PyObject('$persistent', [pid]));
  const setItems = (target: PyValue, kv: PyValue[]): void => {
    if (kv.length % 2) throw fail('SETITEMS with an odd number of items');
    let d: PyDict;
    if (target instanceof PyDict) d = target;
    else if (target instanceof PyObject) d = target.items ??= dictFrom('dict', undefined);
    else throw fail(`SETITEM on a ${describe(target)}`);
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (Array.isArray(target) && !Object.isFrozen(target)) target.push(...items);
    else if (target instanceof PyObject) (target.list ??= []).push(...items);
    else throw fail(`APPEND on a ${describe(target)}`);
  };
  const asArgs = (v: PyValue): PyValue[] => (Array.isArray(v) ? [...v] : [v]);
  const str = (v: PyValue, what: string): string => {
    if (typeof v === 'string') return v;
    if (v instanceof Uint8Array) return latin1(v);
    throw fail(`${what} is a ${describe(v)}, not a string`);
  };

  for (;;) {
    at = r.pos;
    const op = r.u8();
    try {
      if (step(op)) return stack.pop() as PyValue;
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw new CheckpointError('malformed', file, `${(err as Error).message} (opcode 0x${op.toString(16)} at byte ${at} of ${r.label}); the file is corrupt or not a checkpoint`);
    }
  }

  /** Executes one opcode; true at STOP. */
  function step(op: number): boolean {
    switch (op) {
      case 0x80: { // PROTO
        const v = r.u8();
        if (v > 5) throw new CheckpointError('unsupported', file, `pickle protocol ${v} at byte ${at} of ${r.label} is newer than 5, the newest this reader (and Python 3.8–3.13) knows`);
        break;
      }
      case 0x95: r.u64(); break; // FRAME: frames are a buffering hint only
      case 0x2e: stack.push(pop()); return true; // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: if (stack.length > floor()) stack.pop(); else popMark(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      // ── constants
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(r.i32()); break; // BININT
      case 0x4b: stack.push(r.u8()); break; // BININT1
      case 0x4d: stack.push(r.u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(r.bytes(r.u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = r.i32();
        if (n < 0) throw fail('LONG4 with a negative length');
        stack.push(decodeLong(r.bytes(n)));
        break;
      }
      case 0x49: { // INT (text)
        const s = r.line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else { const v = parseTextInt(s); if (v === null) throw fail(`INT ${JSON.stringify(s)}`); stack.push(v); }
        break;
      }
      case 0x4c: { // LONG (text)
        const s = r.line();
        const v = parseTextInt(s);
        if (v === null) throw fail(`LONG ${JSON.stringify(s)}`);
        stack.push(v);
        break;
      }
      case 0x47: { // BINFLOAT (big-endian)
        const b = r.bytes(8);
        stack.push(new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false));
        break;
      }
      case 0x46: { // FLOAT (text)
        const s = r.line();
        const v = parseTextFloat(s);
        if (v === null) throw fail(`FLOAT ${JSON.stringify(s)}`);
        stack.push(v);
        break;
      }
      // ── strings and bytes
      case 0x58: stack.push(utf8.decode(r.bytes(r.u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8.decode(r.bytes(r.u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8.decode(r.bytes(r.u64()))); break; // BINUNICODE8
      case 0x56: stack.push(rawUnicodeEscape(r.line())); break; // UNICODE (text)
      case 0x54: { // BINSTRING
        const n = r.i32();
        if (n < 0) throw fail('BINSTRING with a negative length');
        stack.push(py2str(r.bytes(n)));
        break;
      }
      case 0x55: stack.push(py2str(r.bytes(r.u8()))); break; // SHORT_BINSTRING
      case 0x53: { // STRING (text)
        const s = r.line().trimEnd();
        const b = unescapeString(s);
        if (!b) throw fail(`STRING ${JSON.stringify(s.slice(0, 40))} is not quoted`);
        stack.push(py2str(b));
        break;
      }
      case 0x42: stack.push(r.bytes(r.u32())); break; // BINBYTES
      case 0x43: stack.push(r.bytes(r.u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(r.bytes(r.u64())); break; // BINBYTES8
      case 0x96: stack.push(r.bytes(r.u64())); break; // BYTEARRAY8
      case 0x97: // NEXT_BUFFER
        throw new CheckpointError('unsupported', file, `the pickle uses out-of-band buffers (NEXT_BUFFER at byte ${at} of ${r.label}), which torch.save never writes: re-save it with torch.save`);
      case 0x98: top(); break; // READONLY_BUFFER: no-op on the top value
      // ── containers
      case 0x7d: stack.push(dictFrom('dict', undefined)); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { // DICT
        const items = popMark();
        const d = dictFrom('dict', undefined);
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (s instanceof Set) for (const x of items) s.add(x);
        else if (s instanceof PyObject) (s.list ??= []).push(...items);
        else throw fail(`ADDITEMS on a ${describe(s)}`);
        break;
      }
      // ── memo
      case 0x71: memo.set(r.u8(), top()); break; // BINPUT
      case 0x72: memo.set(r.u32(), top()); break; // LONG_BINPUT
      case 0x70: { // PUT (text)
        const s = r.line();
        if (!/^\d+$/.test(s)) throw fail(`PUT ${JSON.stringify(s)}`);
        memo.set(Number(s), top());
        break;
      }
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(getMemo(r.u8())); break; // BINGET
      case 0x6a: stack.push(getMemo(r.u32())); break; // LONG_BINGET
      case 0x67: { // GET (text)
        const s = r.line();
        if (!/^\d+$/.test(s)) throw fail(`GET ${JSON.stringify(s)}`);
        stack.push(getMemo(Number(s)));
        break;
      }
      // ── objects (never executed: allow-listed globals are rebuilt as data, the rest become placeholders)
      case 0x63: { const m = r.line(), n = r.line(); stack.push(resolveGlobal(m, n)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const n = str(pop(), 'STACK_GLOBAL name'), m = str(pop(), 'STACK_GLOBAL module');
        stack.push(resolveGlobal(m, n));
        break;
      }
      case 0x52: { const args = pop(), f = pop(); stack.push(call(f, asArgs(args))); break; } // REDUCE
      case 0x81: { const args = pop(), cls = pop(); stack.push(construct(cls, asArgs(args), null)); break; } // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(), args = pop(), cls = pop();
        stack.push(construct(cls, asArgs(args), kwargs instanceof PyDict ? kwargs : null));
        break;
      }
      case 0x69: { // INST
        const m = r.line(), n = r.line();
        stack.push(call(resolveGlobal(m, n), popMark()));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        if (!items.length) throw fail('OBJ without a class');
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x62: { const state = pop(); build(top(), state); break; } // BUILD
      case 0x82: stack.push(new PyObject(`<extension ${r.u8()}>`)); break; // EXT1
      case 0x83: stack.push(new PyObject(`<extension ${r.u16()}>`)); break; // EXT2
      case 0x84: stack.push(new PyObject(`<extension ${r.i32()}>`)); break; // EXT4
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x50: stack.push(persistent(r.line())); break; // PERSID (text)
      default:
        throw new CheckpointError('unknown-opcode', file,
          `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''} at byte ${at} of ${r.label}: ` +
          'not something torch.save writes; the file is corrupt or not a PyTorch checkpoint');
    }
    return false;
  }
}

// ───────────────────────────────────────────── storages and tensors ─────────────────────────────────────────────

/** One storage of a checkpoint: raw little-endian bytes, read on demand. Several tensors may share one. */
export class TorchStorage {
  constructor(
    /** The storage key (the zip entry `data/<key>`, or the legacy key). */
    readonly key: string,
    /** Element type of the storage as saved (uint8 for an untyped storage). */
    readonly dtype: AnyDtype,
    /** Length in bytes. */
    readonly nbytes: number,
    /** Where it lived when saved ('cpu', 'cuda:0', …); ignored when reading. */
    readonly location: string,
    private readonly loader: (byteOffset: number, byteLength: number) => Uint8Array,
  ) {}
  get numel(): number { return Math.floor(this.nbytes / ITEM_SIZE[this.dtype]); }
  /** A fresh copy of the storage's bytes [byteOffset, byteOffset + byteLength). */
  readBytes(byteOffset = 0, byteLength = this.nbytes - byteOffset): Uint8Array {
    if (byteOffset < 0 || byteLength < 0 || byteOffset + byteLength > this.nbytes) {
      throw new RangeError(`storage ${this.key}: bytes [${byteOffset}, ${byteOffset + byteLength}) are outside its ${this.nbytes} bytes`);
    }
    return this.loader(byteOffset, byteLength);
  }
}

export type TypedArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Int8Array | Uint8Array;

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** A tensor (or parameter) of a checkpoint: a view (offset, shape, strides) into a storage. Data is read on demand. */
export class TorchTensor {
  /** True for an nn.Parameter. */
  isParameter = false;
  /** A tensor subclass's class name (`_rebuild_from_type_v2`), when not a plain tensor or parameter. */
  tensorClass: string | null = null;
  /** Python attributes set on the tensor (tensor subclasses, `_rebuild_parameter_with_state`). */
  state: PyValue = null;
  constructor(
    readonly storage: TorchStorage,
    readonly dtype: AnyDtype,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    /** In elements of `dtype`. */
    readonly storageOffset: number,
    readonly requiresGrad = false,
  ) {}

  get numel(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get itemSize(): number { return ITEM_SIZE[this.dtype]; }

  /** True when the view is C-contiguous (dimensions of size 1 may have any stride). */
  isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] === 1) continue;
      if (this.stride[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  /** The [first, end) element range of the storage this view touches (numel > 0). */
  private span(): { first: number; count: number } {
    let last = 0;
    for (let d = 0; d < this.shape.length; d++) last += (this.shape[d] - 1) * this.stride[d];
    return { first: this.storageOffset, count: last + 1 };
  }

  /** The elements in C order as little-endian bytes: a fresh, contiguous copy honouring offset and strides. */
  bytes(): Uint8Array {
    const item = this.itemSize;
    const n = this.numel;
    if (n === 0) return new Uint8Array(0);
    const { first, count } = this.span();
    const src = this.storage.readBytes(first * item, count * item);
    if (this.isContiguous()) return src;
    const out = new Uint8Array(n * item);
    const dims = this.shape.length;
    const inner = dims - 1;
    const innerLen = this.shape[inner];
    const innerStride = this.stride[inner] * item;
    const idx = new Array<number>(dims).fill(0);
    let o = 0;
    for (;;) {
      let base = 0;
      for (let d = 0; d < inner; d++) base += idx[d] * this.stride[d];
      base *= item;
      if (innerStride === item) {
        out.set(src.subarray(base, base + innerLen * item), o);
        o += innerLen * item;
      } else {
        for (let i = 0, p = base; i < innerLen; i++, p += innerStride) {
          for (let b = 0; b < item; b++) out[o++] = src[p + b];
        }
      }
      let d = inner - 1;
      while (d >= 0 && ++idx[d] === this.shape[d]) idx[d--] = 0;
      if (d < 0) return out;
    }
  }

  /**
   * The elements in C order in their natural typed array: Float32Array, Float64Array, Uint16Array (the raw bits of
   * float16 / bfloat16), BigInt64Array, Int32Array, Int16Array, Int8Array, Uint8Array (uint8 and bool: 0/1).
   */
  data(): TypedArray {
    if (!LITTLE_ENDIAN_HOST) throw new Error('reading tensors needs a little-endian host');
    const b = this.bytes();
    const n = this.numel;
    switch (this.dtype) {
      case 'float32': return new Float32Array(b.buffer, b.byteOffset, n);
      case 'float64': return new Float64Array(b.buffer, b.byteOffset, n);
      case 'float16': case 'bfloat16': case 'uint16': return new Uint16Array(b.buffer, b.byteOffset, n);
      case 'int64': return new BigInt64Array(b.buffer, b.byteOffset, n);
      case 'uint64': return new BigUint64Array(b.buffer, b.byteOffset, n);
      case 'int32': case 'qint32': return new Int32Array(b.buffer, b.byteOffset, n);
      case 'uint32': return new Uint32Array(b.buffer, b.byteOffset, n);
      case 'int16': return new Int16Array(b.buffer, b.byteOffset, n);
      case 'int8': case 'qint8': return new Int8Array(b.buffer, b.byteOffset, n);
      case 'uint8': case 'bool': case 'quint8': case 'float8_e4m3fn': case 'float8_e5m2': return b;
      default: throw new Error(`a ${this.dtype} tensor has no typed array: read bytes() instead`);
    }
  }

  /**
   * The elements as float32 in C order. float16 and bfloat16 convert exactly (NaN payloads too); float64 rounds to
   * nearest-even like torch's `.float()`; integers round to nearest-even (exact up to 2^24); bool → 0/1.
   */
  toFloat32(): Float32Array {
    const d = this.data();
    switch (this.dtype) {
      case 'float32': return d as Float32Array;
      case 'float16': return float16ToFloat32(d as Uint16Array);
      case 'bfloat16': return bfloat16ToFloat32(d as Uint16Array);
      case 'int64': case 'uint64': {
        const src = d as BigInt64Array | BigUint64Array;
        const out = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) out[i] = bigintToFloat32(src[i]);
        return out;
      }
      case 'float64': case 'int32': case 'int16': case 'int8': case 'uint8': case 'bool': case 'uint16': case 'uint32':
        return Float32Array.from(d as ArrayLike<number>);
      default: throw new Error(`a ${this.dtype} tensor cannot be converted to float32`);
    }
  }

  /** The elements as int64 in C order (integer and bool tensors). */
  toBigInt64(): BigInt64Array {
    const d = this.data();
    if (this.dtype === 'int64') return d as BigInt64Array;
    if (this.dtype === 'uint64') return BigInt64Array.from(d as BigUint64Array, (v) => BigInt.asIntN(64, v));
    if (!isIntegerDtype(this.dtype)) throw new Error(`a ${this.dtype} tensor is not an integer tensor: use toFloat32()`);
    return BigInt64Array.from(d as ArrayLike<number>, (v) => BigInt(v));
  }

  /** The elements as int32 in C order (integer and bool tensors); an int64 value outside int32 is an error. */
  toInt32(): Int32Array {
    const d = this.data();
    if (this.dtype === 'int32') return d as Int32Array;
    if (this.dtype === 'int64' || this.dtype === 'uint64') {
      const src = d as BigInt64Array | BigUint64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v < -2147483648n || v > 2147483647n) throw new RangeError(`element ${i} of a ${this.dtype} tensor is ${v}, outside int32: use toBigInt64()`);
        out[i] = Number(v);
      }
      return out;
    }
    if (this.dtype === 'uint32') {
      const src = d as Uint32Array;
      const i = src.findIndex((v) => v > 0x7fffffff);
      if (i >= 0) throw new RangeError(`element ${i} of a uint32 tensor is ${src[i]}, outside int32`);
      return new Int32Array(src.buffer, src.byteOffset, src.length);
    }
    if (!isIntegerDtype(this.dtype)) throw new Error(`a ${this.dtype} tensor is not an integer tensor: use toFloat32()`);
    return Int32Array.from(d as ArrayLike<number>);
  }
}

const isIntegerDtype = (d: AnyDtype): boolean => ['int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'uint16', 'uint32', 'uint64'].includes(d);

let halfTable: Uint32Array | null = null;
/** float16 bits → float32, exactly (subnormals, ±inf, NaN payloads). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const s = (h & 0x8000) << 16;
      let e = (h >> 10) & 0x1f;
      let m = h & 0x3ff;
      let f: number;
      if (e === 0x1f) f = s | 0x7f800000 | (m << 13);
      else if (e !== 0) f = s | ((e + 112) << 23) | (m << 13);
      else if (m === 0) f = s;
      else {
        e = 1;
        while (!(m & 0x400)) { m <<= 1; e--; }
        f = s | ((e + 112) << 23) | ((m & 0x3ff) << 13);
      }
      halfTable[h] = f >>> 0;
    }
  }
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = halfTable[bits[i]];
  return out;
}

/** bfloat16 bits → float32, exactly. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

/** An int64 → the nearest float32 (ties to even), with a single rounding (no detour through float64). */
function bigintToFloat32(v: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  if (a <= 1n << 53n) return Math.fround(Number(neg ? -a : a));
  const bitsLen = a.toString(2).length;
  const drop = BigInt(bitsLen - 24);
  const rem = a & ((1n << drop) - 1n);
  const half = 1n << (drop - 1n);
  a >>= drop;
  if (rem > half || (rem === half && (a & 1n))) a += 1n;
  const r = Number(a) * 2 ** Number(drop);
  return Math.fround(neg ? -r : r);
}

const intArg = (v: PyValue | undefined, what: string): number => {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error(`${what} is ${String(v)}, not a non-negative integer`);
  return n;
};

function rebuildTensor(fn: string, args: PyValue[], dtypeOverride: string | null): PyValue {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof TorchStorage)) return new PyObject(fn, args);
  const dtype = (dtypeOverride ?? storage.dtype) as AnyDtype;
  if (!Object.hasOwn(ITEM_SIZE, dtype)) return new PyObject(fn, args);
  const shape = iterItems(size).map((x, i) => intArg(x, `size[${i}] of a tensor in storage ${storage.key}`));
  const strides = iterItems(stride).map((x, i) => intArg(x, `stride[${i}] of a tensor in storage ${storage.key}`));
  if (strides.length !== shape.length) throw new Error(`a tensor in storage ${storage.key} has ${shape.length} sizes but ${strides.length} strides`);
  const t = new TorchTensor(storage, dtype, Object.freeze(shape), Object.freeze(strides), intArg(offset, 'storage_offset'), requiresGrad === true);
  if (t.numel > 0) {
    let last = t.storageOffset;
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * strides[d];
    if ((last + 1) * t.itemSize > storage.nbytes) {
      throw new Error(`a ${shape.join('×')} ${dtype} view at offset ${t.storageOffset} reaches element ${last} of storage ${storage.key}, which holds ${storage.nbytes} bytes`);
    }
  }
  return t;
}

function rebuildParameter(fn: string, args: PyValue[], state: PyValue): PyValue {
  const [data, requiresGrad] = args;
  if (!(data instanceof TorchTensor)) return new PyObject(fn, args);
  const p = new TorchTensor(data.storage, data.dtype, data.shape, data.stride, data.storageOffset, requiresGrad === true);
  p.isParameter = true;
  p.tensorClass = data.tensorClass;
  p.state = state instanceof PyDict && state.size === 0 ? null : state;
  return p;
}

function rebuildFromType(fn: string, args: PyValue[]): PyValue {
  const [func, type, fargs, state] = args;
  const result = call(func ?? null, iterItems(fargs));
  if (!(result instanceof TorchTensor)) return new PyObject(fn, args);
  const cls = type instanceof PyGlobal ? type.fullName : describe(type ?? null);
  if (cls === 'torch.nn.parameter.Parameter') result.isParameter = true;
  else if (cls !== 'torch.Tensor' && cls !== 'torch._tensor.Tensor') result.tensorClass = cls;
  if (state !== undefined && state !== null && !(state instanceof PyDict && state.size === 0)) result.state = state;
  return result;
}

// ───────────────────────────────────────────── zip ─────────────────────────────────────────────

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
const u64 = (b: Uint8Array, o: number): number => u32(b, o) + u32(b, o + 4) * 0x100000000;
const SIG = { local: 0x04034b50, central: 0x02014b50, eocd: 0x06054b50, eocd64: 0x06064b50, locator64: 0x07064b50 };

/** The zip64 extended-information extra field (0x0001): 64-bit values present only for the 32-bit fields that are all ones. */
function zip64Extra(extra: Uint8Array, want: { size: boolean; compressed: boolean; offset: boolean }): { size?: number; compressed?: number; offset?: number } {
  for (let p = 0; p + 4 <= extra.length;) {
    const id = u16(extra, p), len = u16(extra, p + 2);
    const body = extra.subarray(p + 4, p + 4 + len);
    if (id === 0x0001) {
      const out: { size?: number; compressed?: number; offset?: number } = {};
      let q = 0;
      if (want.size && q + 8 <= body.length) { out.size = u64(body, q); q += 8; }
      if (want.compressed && q + 8 <= body.length) { out.compressed = u64(body, q); q += 8; }
      if (want.offset && q + 8 <= body.length) { out.offset = u64(body, q); q += 8; }
      return out;
    }
    p += 4 + len;
  }
  return {};
}

/** Reads the central directory (zip64 aware). Returns null when there is no end-of-central-directory record. */
function readZipDirectory(src: ByteSource): Map<string, ZipEntry> | null {
  const file = src.name;
  if (src.size < 22) return null;
  const tailLen = Math.min(src.size, 22 + 65535 + 20);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  let e = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === SIG.eocd && i + 22 + u16(tail, i + 20) <= tail.length) { e = i; break; }
  }
  if (e < 0) return null;
  const bad = (what: string): CheckpointError => new CheckpointError('corrupt', file, `the zip directory is damaged (${what}): download the file again`);
  let count = u16(tail, e + 10);
  let cdSize = u32(tail, e + 12);
  let cdOffset = u32(tail, e + 16);
  let cdEnd = tailStart + e; // where the directory is expected to end
  if (e >= 20 && u32(tail, e - 20) === SIG.locator64) {
    let z = u64(tail, e - 20 + 8);
    const locatorAt = tailStart + e - 20;
    let rec = z + 56 <= src.size ? src.read(z, 56) : null;
    if (!rec || u32(rec, 0) !== SIG.eocd64) { // offsets shifted by data prepended to the archive: look next to the locator
      z = locatorAt - 56;
      rec = z >= 0 ? src.read(z, 56) : null;
      if (!rec || u32(rec, 0) !== SIG.eocd64) throw bad('the zip64 end-of-directory record is missing');
    }
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
    cdEnd = z;
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw bad('zip64 sizes without a zip64 end-of-directory locator');
  }
  // Data prepended to an archive shifts every offset; the directory ends where the end records begin.
  const shift = cdEnd - cdSize - cdOffset;
  if (cdEnd - cdSize < 0 || shift < 0) throw bad('the directory lies outside the file');
  const cd = src.read(cdEnd - cdSize, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || u32(cd, p) !== SIG.central) throw bad(`entry ${i} of ${count}`);
    const flags = u16(cd, p + 8), method = u16(cd, p + 10), crc = u32(cd, p + 16);
    let compressedSize = u32(cd, p + 20), size = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28), extraLen = u16(cd, p + 30), commentLen = u16(cd, p + 32);
    let localHeaderOffset = u32(cd, p + 42);
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
    const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    if (size === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      const x = zip64Extra(extra, { size: size === 0xffffffff, compressed: compressedSize === 0xffffffff, offset: localHeaderOffset === 0xffffffff });
      size = x.size ?? size;
      compressedSize = x.compressed ?? compressedSize;
      localHeaderOffset = x.offset ?? localHeaderOffset;
    }
    entries.set(name, { name, method, flags, crc, compressedSize, size, localHeaderOffset: localHeaderOffset + shift });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Walks local headers from the start of a zip that has no directory: how long the file should at least be. */
function zipLowerBound(src: ByteSource): number {
  let pos = 0;
  for (let i = 0; i < 100000 && pos + 30 <= src.size; i++) {
    const h = src.read(pos, 30);
    if (u32(h, 0) !== SIG.local) return Math.max(pos, src.size) + 22;
    const flags = u16(h, 6);
    let compressed = u32(h, 18);
    const nameLen = u16(h, 26), extraLen = u16(h, 28);
    const dataAt = pos + 30 + nameLen + extraLen;
    if (dataAt > src.size) return dataAt;
    if (compressed === 0xffffffff) {
      const x = zip64Extra(src.read(pos + 30 + nameLen, extraLen), { size: u32(h, 22) === 0xffffffff, compressed: true, offset: false });
      compressed = x.compressed ?? compressed;
    }
    if ((flags & 8) && compressed === 0) return dataAt + 1; // sizes in a trailing data descriptor: unknown
    pos = dataAt + compressed + (flags & 8 ? 16 : 0);
  }
  return Math.max(pos, src.size) + 22;
}

class ZipArchive {
  private dataOffsets = new Map<string, number>();
  private inflated = new Map<string, Uint8Array>();
  constructor(readonly src: ByteSource, readonly entries: Map<string, ZipEntry>) {}

  private dataOffset(e: ZipEntry): number {
    let off = this.dataOffsets.get(e.name);
    if (off !== undefined) return off;
    if (e.localHeaderOffset + 30 > this.src.size) throw truncatedError(this.src.name, this.src.size, e.localHeaderOffset + 30, true);
    const h = this.src.read(e.localHeaderOffset, 30);
    if (u32(h, 0) !== SIG.local) throw new CheckpointError('corrupt', this.src.name, `the zip entry ${e.name} has no local header at byte ${e.localHeaderOffset}: the file is damaged, download it again`);
    off = e.localHeaderOffset + 30 + u16(h, 26) + u16(h, 28);
    if (off + e.compressedSize > this.src.size) throw truncatedError(this.src.name, this.src.size, off + e.compressedSize, true);
    this.dataOffsets.set(e.name, off);
    return off;
  }

  private check(e: ZipEntry): void {
    if (e.flags & 1) throw new CheckpointError('unsupported', this.src.name, `the zip entry ${e.name} is encrypted: a torch checkpoint never is`);
    if (e.method !== 0 && e.method !== 8) {
      throw new CheckpointError('unsupported', this.src.name, `the zip entry ${e.name} uses compression method ${e.method}; only stored (0) and deflate (8) are read: re-zip it without compression`);
    }
  }

  /** The whole entry, uncompressed, CRC-checked. */
  readAll(e: ZipEntry): Uint8Array {
    const data = this.readRange(e, 0, e.size);
    if (crc32(data) >>> 0 !== e.crc) throw new CheckpointError('corrupt', this.src.name, `the zip entry ${e.name} fails its CRC check: the file is damaged, download it again`);
    return data;
  }

  /** Bytes [offset, offset + length) of an entry's uncompressed data (positioned reads for stored entries). */
  readRange(e: ZipEntry, offset: number, length: number): Uint8Array {
    this.check(e);
    if (offset + length > e.size) throw new CheckpointError('corrupt', this.src.name, `the zip entry ${e.name} holds ${e.size} bytes, fewer than the ${offset + length} needed: the file is damaged`);
    const at = this.dataOffset(e);
    if (e.method === 0) return this.src.read(at + offset, length);
    let all = this.inflated.get(e.name);
    if (!all) {
      try {
        all = new Uint8Array(inflateRawSync(this.src.read(at, e.compressedSize)));
      } catch (err) {
        throw new CheckpointError('corrupt', this.src.name, `the deflated zip entry ${e.name} does not inflate (${(err as Error).message}): the file is damaged, download it again`);
      }
      if (all.length !== e.size) throw new CheckpointError('corrupt', this.src.name, `the zip entry ${e.name} inflates to ${all.length} bytes, not ${e.size}: the file is damaged`);
      this.inflated.set(e.name, all);
    }
    return all.slice(offset, offset + length);
  }

  /** Reads every entry and checks its CRC (streamed in chunks for stored entries). */
  verify(): void {
    for (const e of this.entries.values()) {
      if (e.method !== 0) { this.readAll(e); continue; }
      this.check(e);
      let c = 0;
      for (let o = 0; o < e.size; o += 64 << 20) c = crc32(this.readRange(e, o, Math.min(64 << 20, e.size - o)), c);
      if (c >>> 0 !== e.crc) throw new CheckpointError('corrupt', this.src.name, `the zip entry ${e.name} fails its CRC check: the file is damaged, download it again`);
    }
  }
}

// ───────────────────────────────────────────── checkpoints ─────────────────────────────────────────────

export interface ReadCheckpointOptions {
  /** The name used in error messages (default: the path, or '<memory>' for bytes). */
  name?: string;
}

/** An open checkpoint: its root value, its storages (read lazily), and the file it reads from until `close()`. */
export class TorchCheckpoint {
  constructor(
    readonly file: string,
    readonly format: 'zip' | 'legacy',
    /** The object that was saved. */
    readonly value: PyValue,
    /** Storages by key. */
    readonly storages: ReadonlyMap<string, TorchStorage>,
    /** The zip archive's `version` record, or the legacy protocol version. */
    readonly formatVersion: string,
    private readonly src: ByteSource,
    private readonly zip: ZipArchive | null,
  ) {}
  /** Bytes read from the file so far (reading tensors is lazy: this grows as their data is asked for). */
  get bytesRead(): number { return this.src.bytesRead; }
  /** Every tensor under the root, by dotted key (see `flattenTensors`). */
  tensors(): Map<string, TorchTensor> { return flattenTensors(this.value); }
  /** Reads everything and checks each zip entry's CRC (a legacy file has no checksums: its storages are just read). */
  verify(): void {
    if (this.zip) this.zip.verify();
    else for (const s of this.storages.values()) for (let o = 0; o < s.nbytes; o += 64 << 20) s.readBytes(o, Math.min(64 << 20, s.nbytes - o));
  }
  /** Closes the file. Reading tensor data afterwards reopens it. */
  close(): void { this.src.close(); }
}

/**
 * Opens a PyTorch checkpoint (a path, read with positioned reads, or the bytes of one) and reads its object; tensor
 * data stays on disk until asked for. Throws CheckpointError naming the file and what to do.
 */
export function readCheckpoint(source: string | Uint8Array, options: ReadCheckpointOptions = {}): TorchCheckpoint {
  const src: ByteSource = typeof source === 'string' ? new FileSource(source, options.name) : new MemorySource(options.name ?? '<memory>', source);
  try {
    return openCheckpoint(src);
  } catch (err) {
    src.close();
    throw err;
  }
}

function openCheckpoint(src: ByteSource): TorchCheckpoint {
  if (src.size === 0) throw new CheckpointError('not-checkpoint', src.name, 'the file is empty (0 bytes): download it again');
  const head = src.read(0, Math.min(src.size, 512));
  const startsWith = (...b: number[]): boolean => b.every((x, i) => head[i] === x);
  if (startsWith(0x50, 0x4b, 0x03, 0x04) || startsWith(0x50, 0x4b, 0x05, 0x06)) {
    const dir = readZipDirectory(src);
    if (!dir) throw truncatedError(src.name, src.size, zipLowerBound(src), true);
    return openZip(src, dir);
  }
  // A legacy file starts with the magic-number pickle: PROTO (protocol ≥ 2) or the text LONG of protocol 1.
  // (A .safetensors header length can start with byte 0x80 too: its byte 8 is '{', never so in the magic pickle.)
  if ((head[0] === 0x80 && head[8] !== 0x7b) || startsWith(0x4c, 0x31, 0x31, 0x39, 0x35)) return openLegacy(src);
  let dir: Map<string, ZipEntry> | null = null;
  try { dir = readZipDirectory(src); } catch { dir = null; }
  if (dir) return openZip(src, dir); // a zip with data in front of it
  throw notACheckpoint(src, head);
}

function notACheckpoint(src: ByteSource, head: Uint8Array): CheckpointError {
  const text = latin1(head);
  const trimmed = text.trimStart();
  const startsWith = (...b: number[]): boolean => b.every((x, i) => head[i] === x);
  const fail = (m: string): CheckpointError => new CheckpointError('not-checkpoint', src.name, m);
  if (/^<(!doctype|html|head|body|\?xml|!--)/i.test(trimmed) || /<html[\s>]/i.test(text)) {
    const title = /<title[^>]*>([^<]{0,120})/i.exec(text)?.[1]?.trim();
    return fail(`this is an HTML page${title ? ` ("${title}")` : ''}, not a PyTorch checkpoint: the download got an error or sign-in page instead of the file; check the URL (and any access terms) and download it again`);
  }
  if (trimmed.startsWith('version https://git-lfs')) return fail('this is a Git LFS pointer, not the checkpoint: download the real file (e.g. the "download" link, or `git lfs pull`)');
  if (head.length >= 9 && head[8] === 0x7b) {
    const n = u64(head, 0);
    if (n >= 2 && n + 8 <= src.size) return fail('this is a .safetensors file, not a PyTorch (torch.save) checkpoint: read it with a safetensors reader instead');
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return fail('this file is gzip-compressed: decompress it (gunzip) and use the file inside');
  if (head.length >= 262 && text.slice(257, 262) === 'ustar') {
    return fail('this is a tar archive: either the very old torch.save format (torch < 0.4), which is not read here — load and re-save it with torch.save in a current PyTorch — or a bundle to unpack first');
  }
  if (startsWith(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59)) return fail('this is a NumPy .npy array, not a PyTorch checkpoint');
  if (startsWith(0x89, 0x48, 0x44, 0x46)) return fail('this is an HDF5 file (Keras/TensorFlow weights), not a PyTorch checkpoint');
  if (/^\s*[{[]/.test(text)) return fail(`this is a text/JSON document, not a PyTorch checkpoint (it starts "${trimmed.slice(0, 80).replace(/\s+/g, ' ')}"); the server probably sent an error message: download it again`);
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return fail(`not a PyTorch checkpoint: it starts with bytes ${hex}, but a torch.save file is a zip archive (50 4b 03 04) or a pickle (80 …)`);
}

function storageDtype(file: string, type: PyValue): AnyDtype {
  const name = type instanceof PyGlobal ? type.name : typeof type === 'string' ? type : null;
  const mod = type instanceof PyGlobal ? type.module : 'torch';
  if (name && (mod === 'torch' || mod === 'torch.cuda' || mod === 'torch.storage') && Object.hasOwn(STORAGE_TYPES, name)) return STORAGE_TYPES[name];
  throw new CheckpointError('unsupported', file, `a storage of unknown type ${type instanceof PyGlobal ? type.fullName : String(type)}: this reader knows ${Object.keys(STORAGE_TYPES).join(', ')}`);
}

const keyString = (v: PyValue): string => (typeof v === 'string' ? v : v instanceof Uint8Array ? latin1(v) : String(v));

function openZip(src: ByteSource, dir: Map<string, ZipEntry>): TorchCheckpoint {
  const file = src.name;
  const zip = new ZipArchive(src, dir);
  const pkls = [...dir.keys()].filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl')).sort((a, b) => a.split('/').length - b.split('/').length || a.length - b.length);
  if (!pkls.length) {
    const names = [...dir.keys()].slice(0, 6).join(', ');
    throw new CheckpointError('not-checkpoint', file, `this zip archive is not a PyTorch checkpoint: it has no data.pkl (it holds ${dir.size} entries: ${names}${dir.size > 6 ? ', …' : ''})`);
  }
  const pklName = pkls[0];
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = dir.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = utf8.decode(zip.readAll(byteorder)).trim();
    if (order === 'big') {
      throw new CheckpointError('big-endian', file, 'this checkpoint was saved on a big-endian machine (byteorder "big"); only little-endian checkpoints are read: load it in PyTorch and save it again on an x86 or ARM machine');
    }
    if (order !== 'little') throw new CheckpointError('malformed', file, `the zip's byteorder record says "${order.slice(0, 20)}", neither "little" nor "big"`);
  }
  const versionEntry = dir.get(`${prefix}version`) ?? dir.get(`${prefix}.data/version`);
  const formatVersion = versionEntry ? utf8.decode(zip.readAll(versionEntry)).trim() : '';
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    if (!Array.isArray(pid) || keyString(pid[0] ?? null) !== 'storage' || pid.length < 5) {
      throw new CheckpointError('malformed', file, `data.pkl has a persistent id that is not a storage (${describe(pid)} ${Array.isArray(pid) ? keyString(pid[0] ?? null) : ''}): not a torch.save checkpoint`);
    }
    const [, type, rawKey, location, numel] = pid;
    const key = keyString(rawKey);
    const known = storages.get(key);
    if (known) return known;
    const dtype = storageDtype(file, type);
    const nbytes = intArg(numel, `the element count of storage ${key}`) * ITEM_SIZE[dtype];
    const entry = dir.get(`${prefix}data/${key}`);
    if (!entry) {
      throw new CheckpointError('missing-storage', file, `the storage ${prefix}data/${key} that data.pkl refers to is missing from the zip: the file is incomplete or was modified, download it again`);
    }
    if (entry.size < nbytes) {
      throw new CheckpointError('corrupt', file, `the storage ${entry.name} holds ${entry.size} bytes but data.pkl expects ${nbytes}: the file is damaged, download it again`);
    }
    const s = new TorchStorage(key, dtype, nbytes, keyString(location ?? null), (o, n) => zip.readRange(entry, o, n));
    storages.set(key, s);
    return s;
  };
  const pklBytes = zip.readAll(dir.get(pklName) as ZipEntry);
  const value = readPickle(pklBytes, { file, label: pklName, persistentLoad });
  return new TorchCheckpoint(file, 'zip', value, storages, formatVersion, src, zip);
}

const MAGIC = 0x1950a86a20f9469cfc6cn;

function openLegacy(src: ByteSource): TorchCheckpoint {
  const file = src.name;
  const reader = new ByteReader(src, 0, 'the magic-number pickle', (needed) =>
    truncatedError(file, src.size, needed === Number.MAX_SAFE_INTEGER ? src.size + 1 : needed, true));
  const magic = runPickle(reader, file);
  if (magic !== MAGIC) {
    throw new CheckpointError('not-checkpoint', file, 'this is a Python pickle but not one torch.save wrote (its first pickle is not torch\'s magic number); torch.load would refuse it too');
  }
  reader.label = 'the protocol-version pickle';
  const protocol = runPickle(reader, file);
  if (protocol !== 1001) throw new CheckpointError('unsupported', file, `legacy torch.save protocol version ${String(protocol)}; this reader knows 1001: load and re-save it with a current PyTorch`);
  reader.label = 'the sys_info pickle';
  const sysInfo = runPickle(reader, file);
  if (sysInfo instanceof PyDict && sysInfo.get('little_endian') === false) {
    throw new CheckpointError('big-endian', file, 'this checkpoint was saved on a big-endian machine (sys_info little_endian False); only little-endian checkpoints are read: load it in PyTorch and save it again on an x86 or ARM machine');
  }

  // Storages are found in the main pickle; their bytes follow the key list, in its order.
  interface Root { key: string; dtype: AnyDtype; numel: number; location: string; dataAt: number }
  const roots = new Map<string, Root>();
  const storages = new Map<string, TorchStorage>();
  const views = new Map<string, TorchStorage>();
  const rootStorage = (r: Root): TorchStorage => {
    let s = storages.get(r.key);
    if (!s) {
      s = new TorchStorage(r.key, r.dtype, r.numel * ITEM_SIZE[r.dtype], r.location, (o, n) => {
        if (r.dataAt < 0) throw new Error(`storage ${r.key} is read before the storage table`);
        return src.read(r.dataAt + o, n);
      });
      storages.set(r.key, s);
    }
    return s;
  };
  const persistentLoad = (pid: PyValue): PyValue => {
    const kind = Array.isArray(pid) ? keyString(pid[0] ?? null) : '';
    if (kind === 'module') return pid instanceof Array ? (pid[1] ?? null) : null; // ('module', class, source file, source)
    if (kind !== 'storage' || !Array.isArray(pid) || pid.length < 5) {
      throw new CheckpointError('malformed', file, `the main pickle has a persistent id that is neither a storage nor a module (${describe(pid)} ${kind}): not a torch.save checkpoint`);
    }
    const [, type, rawKey, location, numel, view] = pid;
    const key = keyString(rawKey);
    const dtype = storageDtype(file, type);
    let root = roots.get(key);
    if (!root) {
      root = { key, dtype, numel: intArg(numel, `the element count of storage ${key}`), location: keyString(location ?? null), dataAt: -1 };
      roots.set(key, root);
    }
    const base = rootStorage(root);
    if (!Array.isArray(view) || view.length < 3) return base;
    // (view_key, offset, size): a storage view of the root (torch < 0.4), offset and size in elements.
    const viewKey = keyString(view[0] ?? null);
    let v = views.get(viewKey);
    if (!v) {
      const off = intArg(view[1], `the offset of storage view ${viewKey}`) * ITEM_SIZE[dtype];
      const len = intArg(view[2], `the size of storage view ${viewKey}`) * ITEM_SIZE[dtype];
      if (off + len > base.nbytes) throw new CheckpointError('malformed', file, `storage view ${viewKey} reaches past its storage ${key}`);
      v = new TorchStorage(viewKey, dtype, len, base.location, (o, n) => base.readBytes(off + o, n));
      views.set(viewKey, v);
    }
    return v;
  };
  reader.label = 'the main pickle';
  const value = runPickle(reader, file, persistentLoad);
  reader.label = 'the storage-key pickle';
  const keys = runPickle(reader, file);
  if (!Array.isArray(keys)) throw new CheckpointError('malformed', file, 'the storage-key pickle is not a list: the file is corrupt');

  // Exact expected length from the element counts, so a cut-short download says how long the file should be.
  let pos = reader.pos;
  const order: Root[] = [];
  let expected = pos;
  for (const k of keys) {
    const root = roots.get(keyString(k));
    if (!root) throw new CheckpointError('malformed', file, `the storage table lists key ${keyString(k)}, which the main pickle never uses: the file is corrupt`);
    order.push(root);
    expected += 8 + root.numel * ITEM_SIZE[root.dtype];
  }
  if (src.size < expected) throw truncatedError(file, src.size, expected, false);
  for (const root of order) {
    const h = src.read(pos, 8);
    const count = u64(h, 0);
    if (count !== root.numel) {
      throw new CheckpointError('corrupt', file, `storage ${root.key} has ${count} elements in the file but ${root.numel} in the pickle: the file is damaged, download it again`);
    }
    root.dataAt = pos + 8;
    pos += 8 + count * ITEM_SIZE[root.dtype];
  }
  const missing = [...roots.values()].find((r) => r.dataAt < 0);
  if (missing) throw new CheckpointError('missing-storage', file, `the storage ${missing.key} is used by the main pickle but missing from the storage table: the file is incomplete, download it again`);
  return new TorchCheckpoint(file, 'legacy', value, storages, String(protocol), src, null);
}

// ───────────────────────────────────────────── helpers ─────────────────────────────────────────────

export interface FlattenOptions {
  /** A prefix for every key (joined with '.'). */
  prefix?: string;
}

/** An nn.Module placeholder's state, when it looks like one (`_parameters`, `_buffers`, `_modules`). */
function moduleState(v: PyObject): PyDict | null {
  const s = v.state;
  return s instanceof PyDict && s.get('_parameters') instanceof PyDict && s.get('_modules') instanceof PyDict ? s : null;
}

/**
 * Every tensor under `value`, by dotted key: dict keys (a state_dict's keys are kept whole), list/tuple indices, the
 * attributes of placeholder objects (e.g. GRAM's torch_ema object → `shadow_params.0`, …). A pickled nn.Module yields
 * the keys its `state_dict()` would (parameters, persistent buffers, then submodules). A tensor stored under several
 * keys (tied weights) appears under each. Sets and placeholder constructor arguments are not searched.
 */
export function flattenTensors(value: PyValue, options: FlattenOptions = {}): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const path = new Set<object>();
  let budget = 10_000_000;
  const join = (p: string, k: string): string => (p ? `${p}.${k}` : k);
  const visit = (v: PyValue | undefined, prefix: string): void => {
    if (v === undefined || v === null || typeof v !== 'object') return;
    if (v instanceof TorchTensor) { out.set(prefix, v); return; }
    if (path.has(v)) return; // a cycle
    if (--budget < 0) throw new Error('flattenTensors: the object graph is too large (more than 10 million visits)');
    path.add(v);
    try {
      if (v instanceof PyDict) {
        for (const [k, x] of v) if (typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') visit(x, join(prefix, String(k)));
      } else if (Array.isArray(v)) {
        v.forEach((x, i) => visit(x, join(prefix, String(i))));
      } else if (v instanceof PyObject) {
        const m = moduleState(v);
        if (m) visitModule(m, prefix);
        else {
          const s = v.state;
          if (s instanceof PyDict) visit(s, prefix);
          else if (isTuple(s) && s.length === 2) { visit(s[0], prefix); visit(s[1], prefix); } // (dict state, slot state)
          if (v.items) visit(v.items, prefix);
          if (v.list) visit(v.list, prefix);
        }
      }
    } finally {
      path.delete(v);
    }
  };
  const visitModule = (state: PyDict, prefix: string): void => {
    const params = state.get('_parameters') as PyDict;
    for (const [k, x] of params) if (x instanceof TorchTensor) out.set(join(prefix, String(k)), x);
    const buffers = state.get('_buffers');
    const nonPersistent = state.get('_non_persistent_buffers_set');
    if (buffers instanceof PyDict) {
      for (const [k, x] of buffers) {
        if (x instanceof TorchTensor && !(nonPersistent instanceof Set && nonPersistent.has(k))) out.set(join(prefix, String(k)), x);
      }
    }
    for (const [k, m] of state.get('_modules') as PyDict) visit(m, join(prefix, String(k)));
  };
  visit(value, options.prefix ?? '');
  return out;
}

/**
 * Digs into a value: dict keys (a digit string also finds an int key), list/tuple indices, a placeholder's attributes
 * (its BUILD state) or items. `undefined` when the path does not exist.
 */
export function pyGet(value: PyValue | undefined, ...path: (string | number)[]): PyValue | undefined {
  let v = value;
  for (const k of path) {
    if (v === undefined) return undefined;
    if (v instanceof PyDict) {
      let x = v.get(k);
      if (x === undefined && typeof k === 'string' && /^-?\d+$/.test(k)) x = v.get(Number(k));
      if (x === undefined && typeof k === 'number') x = v.get(String(k));
      v = x;
    } else if (Array.isArray(v)) {
      v = typeof k === 'number' || /^\d+$/.test(k) ? v[Number(k)] : undefined;
    } else if (v instanceof PyObject) {
      const s = v.state instanceof PyDict ? v.state : isTuple(v.state) && v.state[0] instanceof PyDict ? v.state[0] : null;
      const x = s ? pyGet(s, k) : undefined;
      v = x !== undefined ? x : v.items ? pyGet(v.items, k) : undefined;
    } else return undefined;
  }
  return v;
}

/** A short human-readable type of a value (for messages): 'dict', 'list', 'tuple', 'Tensor float32 [3, 4]', … */
export function describeValue(v: PyValue): string {
  if (v instanceof TorchTensor) return `Tensor ${v.dtype} [${v.shape.join(', ')}]`;
  if (v instanceof PyDict) return v.className;
  return describe(v);
}
