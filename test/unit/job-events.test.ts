// The job client's event stream (worker/runtime/jobs-client.ts createJobFollower) against a scripted server: the
// server-sent events grammar as the standard has it (LF, CRLF and lone CR line ends, a leading BOM, comments, retry,
// events cut across chunks anywhere) and reconnects that resume from the last `id:` the server sent (Last-Event-ID),
// as EventSource does: an event without an id keeps the last one, an empty id clears it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobFollower, type JobSnapshot } from '../../worker/runtime/jobs-client.ts';
import { OipHttp } from '../../worker/runtime/oip-http.ts';

const job = (seq: number, state: JobSnapshot['state'] = 'running'): JobSnapshot => ({
  id: 'job-events-1',
  state,
  progress: { stage: state === 'succeeded' ? 'done' : 'run', done: seq, total: 5 },
  seq,
});
const data = (seq: number, state?: JobSnapshot['state']) => `data: ${JSON.stringify(job(seq, state))}`;

/** A stream's text cut into chunks of `size` bytes (so lines, CR LF pairs and a BOM fall across chunks). */
function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += size)));
    },
  });
}

/**
 * A server whose event streams are `streams` in turn (then 204: nothing left), recording each connection's
 * Last-Event-ID (null when none was sent); GET /jobs/{id} answers `final`.
 */
function scripted(streams: Uint8Array[], final: JobSnapshot, chunk = 7) {
  const lastEventIds: (string | null)[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    if (url.endsWith('/events')) {
      assert.equal(headers.get('authorization'), 'Bearer secret', 'the stream carries the token');
      lastEventIds.push(headers.get('last-event-id'));
      const body = streams[lastEventIds.length - 1];
      if (!body) return new Response(null, { status: 204 });
      return new Response(streamOf(body, chunk), { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } });
    }
    return new Response(JSON.stringify(final), { status: 200, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
  const http = new OipHttp({ baseUrl: 'http://127.0.0.1:1', token: 'secret', fetch: fetchFn });
  const follower = createJobFollower(http, { fetch: fetchFn, pollMs: 10, maxReconnects: 3, failed: (res) => new Error(`HTTP ${res.status}`) });
  return { follower, lastEventIds };
}

async function follow(streams: Uint8Array[], final: JobSnapshot, chunk?: number) {
  const { follower, lastEventIds } = scripted(streams, final, chunk);
  const seen: number[] = [];
  const last = await follower.follow({ id: 'job-events-1', signal: new AbortController().signal, label: 'the job' }, job(0), (j) => seen.push(j.seq));
  return { last, seen, lastEventIds };
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const BOM = Uint8Array.of(0xef, 0xbb, 0xbf);
const withBom = (bytes: Uint8Array) => Uint8Array.from([...BOM, ...bytes]);

/** One stream of a whole job (retry, a heartbeat, three events, the last one terminal) with `eol` line ends. */
const wholeJob = (eol: string) =>
  utf8(['retry: 2000', '', `id: 1`, 'event: progress', data(1), '', ': heartbeat', '', 'id: 2', data(2), '', 'id: 3', 'event: succeeded', data(3, 'succeeded'), '', ''].join(eol));

for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const) {
  for (const chunk of [1, 7, 4096]) {
    test(`${name} line ends, chunks of ${chunk} bytes: every event once, from one stream`, async () => {
      const { last, seen, lastEventIds } = await follow([wholeJob(eol)], job(3, 'succeeded'), chunk);
      assert.deepEqual(seen, [1, 2, 3]);
      assert.equal(last.state, 'succeeded');
      assert.deepEqual(lastEventIds, ['0'], 'one connection, resuming from the snapshot');
    });
  }
}

test('a BOM before the first line (whole or split across chunks) is not part of the first field', async () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    for (const chunk of [1, 2, 4096]) {
      const { seen, lastEventIds } = await follow([withBom(wholeJob(eol))], job(3, 'succeeded'), chunk);
      assert.deepEqual(seen, [1, 2, 3], `BOM, ${JSON.stringify(eol)}, chunks of ${chunk}`);
      assert.deepEqual(lastEventIds, ['0']);
    }
  }
  // A BOM decoded as text (a proxy that re-encoded the stream) is skipped too.
  const { seen } = await follow([utf8(`\uFEFF${data(1)}\n\nid: 2\n${data(2, 'succeeded')}\n\n`)], job(2, 'succeeded'));
  assert.deepEqual(seen, [1, 2]);
});

test('a reconnect resumes from the last id the server sent; an event without id keeps it, an empty id clears it', async () => {
  const streams = [
    // The server's ids are its own (not the snapshots' seq): the client resumes with what the server said.
    utf8(`id: ev-7\n${data(1)}\n\nid: ev-8\n${data(2)}\n\n`), // ends while the job runs (a proxy cut it)
    utf8(`${data(3)}\n\n`), // no id: the last one stays ev-8
    utf8(`id\n${data(4)}\n\n`), // an empty id: no Last-Event-ID from here
    utf8(`id: ev-11\r\n${data(5, 'succeeded')}\r\n\r\n`),
  ];
  const { last, seen, lastEventIds } = await follow(streams, job(5, 'succeeded'));
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(last.state, 'succeeded');
  assert.deepEqual(lastEventIds, ['0', 'ev-8', 'ev-8', null]);
});

test('a replayed event (not newer than what the client has) is not reported twice', async () => {
  const streams = [utf8(`id: 1\n${data(1)}\n\nid: 2\n${data(2)}\n\n`), utf8(`id: 2\n${data(2)}\n\nid: 3\n${data(3, 'succeeded')}\n\n`)];
  const { seen, lastEventIds } = await follow(streams, job(3, 'succeeded'));
  assert.deepEqual(seen, [1, 2, 3], 'each seq once');
  assert.deepEqual(lastEventIds, ['0', '2']);
});

test('an event the stream cut before its blank line is not dispatched (the standard discards it); the reconnect gets it', async () => {
  const streams = [utf8(`id: 1\n${data(1)}\n\nid: 2\n${data(2)}\n`), utf8(`id: 2\r${data(2)}\r\rid: 3\r${data(3, 'succeeded')}\r\r`)];
  const { seen, lastEventIds } = await follow(streams, job(3, 'succeeded'));
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(lastEventIds, ['0', '1'], 'the cut event’s id was not taken');
});
