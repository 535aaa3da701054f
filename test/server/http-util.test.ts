// The HTTP helpers' edge cases that once took the server down.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { discardBody } from '../../server/http-util.ts';

test('discardBody on a request already destroyed and closed never touches its detached socket (the crash of issue 11)', async (t) => {
  // A handler that stopped reading an upload half-way (a chunk too large, a cancel, a full disk) and answers only
  // after an await: by then node has destroyed the request, emitted its 'close' and set req.socket to null.
  let handed!: (req: IncomingMessage) => void;
  const aborted = new Promise<IncomingMessage>((resolve) => (handed = resolve));
  const server = createServer(async (req, res) => {
    req.on('error', () => undefined); // the upload is cut off: expected here
    for await (const chunk of req) {
      void chunk;
      break; // leaving the loop destroys the request
    }
    if (!req.closed) await new Promise((resolve) => req.once('close', resolve));
    res.writeHead(413, { 'Content-Length': 2, Connection: 'close' });
    res.end('no');
    handed(req);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', method: 'PATCH', headers: { 'Content-Length': 1_000_000 } });
    client.on('error', () => undefined); // the server cuts the upload short
    client.write(Buffer.alloc(64 * 1024));
    const req = await aborted;
    assert.equal(req.socket, null, 'the premise: the socket is detached');

    t.mock.timers.enable({ apis: ['setTimeout'] });
    discardBody(req, 10_000);
    // The grace period passes: the old timer read req.socket.destroy and threw a TypeError out of the event loop.
    assert.doesNotThrow(() => t.mock.timers.tick(10_001));
    t.mock.timers.reset();
    client.destroy();
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
