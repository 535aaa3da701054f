// A small writer for protobuf text format, the language of Triton's config.pbtxt. It writes only what the
// exporter needs: strings, integers, enum identifiers, nested messages, and lists of scalars or messages.

/** An enum value (KIND_GPU, TYPE_FP32): written bare, never quoted, as protobuf text format requires. */
export interface PbEnum {
  ident: string;
}

export type PbScalar = string | number | PbEnum;
export type PbValue = PbScalar | PbMessage | PbScalar[] | PbMessage[];

export interface PbField {
  key: string;
  value: PbValue;
  /** Written as `# …` lines above the field. */
  comment?: string;
}

export interface PbMessage {
  fields: PbField[];
}

export function pbEnum(ident: string): PbEnum {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ident)) throw new Error(`"${ident}" is not a valid protobuf enum identifier.`);
  return { ident };
}

export function pbMessage(fields: PbField[]): PbMessage {
  return { fields };
}

function isMessage(v: unknown): v is PbMessage {
  return typeof v === 'object' && v !== null && 'fields' in v;
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function scalar(v: PbScalar): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`Cannot write ${v} to a config.pbtxt.`);
    return String(v);
  }
  return v.ident;
}

function writeMessageBody(msg: PbMessage, indent: string, lines: string[]): void {
  for (const field of msg.fields) {
    if (field.comment) for (const line of field.comment.split('\n')) lines.push(`${indent}# ${line}`.trimEnd());
    const v = field.value;
    if (Array.isArray(v)) {
      if (v.length > 0 && v.every(isMessage)) {
        lines.push(`${indent}${field.key} [`);
        (v as PbMessage[]).forEach((m, i) => {
          lines.push(`${indent}  {`);
          writeMessageBody(m, `${indent}    `, lines);
          lines.push(`${indent}  }${i < v.length - 1 ? ',' : ''}`);
        });
        lines.push(`${indent}]`);
      } else {
        if (v.some(isMessage)) throw new Error(`${field.key}: a list mixes messages and scalars.`);
        lines.push(`${indent}${field.key}: [ ${(v as PbScalar[]).map(scalar).join(', ')} ]`);
      }
    } else if (isMessage(v)) {
      if (v.fields.length === 0) {
        lines.push(`${indent}${field.key} { }`);
      } else {
        lines.push(`${indent}${field.key} {`);
        writeMessageBody(v, `${indent}  `, lines);
        lines.push(`${indent}}`);
      }
    } else {
      lines.push(`${indent}${field.key}: ${scalar(v)}`);
    }
  }
}

/** The message as text format, with `header` as leading `#` comment lines. */
export function writePbtxt(msg: PbMessage, header?: string): string {
  const lines: string[] = [];
  if (header) for (const line of header.split('\n')) lines.push(`# ${line}`.trimEnd());
  writeMessageBody(msg, '', lines);
  return `${lines.join('\n')}\n`;
}
