// The restore bench's onnxruntime-node side: a child process holding one session, driven run by run over stdin/stdout
// (one JSON command per line in, one JSON answer per line out), so the bench can interleave it with the browser
// targets and read this process's own peak memory (process.resourceUsage().maxRSS) and CPU time (process.cpuUsage()).
// The "product" options are worker/runtime/ort-node.ts's ({ intraOpNumThreads, graphOptimizationLevel: 'all' }, CPU).
//   node --import tsx bench/restore-node.ts          (started by NodeTarget below)
import '../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateProfile, type OpProfile } from './restore-profile.ts';

export interface NodeOpen {
  model: string;
  threads: number;
  /** Session options besides intraOpNumThreads and the CPU provider. */
  options: Record<string, unknown>;
  feed: string;
  dims: number[];
}

type Command =
  | { cmd: 'open'; open: NodeOpen }
  | { cmd: 'runs'; count: number }
  | { cmd: 'output'; path: string }
  | { cmd: 'profile'; skipRuns: number }
  | { cmd: 'stats' };

export interface NodeRuns {
  runMs: number[];
  cpuMs: number[];
}

export interface NodeStats {
  maxRssBytes: number;
  rssBytes: number;
}

// ---- The child ----------------------------------------------------------------------------------------------

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
        const bytes = readFileSync(o.feed);
        feeds = { input: new ort.Tensor('float32', new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), o.dims) };
        profilePrefix = typeof o.options.profileFilePrefix === 'string' ? o.options.profileFilePrefix : '';
        const t = performance.now();
        session = await ort.InferenceSession.create(o.model, { executionProviders: ['cpu'], intraOpNumThreads: o.threads, ...o.options } as import('onnxruntime-node').InferenceSession.SessionOptions);
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
        answer({ runMs, cpuMs } satisfies NodeRuns);
      } else if (c.cmd === 'output') {
        const data = last.output.data as Float32Array;
        writeFileSync(c.path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        answer({});
      } else if (c.cmd === 'profile') {
        // onnxruntime-node writes <prefix>_<date>.json when the session ends (endProfiling is not exposed here).
        await session!.release();
        session = undefined;
        const dir = dirname(profilePrefix);
        const file = readdirSync(dir).find((f) => f.startsWith(basename(profilePrefix)) && f.endsWith('.json'));
        if (!file) throw new Error(`no profile ${profilePrefix}_*.json`);
        const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown[];
        rmSync(join(dir, file));
        answer(aggregateProfile(events.map((e) => JSON.stringify(e)), c.skipRuns) satisfies OpProfile);
      } else if (c.cmd === 'stats') {
        answer({ maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBytes: process.memoryUsage().rss } satisfies NodeStats);
      }
    } catch (err) {
      answer({ error: (err as Error).message.split('\n')[0] });
    }
  }
}

// ---- The bench's handle on a child ----------------------------------------------------------------------------

export class NodeTarget {
  private readonly proc: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private exited: string | null = null;

  private constructor() {
    this.proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, FRONTIER_RESTORE_NODE_CHILD: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.proc.stdout! })[Symbol.asyncIterator]();
    this.proc.on('exit', (code, signal) => (this.exited = `the onnxruntime-node child exited ${signal ?? code}${signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}`));
  }

  get pid(): number {
    return this.proc.pid!;
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

  static async open(o: NodeOpen): Promise<{ target: NodeTarget; sessionMs: number }> {
    const target = new NodeTarget();
    try {
      const { sessionMs } = await target.send<{ sessionMs: number }>({ cmd: 'open', open: o });
      return { target, sessionMs };
    } catch (err) {
      target.close();
      throw err;
    }
  }

  runs(count: number): Promise<NodeRuns> {
    return this.send({ cmd: 'runs', count });
  }

  output(path: string): Promise<void> {
    return this.send({ cmd: 'output', path });
  }

  /** Ends the session (the profile is written then): no runs after this. */
  profile(skipRuns: number): Promise<OpProfile> {
    return this.send({ cmd: 'profile', skipRuns });
  }

  stats(): Promise<NodeStats> {
    return this.send({ cmd: 'stats' });
  }

  close(): void {
    if (!this.exited) this.proc.stdin!.end();
  }
}

if (process.env.FRONTIER_RESTORE_NODE_CHILD) {
  child().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
