// upload.parts of an install from several files (GRAM's generator.pth and ema.pth sent one after another): the sizes
// must add up, each part is {name, bytes}, and a name can only ever be a file's name inside the job's folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParts } from '../../server/install/installer.ts';

test('parts: names reduced to a file name that is never a folder; sizes that add up; nothing else', () => {
  assert.equal(parseParts(undefined, 10), undefined);
  assert.deepEqual(parseParts([{ name: 'C:\\Users\\me\\generator.pth', bytes: 4 }, { name: '../../ema.pth', bytes: 6 }], 10), [{ name: 'generator.pth', bytes: 4 }, { name: 'ema.pth', bytes: 6 }]);
  assert.deepEqual(parseParts([{ name: '..', bytes: 4 }, { name: 'a/.', bytes: 6 }], 10), [{ name: 'file', bytes: 4 }, { name: 'file', bytes: 6 }]);
  assert.throws(() => parseParts([{ name: 'a', bytes: 4 }], 10), /add up to 4 bytes, and upload\.bytes is 10/);
  assert.throws(() => parseParts([{ name: 'a', bytes: 0 }], 0), /a whole number ≥ 1/);
  assert.throws(() => parseParts([{ name: 'a\u0000b', bytes: 1 }], 1), /names its file/);
  assert.throws(() => parseParts([{ name: 'a', bytes: 1, path: '/etc' }], 1), /Each of upload\.parts is \{"name", "bytes"\}/);
  assert.throws(() => parseParts('x', 1), /must list the files/);
  assert.throws(() => parseParts(Array.from({ length: 9 }, () => ({ name: 'a', bytes: 1 })), 9), /must list the files/);
});
