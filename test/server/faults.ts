// Preloaded into a real server process by crash-guard.test.ts (node --import): makes the request that carries
// `X-Frontier-Test-Fault` fail the way a bug in a handler would, outside any promise the handler awaits:
//   body-data   a listener of the request body throws when the body arrives (upload, infer);
//   after-head  a timer set right after the response headers went out throws (an event stream, a file download).
// Test code only: nothing in the product loads it.
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';

const emit = Server.prototype.emit;
Server.prototype.emit = function (this: Server, event: string, ...args: unknown[]): boolean {
  if (event === 'request') {
    const [req, res] = args as [IncomingMessage, ServerResponse];
    const fault = req.headers['x-frontier-test-fault'];
    if (fault === 'body-data') {
      req.prependListener('data', () => {
        throw new Error('injected fault: a request body listener threw');
      });
    } else if (fault === 'after-head') {
      const writeHead = res.writeHead;
      res.writeHead = function (this: ServerResponse, ...headArgs: Parameters<typeof writeHead>) {
        const out = writeHead.apply(this, headArgs);
        setImmediate(() => {
          throw new Error('injected fault: a timer threw after the headers went out');
        });
        return out;
      } as typeof writeHead;
    }
  }
  return (emit as (this: Server, event: string, ...rest: unknown[]) => boolean).call(this, event, ...args);
} as typeof Server.prototype.emit;
