// The child side of a work process (server/work-process.ts). Import it right after no-telemetry.mjs.
// - The server may end without closing its children (kill -9, a crash): the IPC channel then disconnects, and the
//   child exits instead of living on as an orphan. (During a native run its event loop is blocked: it exits after
//   that run, which the model's request bounds keep short.)
// - Ctrl-C reaches every process of the terminal's process group: a child ignores SIGINT and SIGTERM so that the
//   server decides what happens (finish or fail its jobs cleanly) and kills its children when it closes.
// Plain JavaScript: a child process does not inherit the server's TypeScript loader.
if (!process.send) {
  console.error('This file runs as a child of the Frontier server (child_process.fork), not on its own.');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});

/** Sends a message to the server; a server that is gone ends this process (see 'disconnect'). */
export function reply(msg) {
  if (process.connected) process.send(msg);
}
