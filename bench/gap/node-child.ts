// bench:gap's onnxruntime-node side: a child process holding one session on ONE thread (intraOpNumThreads 1,
// interOpNumThreads 1, sequential execution), driven run by run over stdin/stdout (one JSON command per line each
// way) so the bench can interleave it with the browser. CPU time is this process's own (process.cpuUsage()).
//   started by NodeGapTarget below: node --import tsx bench/gap/node-child.ts
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateProfile, type OpProfile } from '../restore-profile.ts';
import type { FeedFile } from '../common/feed-bench/spec.ts';
import { fileSafe } from './names.ts';

export interface NodeGapOpen {
  model: string;
  feedsDir: string;
  feeds: FeedFile[];
  options: Record<string, unknown>;
}

type Command = { cmd: 'open'; open: NodeGapOpen } | { cmd: 'runs'; count: number } | { cmd: 'outputs'; prefix: string } | { cmd: 'profile'; skipRuns: number };

export interface NodeGapRuns {
  runMs: number[];
  cpuMs: number[];
}

/** The options every node row runs with: one thread for the kernels and none besides. */
export const NODE_ONE_THREAD = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;

async function child(): Promise<void> {
  const ort = await import('onnxruntime-node');
  let session: import('onnxruntime-node').InferenceSession | undefined;
  let feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  let last: Record<string, import('onnxruntime-node').Tensor> = {};
  let profilePrefix = '';
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as Command;
    try {
      if (c.cmd === 'open') {
        const o = c.open;
        feeds = {};
        for (const f of o.feeds) {
          const bytes = readFileSync(join(o.feedsDir, f.file)).subarray();
          const copy = new Uint8Array(bytes).buffer;
          feeds[f.name] = new ort.Tensor(f.dtype, f.dtype === 'int64' ? new BigInt64Array(copy) : new Float32Array(copy), f.dims);
        }
        profilePrefix = typeof o.options.profileFilePrefix === 'string' ? o.options.profileFilePrefix : '';
        const t = performance.now();
        session = await ort.InferenceSession.create(o.model, { ...NODE_ONE_THREAD, ...o.options } as import('onnxruntime-node').InferenceSession.SessionOptions);
        answer({ sessionMs: performance.now() - t });
      } else if (c.cmd === 'runs') {
        const runMs: number[] = [];
        const cpuMs: number[] = [];
        for (let i = 0; i < c.count; i++) {
          const cpu = cpuNow();
          const t = performance.now();
          last = await session!.run(feeds);
          runMs.push(performance.now() - t);
          cpuMs.push(cpuNow() - cpu);
        }
        answer({ runMs, cpuMs } satisfies NodeGapRuns);
      } else if (c.cmd === 'outputs') {
        const sent: string[] = [];
        for (const [name, t] of Object.entries(last)) {
          if (t.type !== 'float32') continue;
          const data = t.data as Float32Array;
          writeFileSync(`${c.prefix}${fileSafe(name)}.f32`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
          sent.push(name);
        }
        answer({ sent });
      } else if (c.cmd === 'profile') {
        // onnxruntime-node writes <prefix>_<date>.json when the session ends.
        await session!.release();
        session = undefined;
        const dir = dirname(profilePrefix);
        const file = readdirSync(dir).find((f) => f.startsWith(basename(profilePrefix)) && f.endsWith('.json'));
        if (!file) throw new Error(`no profile ${profilePrefix}_*.json`);
        const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown[];
        rmSync(join(dir, file));
        answer(aggregateProfile(events.map((e) => JSON.stringify(e)), c.skipRuns) satisfies OpProfile);
      }
    } catch (err) {
      answer({ error: (err as Error).message.split('\n')[0] });
    }
  }
}

/** The bench's handle on one child. */
export class NodeGapTarget {
  private readonly proc: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private exited: string | null = null;

  private constructor() {
    this.proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, FRONTIER_GAP_NODE_CHILD: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.proc.stdout! })[Symbol.asyncIterator]();
    this.proc.on('exit', (code, signal) => (this.exited = `the onnxruntime-node child exited ${signal ?? code}${signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}`));
  }

  private async send<T>(c: Command): Promise<T> {
    if (this.exited) throw new Error(this.exited);
    this.proc.stdin!.write(`${JSON.stringify(c)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(this.exited ?? 'the onnxruntime-node child closed its output');
    const value = JSON.parse(next.value) as T & { error?: string };
    if (value.error) throw new Error(value.error);
    return value;
  }

  static async open(o: NodeGapOpen): Promise<{ target: NodeGapTarget; sessionMs: number }> {
    const target = new NodeGapTarget();
    try {
      const { sessionMs } = await target.send<{ sessionMs: number }>({ cmd: 'open', open: o });
      return { target, sessionMs };
    } catch (err) {
      target.close();
      throw err;
    }
  }

  runs(count: number): Promise<NodeGapRuns> {
    return this.send({ cmd: 'runs', count });
  }

  /** Writes each float32 output of the last run to `${prefix}${name}.f32`. */
  outputs(prefix: string): Promise<{ sent: string[] }> {
    return this.send({ cmd: 'outputs', prefix });
  }

  /** Ends the session (onnxruntime-node writes the profile then): no runs after this. */
  profile(skipRuns: number): Promise<OpProfile> {
    return this.send({ cmd: 'profile', skipRuns });
  }

  close(): void {
    if (!this.exited) this.proc.stdin!.end();
  }
}

if (process.env.FRONTIER_GAP_NODE_CHILD) {
  child().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
