// Protobuf at the wire level: the fields of a message as numbers, wire types and byte spans, and a writer that
// puts fields back. Enough to read ONNX files written by others and to edit one kind of field while copying every
// other field byte for byte (models/convert/onnx-template.ts), without a schema for the whole of onnx.proto.

export interface WireField {
  no: number;
  wire: number;
  varint?: bigint;
  /** Length-delimited payload (a view into the message). */
  bytes?: Uint8Array;
  /** Wire type 5 as an unsigned integer and as a little-endian float32. */
  fixed32?: number;
  float32?: number;
  fixed64?: bigint;
  /** The whole field as it was encoded (tag included), for copying it unchanged. */
  raw: Uint8Array;
}

export function* wireFields(buf: Uint8Array): Generator<WireField> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: a varint runs past the end of the message');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const start = pos;
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    let field: Omit<WireField, 'raw'>;
    if (wire === 0) field = { no, wire, varint: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error(`protobuf: field ${no} claims ${len} bytes, ${buf.length - pos} are left`);
      field = { no, wire, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 5) {
      field = { no, wire, fixed32: view.getUint32(pos, true), float32: view.getFloat32(pos, true) };
      pos += 4;
    } else if (wire === 1) {
      field = { no, wire, fixed64: view.getBigUint64(pos, true) };
      pos += 8;
    } else throw new Error(`protobuf: wire type ${wire} (field ${no}) at byte ${start} is not supported`);
    yield { ...field, raw: buf.subarray(start, pos) };
  }
}

export const wireText = (f: WireField): string => new TextDecoder().decode(f.bytes);

/** Packed or repeated varints of a field (proto3 packs them; older writers repeat the field). */
export function wireInts(f: WireField): bigint[] {
  if (f.wire === 0) return [f.varint!];
  const out: bigint[] = [];
  const buf = f.bytes!;
  let pos = 0;
  while (pos < buf.length) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
    }
    out.push(BigInt.asIntN(64, v));
  }
  return out;
}

/** Builds a message from fields: copied ones (raw spans) and new ones. */
export class WireWriter {
  private parts: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private static varint(value: bigint): Uint8Array {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return Uint8Array.from(out);
  }

  copy(field: WireField): this {
    this.push(field.raw);
    return this;
  }

  int(no: number, value: number | bigint): this {
    this.push(WireWriter.varint(BigInt(no << 3)));
    this.push(WireWriter.varint(BigInt(value)));
    return this;
  }

  bytes(no: number, payload: Uint8Array): this {
    this.push(WireWriter.varint(BigInt((no << 3) | 2)));
    this.push(WireWriter.varint(BigInt(payload.length)));
    this.push(payload);
    return this;
  }

  string(no: number, value: string): this {
    return this.bytes(no, new TextEncoder().encode(value));
  }

  get byteLength(): number {
    return this.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
