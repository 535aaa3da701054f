// The `oip` runtime's registrations: in the browser, the model host the engine was pointed at, asked whether it
// answers (our companion server, Triton, KServe); in Node, the server the CLI was given with --server.
import { FrontierError } from '../job.ts';
import { createOipRuntime, probeServer, type ProbeResult } from './oip.ts';
import { NOT_THIS_MODEL, no, yes, type RuntimeEntry } from './registry.ts';

const NAME = 'oip';

/**
 * The model host as an inference server. Probed once; a failed probe is asked again at the next choice, so a server
 * started later is noticed.
 */
export function modelHostServerEntry(opts: { baseUrl: string; token?: string; timeoutMs?: number }): RuntimeEntry {
  let probe: Promise<ProbeResult> | null = null;
  const ask = () => {
    const p = (probe ??= probeServer({ baseUrl: opts.baseUrl, token: opts.token, timeoutMs: opts.timeoutMs ?? 3000 }));
    void p.then((r) => {
      if (!r.ok && probe === p) probe = null;
    });
    return p;
  };
  return {
    name: NAME,
    target: 'server',
    async resolve(card, { wasm }) {
      const notListed = `${card.label} does not run on a server`;
      if (!card.targets.includes('server')) return no(NOT_THIS_MODEL, notListed, `${notListed}.`);
      const server = await ask();
      if (!server.ok) {
        const error = server.error ?? `The server at ${opts.baseUrl} is not ready.`;
        return no(server.pairing ? 'it needs the pairing code from Settings' : 'it isn’t answering', error, error);
      }
      // Native onnxruntime on the companion server is 2–10× single-threaded WASM (bench/results/upscale.md).
      const threads = `${wasm.threads} thread${wasm.threads === 1 ? '' : 's'}`;
      return yes(`local server (${server.name ?? 'OIP'} at ${opts.baseUrl}, ${server.latencyMs} ms round trip): native onnxruntime, faster than WASM (${threads})`);
    },
    create: () => createOipRuntime({ baseUrl: opts.baseUrl, token: opts.token }),
  };
}

/** The server named on the command line (not asked here: the job says what went wrong if it does not answer). */
export function configuredServerEntry(opts: { serverUrl?: string; token?: string }): RuntimeEntry {
  const missing = 'No server configured: pass --server URL (and --token if it needs one).';
  return {
    name: NAME,
    target: 'server',
    resolve(card) {
      if (!opts.serverUrl) return no('no server is set', 'no server configured', missing);
      const notListed = `${card.label} does not run on a server`;
      if (!card.targets.includes('server')) return no(NOT_THIS_MODEL, notListed, `${notListed}.`);
      return yes(`server at ${opts.serverUrl}`);
    },
    create() {
      if (!opts.serverUrl) throw new FrontierError('target-unavailable', missing);
      return createOipRuntime({ baseUrl: opts.serverUrl, token: opts.token });
    },
  };
}
