// Server-sent events for a job's progress (https://html.spec.whatwg.org/multipage/server-sent-events.html): each
// event has an `id:` (its sequence number), so EventSource resends it as Last-Event-ID on reconnect and gets only
// what it missed. Heartbeat comments keep proxies from closing an idle stream. Once the job has ended and nothing
// is left to replay the answer is 204, which tells EventSource to stop reconnecting. A job restored after a restart
// numbers its events past anything sent before (journal.ts), and a Last-Event-ID beyond the newest event can only
// come from before a restart: that client gets the events kept since.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http-util.ts';
import { TERMINAL_STATES, type Job, type JobEvent } from './job.ts';

/** Last-Event-ID from the header (EventSource's reconnect) or ?lastEventId= (a first connect cannot set headers). */
export function lastEventId(req: IncomingMessage, url: URL): number {
  const raw = req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? url.searchParams.get('last_event_id');
  if (raw === undefined || raw === null || raw === '') return 0;
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!/^\d{1,15}$/.test(text.trim())) throw new HttpError(400, `Last-Event-ID must be the id of an event this server sent (a whole number), got "${text.slice(0, 40)}".`);
  return Number(text.trim());
}

function format(event: JobEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.job)}\n\n`;
}

export function streamJobEvents(req: IncomingMessage, res: ServerResponse, job: Job, after: number, heartbeatMs: number): void {
  const missed = job.eventsAfter(after > job.seq ? 0 : after);
  if (job.terminal && missed.length === 0) {
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
    Connection: 'keep-alive',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.write('retry: 2000\n\n');
  for (const event of missed) res.write(format(event));
  if (job.terminal) {
    res.end();
    return;
  }
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
  (heartbeat as unknown as { unref(): void }).unref();
  const unsubscribe = job.subscribe((event) => {
    res.write(format(event));
    if (TERMINAL_STATES.includes(event.job.state)) res.end();
  });
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}
