import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as zoo from '../index.js';
import * as zooNode from '../node.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Relative modules reachable from `file` through static imports and re-exports. */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const m of src.matchAll(/(?:import|export)[^'"]*from\s+'([^']+)'/g)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) reachable(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
    else seen.add(spec);
  }
  return seen;
}

describe('entry points', () => {
  it('the data area behind the main entry is browser-safe (no node: modules, no Node-only subpaths)', () => {
    const deps = [...reachable(join(here, 'index.ts'))];
    expect(deps.filter((d) => d.startsWith('node:') || d.endsWith('/node') || d === 'fs' || d === 'zlib')).toEqual([]);
    expect(deps.filter((d) => !d.startsWith('/')).sort()).toEqual(['@basis/tensor', '@tensorflow/tfjs-core', 'fflate']);
  });
  it('exports the data API from @basis/zoo and the loaders from @basis/zoo/node', () => {
    for (const name of ['loadMnist', 'loadMnistAll', 'loadFashionMnist', 'loadMnistIdx', 'loadIdxDataset', 'readIdxFile', 'writeIdxFile', 'loadCrossDataset']) {
      expect(typeof (zooNode as Record<string, unknown>)[name], name).toBe('function');
      expect((zoo as Record<string, unknown>)[name], name).toBeUndefined();
    }
    for (const name of ['applyOod', 'listOodConditions', 'oodBattery', 'splitDataset', 'batches', 'datasetToTensors', 'decodeIdx', 'gaussianMixture', 'teacherDataset', 'modularAddition', 'mnistFromClassArrays', 'fashionMnistFromClassArrays']) {
      expect(typeof (zoo as Record<string, unknown>)[name], name).toBe('function');
    }
    // general utilities are not zoo's API (issue 17): checksums and compression live in @basis/tensor's io
    for (const name of ['crc32', 'gunzip', 'isGzip', 'encodeIdx']) {
      expect((zoo as Record<string, unknown>)[name], name).toBeUndefined();
      expect((zooNode as Record<string, unknown>)[name], name).toBeUndefined();
    }
  });
});
