// Install jobs (task "install-model"): an official checkpoint from models/catalogue.json downloaded (or uploaded by the
// user, like a video clip) and converted into this server's models (server/install/installer.ts). This file is what
// the job layer needs to know of them: the spec, the result, and the runner's interface, so the job service does not
// depend on the installer.
import type { Job } from './job.ts';

export const INSTALL_TASK = 'install-model';

/** An upload's description: a video clip (mime video/*) or a checkpoint file the user picked (install jobs). */
export interface UploadSpec {
  bytes: number;
  mime: string;
  /** The file's name on the user's computer (install jobs; shown in messages only). */
  name?: string;
  /** Install jobs of a checkpoint published as several files (GRAM's generator.pth and ema.pth): the upload is the
   *  files one after another, in this order; `bytes` is their sum. */
  parts?: UploadPart[];
}

export interface UploadPart {
  name: string;
  bytes: number;
}

export interface InstallJobSpec {
  task: typeof INSTALL_TASK;
  /** The catalogue checkpoint id, e.g. "styleswin-ffhq-256". */
  model: string;
  /** Always {}: kept so every job snapshot has params. */
  params: Record<string, never>;
  /** The user accepted the checkpoint's licence (required where the catalogue says acceptBeforeDownload). */
  acceptLicense: boolean;
  /** Install from a file the user picked: its bytes come with PATCH /jobs/{id}/upload. Absent: download it. */
  upload?: UploadSpec;
}

/** What an install leaves on this machine, as the catalogue view and the job's result show it. */
export interface InstalledInfo {
  /** Bytes of the official checkpoint (all its files). */
  bytes: number;
  /** sha256 of the main checkpoint file (the catalogue's first file). */
  sha256: string;
  /** Every file's hash matched a published one; false: none was published ("unverified: no published checksum"). */
  verified: boolean;
  /** ISO date of the install. */
  at: string;
}

export interface InstallJobResult {
  url: string;
  /** Model card ids now in the local registry. */
  cards: string[];
  installed: InstalledInfo;
}

/** The files an install run works with (all in the job's folder). */
export interface InstallRunFiles {
  /** The job's folder: downloads go into DOWNLOAD_DIR under it, the conversion into CONVERTED_DIR. */
  dir: string;
  /** The uploaded checkpoint (install from a file). */
  input: string;
  /** Where the JSON result is written (renamed into place by the service on success). */
  output: string;
}

/** The installer as the job service drives it. */
export interface InstallRunner {
  /** Checks a PUT body whose task is install-model; throws HttpError 400/413 saying what is wrong. */
  parseSpec(body: Record<string, unknown>): InstallJobSpec;
  /** Downloads (or takes the upload), checks, converts and registers; throws on failure or cancel (job.abort). */
  run(job: Job, spec: InstallJobSpec, files: InstallRunFiles): Promise<InstallJobResult>;
}

export function isInstallSpec(spec: { task: string }): spec is InstallJobSpec {
  return spec.task === INSTALL_TASK;
}

export function sameInstallSpec(a: InstallJobSpec, b: InstallJobSpec): boolean {
  const u = a.upload;
  const v = b.upload;
  const sameParts = (x?: UploadPart[], y?: UploadPart[]) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
  const sameUpload = (!u && !v) || (!!u && !!v && u.bytes === v.bytes && u.mime === v.mime && u.name === v.name && sameParts(u.parts, v.parts));
  return a.model === b.model && a.acceptLicense === b.acceptLicense && sameUpload;
}
