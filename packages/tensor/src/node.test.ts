import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pathExists } from './node.js';

describe('pathExists', () => {
  const dirP = mkdtemp(join(tmpdir(), 'basis-exists-'));
  afterAll(async () => rm(await dirP, { recursive: true, force: true }));

  it('is true for a file and a folder, false for a missing path and under a missing parent', async () => {
    const dir = await dirP;
    await writeFile(join(dir, 'a.txt'), 'x');
    expect(await pathExists(join(dir, 'a.txt'))).toBe(true);
    expect(await pathExists(dir)).toBe(true);
    expect(await pathExists(join(dir, 'missing'))).toBe(false);
    expect(await pathExists(join(dir, 'no', 'such', 'file'))).toBe(false);
  });
});
