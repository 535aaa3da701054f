// The CLI's checks on the files a user names, made before any model loads: an output that cannot be written is said
// at once, in words, instead of as a raw error code after minutes of computing.
import { randomBytes } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';

/** A file problem the user fixes by typing something else (exit 2). */
export class FileProblem extends Error {}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new FileProblem(`Cannot look at ${path} (${why(err)}): write the result to a folder of yours, e.g. your home folder.`);
  }
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'the disk is read-only';
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'ENOENT') return 'files cannot be made there';
  return code ? `the system refused: ${code}` : (err as Error).message;
}

/**
 * Checks that `path` (and, for several results, path-2, path-3 … beside it) can be written: the right extension, a
 * folder that exists and is writable, not a folder itself. Throws a FileProblem that says what to do.
 */
export async function checkOutput(path: string, ext: '.png' | '.mp4'): Promise<void> {
  const full = resolve(path);
  const folder = dirname(full);
  const existing = await statOrNull(full);
  if (existing?.isDirectory()) throw new FileProblem(`${path} is a folder: give a file name inside it, e.g. ${join(path, `result${ext}`)}.`);
  if (extname(path).toLowerCase() !== ext) {
    const kind = ext === '.png' ? 'a PNG image' : 'an MP4 video';
    const base = basename(path, extname(path)) || 'result';
    throw new FileProblem(`The result is ${kind}: give an output name that ends in ${ext}, e.g. ${join(dirname(path), base + ext)} (you gave ${path}).`);
  }
  const folderInfo = await statOrNull(folder);
  if (!folderInfo) throw new FileProblem(`The folder ${dirname(path)} does not exist: create it first (mkdir -p ${quote(dirname(path))}) or write the result somewhere else.`);
  if (!folderInfo.isDirectory()) throw new FileProblem(`${dirname(path)} is a file, not a folder: write the result somewhere else.`);
  try {
    await probeWrite(existing ? full : folder, !!existing);
  } catch (err) {
    const what = existing ? `${path} cannot be replaced` : `Nothing can be written in the folder ${dirname(path)}`;
    throw new FileProblem(`${what} (${why(err)}): write the result to a folder of yours, e.g. your home folder.`);
  }
}

/**
 * Whether a file can really be written there: permissions alone do not say (root passes every permission check, yet
 * cannot write on a read-only disk or in /proc). An existing file is opened for writing without being changed; in a
 * folder, an empty file is made and removed at once.
 */
async function probeWrite(path: string, isFile: boolean): Promise<void> {
  if (isFile) {
    await (await open(path, 'r+')).close();
    return;
  }
  const probe = join(path, `.frontier-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  await (await open(probe, 'wx')).close();
  await rm(probe, { force: true });
}

/** The bytes of an input file, or a FileProblem that says what is wrong in words. */
export async function readInput(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileProblem(`${path} does not exist: check the name and the folder (the current folder is ${process.cwd()}).`);
    if (code === 'EISDIR') throw new FileProblem(`${path} is a folder: name a file inside it.`);
    throw new FileProblem(`Cannot read ${path} (${why(err)}).`);
  }
  if (bytes.length === 0) throw new FileProblem(`${path} is empty.`);
  return bytes;
}

function quote(path: string): string {
  return /^[\w./~+-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}
