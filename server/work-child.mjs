// The child side of a work process (server/work-process.ts). Import it right after no-telemetry.mjs.
// - The server may end without closing its children (kill -9, a crash): the child then ends too instead of living
//   on as an orphan. When idle it sees the IPC channel disconnect. During a native run its event loop is blocked,
//   so a watchdog thread checks every WATCH_MS whether the server is still its parent, and kills the process
//   (SIGKILL: at once, even in the middle of onnxruntime's run) when it is not.
// - Ctrl-C reaches every process of the terminal's process group: a child ignores SIGINT and SIGTERM so that the
//   server decides what happens (finish or fail its jobs cleanly) and kills its children when it closes.
// Plain JavaScript: a child process does not inherit the server's TypeScript loader.
import { Worker } from 'node:worker_threads';

const WATCH_MS = 200;

if (!process.send) {
  console.error('This file runs as a child of the Frontier server (child_process.fork), not on its own.');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
// A reply to a server that has just gone fails with EPIPE: nobody is left to answer, so end quietly.
process.on('error', () => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});

const watchdog = new Worker(
  `const { workerData } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== workerData.parent) process.kill(process.pid, 'SIGKILL'); }, workerData.everyMs);`,
  { eval: true, workerData: { parent: process.ppid, everyMs: WATCH_MS } },
);
watchdog.unref(); // never what keeps this process alive

/** Sends a message to the server; a server that is gone ends this process (see 'disconnect'). */
export function reply(msg) {
  if (process.connected) process.send(msg);
}
