// Official models through the local server ("Official models in one click"): the catalogue with each checkpoint's
// state on this server, installs as jobs of the job API (server/routes/jobs.ts, task "install-model": the work is in
// server/install/installer.ts), and uninstall. Every route needs the token.
//
// ## HTTP contract (shared by the server and the UI)
//
// 1. `GET /models/catalogue` → 200 JSON `{ "entries": CatalogueEntryView[] }`, one per catalogue checkpoint whose
//    status is not "unused" (models/catalogue.json via models/catalogue.ts; CatalogueEntryView in installer.ts):
//    id, family, familyLabel, label, task, dataset, quality, targets, status ('available' | 'planned'), reason?,
//    license { summary, commercialUse, redistribution, acceptBeforeDownload, url },
//    download { url, directDownload, bytes, sha256Published }, files (the official files' names), cards,
//    install: 'download' (direct URL + a template: one click) | 'file' (a template, but the file must come from the
//    user: browser-only download page) | 'python' (no template yet: npm run convert) | 'no' (planned),
//    state: 'installed' | 'not-installed' | 'installing', installing?: { job }, installed?: { bytes, verified,
//    sha256, at } (verified: the hash matched a published one; bytes: the checkpoint's; also modelBytes).
// 2. Install = a job: `PUT /jobs/{id}` with
//    - download: {"task":"install-model","model":"<catalogue id>","acceptLicense":true} (acceptLicense required when
//      license.acceptBeforeDownload: 400 with the licence summary otherwise, code "license-not-accepted");
//    - from a file the user picked: {"task":"install-model","model":"<id>","acceptLicense":true,"upload":{"bytes":N,
//      "mime":"application/octet-stream","name":"FFHQ_256.pt"}}, then the bytes go up with PATCH /jobs/{id}/upload
//      exactly as video clips do (resumable; worker/runtime/jobs-client.ts). A checkpoint published as several files
//      (GRAM: generator.pth and ema.pth) is uploaded as all of them one after another, with "parts":[{"name","bytes"},
//      …] in upload (bytes = their sum); the server splits them and tells them apart by what they hold.
//    Progress: GET /jobs/{id} / GET /jobs/{id}/events (SSE) snapshots with progress { stage, done, total, message? },
//    stages 'upload' | 'download' (bytes) | 'convert' (checking the file, then the converter's read/compute/write
//    steps, with a message) | 'done' ('queued' while it waits). POST /jobs/{id}/cancel cancels (partial files
//    removed). Errors end the job "failed" with `error` in plain words: cannot reach the host, 404, not a checkpoint
//    (a web page), another model's checkpoint, hash or size mismatch, not enough disk space (how much is needed and
//    free). A second install of the same checkpoint while one runs is 409.
//    Success: state "succeeded", result { cards, installed, url }; the cards are in the local registry at once, so
//    GET /models/registry.json lists the real model (variant "full") and tasks pick it over the tiny test model.
// 3. Uninstall: `DELETE /models/installed/{catalogue id}` → 204 (its cards leave the local registry, their files are
//    deleted); 404 when unknown or not installed; 409 while an install of it is running.
import type { Installer } from '../install/installer.ts';
import type { JobService } from '../jobs/service.ts';
import { HttpError, sendJson } from '../http-util.ts';
import type { Route } from './route.ts';
import { exact } from './route.ts';

const INSTALLED = /^\/models\/installed\/([^/]*)$/;

export function installRoutes(installer: Installer, jobs: JobService): Route[] {
  return [
    {
      methods: ['GET'],
      match: exact('/models/catalogue'),
      handle({ res }) {
        const entries = installer.view((id) => jobs.activeInstall(id)?.id);
        sendJson(res, 200, { entries }, { 'Cache-Control': 'no-store' });
      },
    },
    {
      methods: ['DELETE'],
      match: (pathname) => {
        const m = INSTALLED.exec(pathname);
        return m ? { id: m[1] } : null;
      },
      async handle({ res, params }) {
        const running = jobs.activeInstall(params.id);
        if (running) {
          throw new HttpError(409, `${params.id} is being installed (job ${running.id}): cancel it first (POST /jobs/${running.id}/cancel), or wait for it to end.`);
        }
        await installer.uninstall(params.id);
        res.writeHead(204, { 'Cache-Control': 'no-store' });
        res.end();
      },
    },
  ];
}
