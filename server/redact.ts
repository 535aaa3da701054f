// Error text that leaves the server never names a path on the server's disk: job folders, the repository, the home
// folder, onnxruntime's build tree. They tell an attacker how the machine is laid out and tell a user nothing they can
// act on. A path is cut to its last segment ("…/input"); routes of this API (/v2/…, /jobs/…) are left alone.
import { homedir, tmpdir } from 'node:os';
import { sep } from 'node:path';

/** Folders whose paths are always cut (besides the usual system roots). Call once per folder the server writes to. */
const extraRoots = new Set<string>();

export function addRedactedRoot(folder: string): void {
  if (folder.length > 1) extraRoots.add(folder);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The beginnings of absolute paths on POSIX systems (API routes such as /v2 or /jobs are none of these), onnxruntime's
// source tree, and Windows drive or UNC paths.
const SYSTEM_ROOTS = ['/home/', '/Users/', '/root/', '/tmp/', '/var/', '/private/', '/usr/', '/opt/', '/etc/', '/mnt/', '/srv/', '/media/', '/run/', '/proc/', '/dev/shm/', '/onnxruntime_src/', '/workspace/', '/work/', '/build/', '/app/'];

function pattern(): RegExp {
  const roots = [...new Set([...extraRoots, homedir(), tmpdir()])]
    .filter((r) => r.length > 1)
    .map((r) => escape(r.endsWith(sep) ? r : r + sep));
  const starts = [...roots, ...SYSTEM_ROOTS.map(escape), '[A-Za-z]:\\\\', '\\\\\\\\'];
  // A path runs until whitespace, a quote, a bracket, a comma before a space, or the end.
  return new RegExp(`(?:${starts.join('|')})[^\\s'"\`()<>\\[\\]{}]*`, 'g');
}

/** `text` with every server path replaced by "…/<last segment>". */
export function redactPaths(text: string): string {
  return text.replace(pattern(), (path) => {
    const trimmed = path.replace(/[.,;:]+$/, '');
    const rest = path.slice(trimmed.length);
    const last = trimmed.split(/[\\/]/).filter(Boolean).pop() ?? '';
    return `…/${last}${rest}`;
  });
}
