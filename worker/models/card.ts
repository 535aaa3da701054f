// The model card contract: one entry of models/registry.json.
import type { ResolvedTarget } from '../job.ts';

export type Layout = 'NCHW' | 'NHWC';
export type DType = 'float32' | 'float16' | 'uint8' | 'int64';

export interface TensorSpec {
  name: string;
  dtype: DType;
  /** -1 (or a name) marks a dynamic dimension. */
  shape: (number | string)[];
}

export interface ImageIo {
  layout: Layout;
  /** Value range of the pixel tensor, e.g. [0, 255] or [0, 1]. */
  range: [number, number];
  /** The tensor is normalised per channel: pixel = value·std + mean, then read in `range` (StyleSwin: ImageNet). */
  normalize?: { mean: number[]; std: number[] };
}

/** A generator's latent input. */
export interface LatentIo {
  name: string;
  size: number;
}

/** GRAM's camera: on a sphere around the origin, looking at it (worker/render/camera.ts; prose fields describe it). */
export interface CameraIo {
  /** Angle between the centres of the first and last pixel column, degrees. */
  fovDeg: number;
  /** The front view, radians: yaw θ and pitch φ of the camera position. */
  default: { yaw: number; pitch: number };
  [detail: string]: unknown;
}

/** What a model file is. files[0] is always the ONNX graph; the others say their kind. */
export type ModelFileKind =
  | 'onnx'
  /** Weights of a graph above protobuf's 2 GB limit; the graph names the file. */
  | 'onnx-external-data'
  /** CLIP's BPE vocabulary (gzip text), for the text encoder's tokenizer. */
  | 'clip-bpe-vocabulary'
  /** VQ-Diffusion's learned null text embedding, raw float32 little-endian, for classifier-free guidance. */
  | 'null-text-embedding';

export interface ModelFile {
  /** Content-addressed file name (contains the sha256 prefix), served under /models/files/. */
  name: string;
  sha256: string;
  bytes: number;
  /** Absent on the ONNX graph (files[0]). */
  kind?: ModelFileKind;
}

/** SimMIM's mask input: one value per `patch`-px token of a `tokens`×`tokens` grid, trained on `grid`-px cells. */
export interface MaskIo {
  name: string;
  grid: number;
  tokens: number;
  patch: number;
}

export interface ModelCard {
  id: string;
  task: string;
  label: string;
  description: string;
  variant: 'full' | 'tiny';
  files: ModelFile[];
  io: {
    inputs: TensorSpec[];
    outputs: TensorSpec[];
    image: ImageIo;
    /** Upscaling factor (output size / input size), 1 for same-size models. */
    scale: number;
    /** Largest tile edge the model runs on at once, and the overlap between tiles, in input pixels. `harmonize`:
     *  the output's tone depends on the whole picture (dehazing), so tiles take their low frequencies from one
     *  whole-image run at tile size (worker/image/harmonize.ts). */
    tile: { size: number; overlap: number; harmonize?: boolean };
    /** Same-size restorers whose degradation keeps local averages (zero-mean noise): the output takes its local
     *  mean colour, a Gaussian of this σ in pixels, from the input (worker/image/local-mean.ts). */
    localMeanFromInput?: number;
    /** Generators: the latent input. */
    latent?: LatentIo;
    /** Renderers (GRAM): the camera convention. */
    camera?: CameraIo;
    /** Generators: the edge of the image they make. */
    size?: number;
    /** Inpainting (SimMIM): the mask input. */
    mask?: MaskIo;
    /** Text encoders: how prompts become tokens. */
    tokenizer?: Record<string, unknown>;
    /** VQ-Diffusion's transformer: the sampling schedule and guidance (see models/export/vqdiffusion.py). */
    diffusion?: import('../diffusion/schedule.ts').DiffusionIo;
  };
  /** For tasks with a `mode` param (restore): the mode this model does, e.g. 'denoise'. */
  mode?: string;
  /** A part of a multi-model pipeline (VQ-Diffusion: 'text-encoder' | 'transformer' | 'decoder'), or 'large-tiles'
   *  on a larger-tile build of another card. A card with a role is offered only by tasks that ask for that role. */
  role?: string;
  /** The id of the same weights built for larger tiles (role 'large-tiles'), for the targets that have the memory
   *  for them (MAXIM: 256-px tiles on onnxruntime-node and the server, where a tile sees more of the picture). Tasks
   *  reach it with ctx.part('largeTiles'). */
  largeTiles?: string;
  /** The pipeline a part belongs to: its id and the card id of each part, keyed by role name. */
  pipeline?: { id: string } & Record<string, string>;
  license: string;
  source: { paper?: string; checkpoint: string; converter?: string };
  targets: ResolvedTarget[];
  /** Measured quality notes shown to users (e.g. PSNR gain over bicubic). */
  notes?: string;
}

export interface Registry {
  version: 1;
  models: ModelCard[];
}

export function findModel(registry: Registry, id: string): ModelCard | undefined {
  return registry.models.find((m) => m.id === id);
}
