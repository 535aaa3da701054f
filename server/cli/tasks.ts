// What `frontier` says about each task, in the words of someone typing at a prompt (the plugin's task table speaks of
// selections, sliders and Settings): the files a task takes, a line about it, its options and examples. The bounds
// and defaults of the options come from the task table itself (worker/tasks/), so they cannot drift.
import { DEFAULT_PORT } from '../../plugin/messages.ts';
import type { ParamSpec, TaskDef } from '../../worker/tasks/task.ts';

export const LOCAL_SERVER = `http://127.0.0.1:${DEFAULT_PORT}`;

interface TaskWords {
  about: string;
  /** Options that must be given, as the usage line shows them. */
  required?: string;
  /** Help for options, by name, where the task table's help speaks of the plugin or is missing. */
  options?: Record<string, string>;
  examples: string[];
}

const SEED = 'The same seed, model and settings give the same image on every computer.';
const TRUNCATION = 'Lower is more typical and cleaner, higher more varied; 1 = no truncation.';
const QUALITY = 'best (ESRGAN thick) is the only one that beats plain bicubic on photos; balanced and fast are quicker but can look blocky.';

const WORDS: Record<string, TaskWords> = {
  upscale: {
    about: 'Enlarge a photo 2×, 3× or 4× (ESRGAN).',
    options: { scale: 'How many times larger.', quality: QUALITY },
    examples: ['frontier upscale photo.png big.png --scale 4', 'frontier upscale photo.jpg big.png --scale 2 --quality fast'],
  },
  restore: {
    about: 'Clean up a photo: remove noise, blur, rain or haze, brighten a dark shot or retouch its colours (MAXIM).',
    options: { mode: 'What is wrong with the photo. Each fix is its own model, trained on real photos with that problem.' },
    examples: ['frontier restore noisy.png clean.png --mode denoise', 'frontier restore street.jpg clear.png --mode dehaze-outdoor'],
  },
  'upscale-video': {
    about: `Enlarge a video clip 2×, 3× or 4× frame by frame (ESRGAN) on a Frontier server: run "npm start" in Frontier's folder, then give --server ${LOCAL_SERVER}.`,
    required: '--server <URL>',
    options: { scale: 'How many times larger.', quality: QUALITY },
    examples: [`frontier upscale-video clip.mp4 big.mp4 --scale 2 --server ${LOCAL_SERVER}`],
  },
  'restore-video': {
    about: `Clean up a video clip frame by frame (MAXIM): remove noise, blur, rain or haze, brighten it or retouch its colours, on a Frontier server: run "npm start" in Frontier's folder, then give --server ${LOCAL_SERVER}.`,
    required: '--server <URL>',
    options: { mode: 'What is wrong with the clip. Each fix is its own model, trained on real photos with that problem; every frame is restored as Restore does a photo.' },
    examples: [`frontier restore-video clip.mp4 clean.mp4 --mode denoise --server ${LOCAL_SERVER}`],
  },
  generate: {
    about: 'Make new images from a seed (StyleSwin). Each PNG remembers its seed and latent, so vary, interpolate and rotate-view can start from it.',
    options: { seed: SEED, count: 'How many images: seeds seed, seed+1, … written to out.png, out-2.png, …' },
    examples: ['frontier generate face.png --seed 7', 'frontier generate face.png --seed 7 --count 3      (face.png, face-2.png, face-3.png)'],
  },
  vary: {
    about: 'Make images close to one that frontier generate made: the same model, nearby latents.',
    options: { count: 'How many variations: out.png, out-2.png, …', seed: 'The same seed gives the same variations.' },
    examples: ['frontier vary face.png nearby.png --strength 0.2 --count 2'],
  },
  interpolate: {
    about: 'Make the in-betweens of two images that frontier generate made with the same model.',
    options: { steps: 'How many in-betweens: out.png, out-2.png, …', truncation: TRUNCATION },
    examples: ['frontier interpolate a.png b.png between.png --steps 5'],
  },
  'rotate-view': {
    about: 'A 3D-aware portrait (GRAM) seen from another angle: a new one from --seed, or the portrait in a PNG that rotate-view made.',
    options: {
      seed: 'A new portrait from this seed (unused when you give a portrait).',
      frames: 'More than 1: a turntable, out.png, out-2.png, … sweeping the yaw from −sweep to +sweep.',
      sweep: 'Degrees either side of the front that a turntable covers.',
      size: 'Width and height of the image in pixels.',
      truncation: TRUNCATION,
    },
    examples: ['frontier rotate-view portrait.png --seed 7', 'frontier rotate-view portrait.png turned.png --yaw 20 --pitch -5'],
  },
  inpaint: {
    about: 'Fill the white part of a mask from its surroundings (SimMIM); the rest of the photo stays as it was.',
    required: '--mask <mask.png>',
    examples: ['frontier inpaint photo.png filled.png --mask mask.png   (mask: white = fill, the size of photo.png)'],
  },
  'text-to-image': {
    about: 'Make an image from a text prompt (VQ-Diffusion). The same prompt, seed and settings give the same image.',
    options: {
      prompt: 'What to draw, in quotes. CLIP reads about 75 words; a longer prompt is cut.',
      guidance: 'How closely to follow the prompt. 1 turns guidance off and runs twice as fast.',
      truncation: 'Keep only the likeliest codes at each step: lower is cleaner and less varied (1 keeps all; 0.86 suits --guidance 1).',
      seed: SEED,
    },
    examples: ['frontier text-to-image lighthouse.png --prompt "a lighthouse on a rocky coast at sunset, oil painting" --seed 3'],
  },
};

/** The files a task takes before its output, and what it writes. */
export interface TaskFiles {
  /** As the usage line shows them, e.g. ['<image>'] or ['[<portrait.png>]']. */
  inputs: string[];
  min: number;
  max: number;
  output: string;
  kind: 'image' | 'video' | 'made';
  /** What the files are, in words: "an image and an output file". */
  needs: string;
}

export function taskFiles(def: TaskDef): TaskFiles {
  if (def.inputs.includes('video')) return { inputs: ['<clip.mp4>'], min: 1, max: 1, output: '<output.mp4>', kind: 'video', needs: 'a video clip and an output file' };
  if (def.inputs.includes('image')) return { inputs: ['<image>'], min: 1, max: 1, output: '<output.png>', kind: 'image', needs: 'an image and an output file' };
  const latents = def.inputs.filter((i) => i === 'latent').length;
  // rotate-view turns a portrait it made earlier when given one, else makes a new one from the seed.
  if (def.id === 'rotate-view') return { inputs: ['[<portrait.png>]'], min: 0, max: 1, output: '<output.png>', kind: 'made', needs: 'an output file, after the portrait to turn if you give one' };
  const inputs = latents === 1 ? ['<made.png>'] : Array.from({ length: latents }, (_, i) => `<made${i + 1}.png>`);
  const needs = latents === 0 ? 'just an output file' : `${latents === 1 ? 'a PNG' : `${latents} PNGs`} that frontier generate made, and an output file`;
  return { inputs, min: latents, max: latents, output: '<output.png>', kind: 'made', needs };
}

export function usageLine(def: TaskDef): string {
  const files = taskFiles(def);
  const required = WORDS[def.id]?.required;
  return ['frontier', def.id, ...files.inputs, files.output, ...(required ? [required] : []), '[options]'].join(' ');
}

const NAME_WIDTH = 32;
const LINE_WIDTH = 100;

/** Help for options that several tasks share, where a task says nothing of its own. */
const SHARED: Record<string, string> = { seed: SEED, truncation: TRUNCATION };

/** `--name <range>  help (default x).` for each of a task's options. */
function optionLines(def: TaskDef): string[] {
  const words = WORDS[def.id]?.options ?? {};
  return optionTable(
    def.params.map((p) => {
      const help = (words[p.name] ?? SHARED[p.name] ?? p.help ?? '').replace(/\.$/, '');
      const fallback = p.type === 'string' ? `"${p.default}"` : String(p.default);
      return [`--${p.name} <${range(p)}>`, `${help}${help ? ' ' : ''}(default ${fallback}).`];
    }),
  );
}

/** Options and their help in two columns, the help wrapped under itself; a long name puts its help on the next line. */
export function optionTable(rows: [string, string][]): string[] {
  const indent = ' '.repeat(NAME_WIDTH + 6);
  const lines: string[] = [];
  for (const [option, help] of rows) {
    const name = `    ${option}`;
    const wrapped = wrap(help, LINE_WIDTH - indent.length);
    if (name.length + 2 > indent.length) lines.push(name, ...wrapped.map((l) => indent + l));
    else lines.push(name.padEnd(indent.length) + wrapped[0], ...wrapped.slice(1).map((l) => indent + l));
  }
  return lines;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

function range(p: ParamSpec): string {
  if (p.type === 'choice') return p.choices.map((c) => c.value).join('|');
  if (p.type === 'number' || p.type === 'integer') return `${p.min}..${p.max}`;
  if (p.type === 'boolean') return 'true|false';
  return 'text';
}

/** One task: its usage line, what it does, its options, examples. */
export function taskHelp(def: TaskDef): string[] {
  const words = WORDS[def.id];
  return [`  ${usageLine(def)}`, ...wrap(words?.about ?? def.description, LINE_WIDTH - 4).map((l) => `    ${l}`), ...optionLines(def)];
}

/** The options every task takes. */
export function globalOptionLines(): string[] {
  return optionTable([
    ['--model <id>', "Which model (default: the task's best installed one; frontier models list shows the official ones)."],
    ['--target auto|node|server', 'Where it runs: this computer (node) or a server; auto picks (default auto).'],
    ['--server <URL>', `A Frontier server (npm start: ${LOCAL_SERVER}), Triton or KServe: the job runs there.`],
    ['--threads <N>', 'CPU threads to use on this computer (default: all).'],
    ['-h, --help', 'This help; frontier <task> --help for one task.'],
  ]);
}

export function taskExamples(def: TaskDef): string[] {
  return WORDS[def.id]?.examples ?? [];
}
