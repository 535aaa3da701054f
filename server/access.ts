// Who may use the server: the bearer token every route that computes, changes state or shows a user's data asks for,
// even on loopback (any web page can reach 127.0.0.1, and Figma's plugin iframe has the same origin "null" as any
// sandboxed iframe, so no origin check can tell the plugin from a stranger). The token is compared in constant time
// and never logged; remote addresses that keep guessing wrong are locked out for a while.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-util.ts';

/** Refuses tokens an Authorization header cannot carry unchanged. */
export function validateToken(token: string): string {
  if (token.length === 0) throw new Error('The token is empty: pass a secret with --token <secret> or FRONTIER_TOKEN.');
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new Error('The token must be printable ASCII without spaces (it travels in an Authorization: Bearer header).');
  }
  return token;
}

// --- bearer token ----------------------------------------------------------------------------------------------------

/** A fresh random token: 160 bits, URL- and header-safe (used for the pairing token and for servers started without one). */
export function generateToken(): string {
  return randomBytes(20).toString('base64url');
}

/** The token from an Authorization header, or null when there is none in the Bearer form. */
export function bearerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  const m = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return m ? m[1] : null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class BearerAuth {
  // Only a digest is kept: comparing fixed-length digests makes timingSafeEqual leak neither content nor length.
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(validateToken(token));
  }

  /** Whether `token` is the server's token (constant time). */
  matches(token: string): boolean {
    return timingSafeEqual(digest(token), this.expected);
  }

  /** Throws 401 (with WWW-Authenticate) unless the request carries the token. `where` says where the user finds it. */
  check(req: IncomingMessage, where = PAIRING_HINT): void {
    const token = bearerOf(req);
    // API clients learn the scheme from WWW-Authenticate; the message is for the designer reading it in the plugin.
    if (token === null) {
      throw new HttpError(401, `This server asks for its pairing code. ${where}`, { 'WWW-Authenticate': 'Bearer realm="frontier"' });
    }
    if (!this.matches(token)) {
      throw new HttpError(401, `That is not this server's pairing code. ${where}`, { 'WWW-Authenticate': 'Bearer realm="frontier", error="invalid_token"' });
    }
  }
}

/** Where a user finds the token, for 401 messages (servers started with an explicit token refine it). */
export const PAIRING_HINT = "The server prints it when it starts (npm start): enter it in the plugin's Settings → Pairing code.";

// --- wrong-token backoff ---------------------------------------------------------------------------------------------

export interface BackoffOptions {
  /** Wrong tokens an address may send within `windowMs` before it is locked out (default 10). */
  maxFailures?: number;
  windowMs?: number;
  /** First lockout; each further one doubles, up to `maxLockMs` (defaults 30 s and 15 min). */
  lockMs?: number;
  maxLockMs?: number;
  /** Addresses tracked at once; the oldest entry is dropped beyond this (default 10,000), so memory stays bounded. */
  maxTracked?: number;
  now?: () => number;
}

interface Strikes {
  failures: number[];
  lockedUntil: number;
  lockouts: number;
}

/**
 * Locks out a remote address that keeps sending wrong tokens: after `maxFailures` within `windowMs` every request
 * from it is refused with 429 before its token is even compared (so guessing cannot go on at full speed), for a time
 * that doubles with each lockout. Loopback peers are never locked out: every web page a designer visits reaches the
 * server from 127.0.0.1 too, so a lockout there would let any page shut the designer out of their own server; the
 * pairing token (160 random bits) is what protects loopback, and guessing it is hopeless at any rate.
 */
export class WrongTokenBackoff {
  private readonly strikes = new Map<string, Strikes>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockMs: number;
  private readonly maxLockMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;

  constructor(options: BackoffOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.lockMs = options.lockMs ?? 30_000;
    this.maxLockMs = options.maxLockMs ?? 15 * 60_000;
    this.maxTracked = options.maxTracked ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Throws 429 with Retry-After while `address` is locked out. */
  assertAllowed(address: string): void {
    const entry = this.strikes.get(address);
    const now = this.now();
    if (!entry || entry.lockedUntil <= now) return;
    const seconds = Math.ceil((entry.lockedUntil - now) / 1000);
    throw new HttpError(429, `Too many wrong pairing codes from this address: try again in ${seconds} s with the right code.`, { 'Retry-After': String(seconds) });
  }

  /** Counts a wrong token from `address`. */
  failed(address: string): void {
    const now = this.now();
    let entry = this.strikes.get(address);
    if (!entry) {
      if (this.strikes.size >= this.maxTracked) this.strikes.delete(this.strikes.keys().next().value as string);
      entry = { failures: [], lockedUntil: 0, lockouts: 0 };
    }
    this.strikes.delete(address);
    this.strikes.set(address, entry); // most recent last: the oldest is dropped first
    entry.failures = entry.failures.filter((t) => now - t < this.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.maxFailures) {
      entry.lockedUntil = now + Math.min(this.maxLockMs, this.lockMs * 2 ** entry.lockouts);
      entry.lockouts++;
      entry.failures = [];
    }
  }

  /** A right token resets the address's count (not its lockout history). */
  succeeded(address: string): void {
    const entry = this.strikes.get(address);
    if (entry) entry.failures = [];
  }
}

/** Whether a socket's peer address is this machine (IPv4, IPv6 and IPv4-mapped loopback). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** The credential check every protected route passes before any work: lockout, token, count. */
export class AccessGate {
  private readonly backoff: WrongTokenBackoff;

  constructor(
    private readonly auth: BearerAuth,
    backoff: BackoffOptions = {},
    /** Where a user finds the token, for 401 messages. */
    private readonly hint = PAIRING_HINT,
  ) {
    this.backoff = new WrongTokenBackoff(backoff);
  }

  /** Throws 429 (locked out) or 401 (no or wrong token); returns when the request carries the token. */
  check(req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? '';
    const loopback = isLoopbackAddress(address);
    if (!loopback) this.backoff.assertAllowed(address);
    try {
      this.auth.check(req, this.hint);
    } catch (err) {
      if (!loopback && bearerOf(req) !== null) this.backoff.failed(address);
      throw err;
    }
    if (!loopback) this.backoff.succeeded(address);
  }
}
