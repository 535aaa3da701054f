// Model files and the registry: what the UI's engine downloads (and caches by URL, hence immutable names). A file is
// served only as its card describes it: the size and sha256 are checked before the first byte goes out (and again
// whenever the file changes on disk), so a damaged file is never handed out as `immutable` under the hash it lacks.
// Files of the shipped registry are public weights; files of models converted on this machine (the local registry:
// a user's own checkpoints, GRAM's non-redistributable weights) need the pairing token.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFile, Registry } from '../../worker/models/card.ts';
import { sha256OfFile } from '../../worker/models/file-source.ts';
// The code the plugin acts on: it reports a corrupt model file, not a busy server.
import { DAMAGED_MODEL_FILE } from '../../worker/models/http-source.ts';
import { readLocalRegistry } from '../../models/local-models.ts';
import { HttpError, resolveInside, sendFile, sendJson } from '../http-util.ts';
import { readShippedRegistry, servableRegistry } from '../models.ts';
import type { ServerPaths } from '../paths.ts';
import type { Route } from './route.ts';
import { exact, under } from './route.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Listed {
  file: ModelFile;
  /** Listed only by the local registry (converted on this machine): served with the token only. */
  private: boolean;
}

/** The card entry that names `name`: the shipped registry's first (public), else the local registry's (private). */
async function findFile(paths: ServerPaths, name: string): Promise<Listed | null> {
  const named = (registry: Registry | null) => registry?.models.flatMap((m) => m.files).find((f) => f.name === name);
  const shipped = named(await readShippedRegistry(paths).catch(() => null));
  if (shipped) return { file: shipped, private: false };
  const local = named(readLocalRegistry(paths.localRegistry));
  return local ? { file: local, private: true } : null;
}

/**
 * Remembers which files hashed right, keyed by size and modification time: a file is hashed once, not per request,
 * and again after it changes. Concurrent first requests share one hash.
 */
class VerifiedFiles {
  private readonly known = new Map<string, { key: string; check: Promise<boolean> }>();

  verify(path: string, key: string, sha256: string): Promise<boolean> {
    const entry = this.known.get(path);
    if (entry && entry.key === key) return entry.check;
    const check = sha256OfFile(path).then(
      (actual) => actual === sha256.toLowerCase(),
      () => false,
    );
    this.known.set(path, { key, check });
    return check;
  }
}

function damaged(name: string, why: string): HttpError {
  return new HttpError(503, `Model file ${name} is damaged on the server (${why}): run \`npm run build\` on the server to convert it again.`, { 'Retry-After': '60' }, DAMAGED_MODEL_FILE);
}

export function modelRoutes(): Route[] {
  const verified = new VerifiedFiles();
  return [
    {
      methods: ['GET'],
      access: 'public',
      match: exact('/models/registry.json'),
      async handle({ res, paths }) {
        let servable;
        try {
          servable = await servableRegistry(paths);
        } catch (err) {
          throw new HttpError(404, (err as Error).message);
        }
        sendJson(res, 200, servable.registry);
      },
    },
    {
      methods: ['GET'],
      access: 'public', // in part: see `private` below
      match: under('/models/files/'),
      async handle({ req, res, params, paths, requireToken }) {
        if (params.rest.includes('/')) throw new HttpError(404, 'Model files are addressed by name only: /models/files/<name>.');
        const path = resolveInside(paths.modelFiles, params.rest);
        const name = path.slice(paths.modelFiles.length + 1);
        const listed = await findFile(paths, name);
        if (!listed) throw new HttpError(404, `No model file named ${name} on this server: the registry (/models/registry.json) names the files it serves.`);
        if (listed.private) requireToken();
        const { file } = listed;
        const info = await stat(path).catch(() => null);
        if (!info?.isFile()) throw new HttpError(404, `Model file ${name} is not built: run \`npm run build\` to convert the models.`);
        if (info.size !== file.bytes) throw damaged(name, `${info.size} bytes where its card says ${file.bytes}`);
        if (!(await verified.verify(path, `${info.size}:${info.mtimeMs}`, file.sha256))) throw damaged(name, 'its sha256 is not the one its card states');
        await sendFile(req, res, join(paths.modelFiles, name), {
          cacheControl: listed.private ? 'private, max-age=31536000, immutable' : IMMUTABLE,
          etag: file.sha256.toLowerCase(),
        });
      },
    },
  ];
}
