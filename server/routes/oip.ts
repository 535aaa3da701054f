// Open Inference Protocol v2 REST (../shared/specs/open-inference-protocol): server and model metadata, health,
// and /infer with JSON tensors or the binary tensor data extension. The models are the servable registry's.
import { FRONTIER_VERSION } from '../../worker/job.ts';
import { HttpError, readBody, sendJson } from '../http-util.ts';
import { servableRegistry } from '../models.ts';
import { HEADER_LENGTH, splitRequestBody } from '../oip/binary.ts';
import { bodyTooLargeMessage } from '../oip/bounds.ts';
import { oipOfOrt } from '../oip/datatypes.ts';
import { encodeInferResponse, MODEL_VERSION, parseInferRequest, sendInferResponse } from '../oip/infer.ts';
import type { PlainTensor } from '../oip/pool.ts';
import { RunFailure, runFailureResponse } from '../oip/run-errors.ts';
import type { OipService } from '../oip/service.ts';
import type { LoadedModel } from '../oip/sessions.ts';
import { raceAbort, requestDeadline } from '../security.ts';
import type { Route } from './route.ts';
import { exact } from './route.ts';

export const SERVER_NAME = 'frontier';
export const EXTENSIONS = ['binary_tensor_data'];
export const PLATFORM = 'onnxruntime_onnx';

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready)?$/;
const INFER_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer$/;

function capture(re: RegExp): Route['match'] {
  return (pathname) => {
    const m = re.exec(pathname);
    if (!m) return null;
    return { model: m[1], version: m[2] ?? '', ready: m[3] ? '1' : '' };
  };
}

/** The model id from the URL, checked against the one version every model has. */
function modelFrom(params: Record<string, string>): string {
  let id: string;
  let version: string;
  try {
    id = decodeURIComponent(params.model);
    version = decodeURIComponent(params.version);
  } catch {
    throw new HttpError(400, `Malformed percent-encoding in the model name or version.`);
  }
  if (version !== '' && version !== MODEL_VERSION) {
    throw new HttpError(404, `Model ${id} has no version ${version}; its versions: ${MODEL_VERSION}.`);
  }
  return id;
}

function modelMetadata(model: LoadedModel, oip: OipService) {
  const tensor = (t: LoadedModel['inputs'][number]) => ({ name: t.name, datatype: oipOfOrt(t.type), shape: t.shape });
  const { card } = model;
  return {
    name: card.id,
    versions: [MODEL_VERSION],
    platform: PLATFORM,
    inputs: model.inputs.map(tensor),
    outputs: model.outputs.map(tensor),
    // The spec's free-form string properties: what a client needs to use an image model well.
    properties: {
      task: card.task,
      label: card.label,
      scale: String(card.io.scale),
      layout: card.io.image.layout,
      range: card.io.image.range.join(','),
      tile_size: String(card.io.tile.size),
      tile_overlap: String(card.io.tile.overlap),
      execution_provider: oip.sessions.executionProvider.name,
    },
  };
}

/** Runs the model; `signal` (deadline, client gone) stops the run. Failures become 400 (the input), 503, or 500. */
async function runSession(oip: OipService, model: LoadedModel, feeds: Record<string, PlainTensor>, fetches: string[], signal?: AbortSignal) {
  try {
    return await oip.sessions.run(model, feeds, fetches, signal);
  } catch (err) {
    if (err instanceof HttpError) throw err; // the deadline's 504, the client's 499
    if (err instanceof RunFailure) throw runFailureResponse(model.card.id, err);
    throw new HttpError(503, `${model.card.id} could not run: ${(err as Error).message}. Retry in a moment.`, { 'Retry-After': '1' });
  }
}

export function oipRoutes(oip: OipService): Route[] {
  const serverMetadata: Route['handle'] = async ({ res }) => {
    const ep = await oip.sessions.probe();
    sendJson(res, 200, {
      name: SERVER_NAME,
      version: FRONTIER_VERSION,
      extensions: EXTENSIONS,
      execution_provider: ep.name,
      execution_provider_detail: ep.detail,
    });
  };

  return [
    { methods: ['GET'], match: exact('/v2'), handle: serverMetadata },
    { methods: ['GET'], match: exact('/v2/'), handle: serverMetadata },
    // Health checks stay open for load balancers and Kubernetes probes; they compute nothing and name no model.
    {
      methods: ['GET'],
      access: 'public',
      match: exact('/v2/health/live'),
      handle: ({ res }) => sendJson(res, 200, { live: true }),
    },
    {
      methods: ['GET'],
      access: 'public',
      match: exact('/v2/health/ready'),
      async handle({ res }) {
        let count = 0;
        let why = 'no model is built: run `npm run build` on the server';
        try {
          count = (await servableRegistry(oip.paths)).registry.models.length;
        } catch (err) {
          why = (err as Error).message;
        }
        if (count === 0) sendJson(res, 503, { ready: false, error: `Not ready: ${why}.` });
        else sendJson(res, 200, { ready: true });
      },
    },
    {
      methods: ['GET'],
      match: capture(MODEL_PATH),
      async handle({ res, params }) {
        const id = modelFrom(params);
        if (params.ready) {
          await oip.sessions.card(id); // 404 for unknown models
          try {
            await oip.sessions.ready(id);
          } catch (err) {
            sendJson(res, 503, { name: id, ready: false, error: (err as Error).message });
            return;
          }
          sendJson(res, 200, { name: id, ready: true });
          return;
        }
        sendJson(res, 200, modelMetadata(await oip.sessions.get(id), oip));
      },
    },
    {
      methods: ['POST'],
      match: capture(INFER_PATH),
      async handle({ req, res, params }) {
        const id = modelFrom(params);
        const admission = oip.limiter.admit(); // 503 before anything is buffered
        const deadline = requestDeadline(oip.requestTimeoutMs, `Inference on ${id}`);
        const onClose = () => {
          if (!res.writableFinished) deadline.clientGone();
        };
        res.on('close', onClose);
        try {
          const model = await raceAbort(oip.sessions.get(id), deadline.signal);
          // The smaller of the server's limit and what this model can take: an oversized body is refused unread.
          const limit = Math.min(oip.maxBodyBytes, model.bounds.maxBodyBytes);
          const body = await readBody(req, limit, deadline.signal, limit < oip.maxBodyBytes ? bodyTooLargeMessage(id, model.bounds) : undefined);
          const parsed = parseInferRequest(model, splitRequestBody(body, req.headers[HEADER_LENGTH]));
          const fetches = parsed.outputs.map((o) => o.name);
          const results = await admission.run((signal) => runSession(oip, model, parsed.feeds, fetches, signal), deadline.signal);
          sendInferResponse(res, encodeInferResponse(model, parsed, results));
        } finally {
          deadline.dispose();
          admission.release();
          res.off('close', onClose);
        }
      },
    },
  ];
}
