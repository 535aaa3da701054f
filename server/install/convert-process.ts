// A conversion process: turns an official checkpoint into model files (models/convert/from-checkpoint.ts) for the
// installer (installer.ts). The checkpoint reader is synchronous and a 1024-pixel StyleSwin takes a while to read,
// check and write, so it runs here, not on the server's event loop: the server keeps answering (and streaming this
// job's progress) meanwhile, and a cancel kills this process at once. One process converts one checkpoint (every card
// of its catalogue entry), then the installer ends it.
//
// Messages in:  ConvertIn ({ type: 'convert', cards, file, name, companions, names, outDir, templatesDir })
// Messages out: { type: 'progress', card, progress } | { type: 'done', converted } | { type: 'failed', message, code }
import { ConvertError, convertFromCheckpoint, removeFiles, type Converted } from '../../models/convert/from-checkpoint.ts';
import { CheckpointError } from '../../models/convert/torch-checkpoint.ts';
import type { ConvertIn, ConvertOut } from './convert-messages.ts';

const send = (msg: ConvertOut) => {
  if (process.connected) process.send!(msg);
};

process.on('message', (msg: ConvertIn) => {
  if (msg?.type !== 'convert') return;
  void convert(msg);
});

async function convert(msg: ConvertIn): Promise<void> {
  const converted: Converted[] = [];
  try {
    for (const [card, cardId] of msg.cards.entries()) {
      converted.push(await convertFromCheckpoint(cardId, msg.file, { outDir: msg.outDir, templatesDir: msg.templatesDir, companions: msg.companions, onProgress: (progress) => send({ type: 'progress', card, progress }) }));
    }
    send({ type: 'done', converted });
  } catch (err) {
    for (const c of converted) removeFiles(c.paths);
    // Messages name the checkpoint by its path on the server: the user knows it by its file name.
    const text = err instanceof Error ? err.message : String(err);
    let message = text;
    for (const [path, name] of Object.entries({ ...msg.names, [msg.file]: msg.name })) message = message.split(path).join(name);
    const code = err instanceof ConvertError || err instanceof CheckpointError ? err.code : undefined;
    send({ type: 'failed', message, ...(code ? { code } : {}) });
  }
}
