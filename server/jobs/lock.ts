// One server per jobs folder: two servers restoring, running and deleting the same jobs would wreck each other's
// work. The folder holds a lock file naming the process that owns it; a second live server is refused, a lock left
// by a server that is gone (kill -9, a crash, a power loss) is taken over.
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'server.lock';

interface LockContent {
  pid: number;
  host: string;
  nonce: string;
  started: string;
}

/** Another live server owns the folder. */
export class JobsDirBusyError extends Error {
  constructor(
    readonly pid: number,
    readonly lockFile: string,
    readonly otherHost: string | null,
  ) {
    const folder = resolve(lockFile, '..');
    super(
      pid === process.pid && !otherHost
        ? `Another server in this process already uses the jobs folder ${folder}: give each server a folder of its own (jobs.dir).`
        : `Another Frontier server (${otherHost ? `on ${otherHost}, ` : ''}process ${pid}) is using the jobs folder ${folder}: ` +
            `stop it first, or give this server a folder of its own (FRONTIER_HOME, or jobs.dir). If no such server is running, delete ${lockFile}.`,
    );
    this.name = 'JobsDirBusyError';
  }
}

/** Folders locked by this process (a second JobService here on the same folder is refused too). */
const heldHere = new Map<string, string>();

// A process that ends without closing its service (process.exit after an error) leaves no lock behind.
let exitHook = false;
function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [file, nonce] of heldHere) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as LockContent).nonce === nonce) unlinkSync(file);
      } catch {
        // gone already, or not ours: nothing to release
      }
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // it exists, as another user's process
  }
}

function parse(text: string): LockContent | null {
  try {
    const c = JSON.parse(text) as LockContent;
    return Number.isSafeInteger(c.pid) && typeof c.nonce === 'string' && typeof c.host === 'string' ? c : null;
  } catch {
    return null;
  }
}

export class JobsDirLock {
  private constructor(
    private readonly file: string,
    private readonly nonce: string,
  ) {}

  /** Takes the folder's lock or throws JobsDirBusyError. The folder must exist. */
  static async acquire(dir: string): Promise<JobsDirLock> {
    const file = join(resolve(dir), LOCK_FILE);
    const nonce = randomBytes(12).toString('hex');
    const content: LockContent = { pid: process.pid, host: hostname(), nonce, started: new Date().toISOString() };
    for (let tries = 0; ; tries++) {
      if (heldHere.has(file)) throw new JobsDirBusyError(process.pid, file, null);
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(content));
        } finally {
          await handle.close();
        }
        heldHere.set(file, nonce);
        releaseAllOnExit();
        return new JobsDirLock(file, nonce);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 5) throw err;
      }
      const text = await readFile(file, 'utf8').catch(() => '');
      const other = parse(text);
      // A lock of this very pid that this process does not hold was left by an earlier process with the same pid
      // (containers restart with the same pids). One being written right now reads empty: look again.
      if (other && other.host !== hostname()) throw new JobsDirBusyError(other.pid, file, other.host);
      if (other && other.pid !== process.pid && alive(other.pid)) throw new JobsDirBusyError(other.pid, file, null);
      if (!other && text === '' && tries < 3) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      // Stale: move it aside (only one of two servers taking it over at once succeeds) and check that what was
      // moved is the stale lock, not a fresh one another server wrote meanwhile.
      const aside = `${file}.${nonce}.stale`;
      try {
        await rename(file, aside);
      } catch {
        continue; // someone else moved it: try again
      }
      const moved = await readFile(aside, 'utf8').catch(() => '');
      if (moved === text) {
        await rm(aside, { force: true });
      } else {
        await rename(aside, file).catch(() => {}); // a live server's lock: put it back
      }
    }
  }

  /** Gives the folder up (only if the lock is still this one's). */
  async release(): Promise<void> {
    if (heldHere.get(this.file) !== this.nonce) return;
    heldHere.delete(this.file);
    const current = parse(await readFile(this.file, 'utf8').catch(() => ''));
    if (current?.nonce === this.nonce) await rm(this.file, { force: true });
  }
}
