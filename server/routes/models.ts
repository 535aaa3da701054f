// Model files and the registry: what the UI's engine downloads (and caches by URL, hence immutable names).
import { HttpError, resolveInside, sendFile, sendJson } from '../http-util.ts';
import { hashInName, servableRegistry } from '../models.ts';
import type { Route } from './route.ts';
import { exact, under } from './route.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

export function modelRoutes(): Route[] {
  return [
    {
      methods: ['GET'],
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
      match: under('/models/files/'),
      async handle({ req, res, params, paths }) {
        if (params.rest.includes('/')) throw new HttpError(404, 'Model files are addressed by name only: /models/files/<name>.');
        const path = resolveInside(paths.modelFiles, params.rest);
        const name = path.slice(paths.modelFiles.length + 1);
        try {
          await sendFile(req, res, path, { cacheControl: IMMUTABLE, etag: hashInName(name) ?? undefined });
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) {
            throw new HttpError(404, `Model file ${name} is not built: run \`npm run build\` to convert the models.`);
          }
          throw err;
        }
      },
    },
  ];
}
