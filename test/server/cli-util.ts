// Runs `frontier` as a user does: a real process through server/bin/frontier.js, stdout and stderr piped (so stderr
// is not a terminal), without blocking the test process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './helpers.ts';

export const BIN = join(REPO, 'server', 'bin', 'frontier.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function frontier(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => child.kill(), 240_000); // only against a hang: no test waits on it
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout, stderr });
    });
  });
}
