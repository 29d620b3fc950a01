import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * Root of the reference fixtures copied into this repository (`tooling/test-utils/fixtures`,
 * a copy of the shared fixtures with their README). Tests never read outside the repository.
 */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Absolute path of a fixture file, e.g. `fixturePath('linalg/svd-gauss-40x25.npy')`. */
export function fixturePath(relative: string): string {
  const p = join(FIXTURES_DIR, relative);
  if (!existsSync(p)) throw new Error(`fixture ${relative} not found under ${FIXTURES_DIR}`);
  return p;
}

/** Raw bytes of a fixture file (parse `.npy` with `@basis/tensor`'s `readNpy`). */
export function fixtureBytes(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(relative)));
}

/** A parsed JSON fixture. */
export function fixtureJson<T = Record<string, unknown>>(relative: string): T {
  return JSON.parse(readFileSync(fixturePath(relative), 'utf8')) as T;
}

/** The metric fixture cases (folder names under `metrics/`). */
export function metricCases(): string[] {
  return readdirSync(join(FIXTURES_DIR, 'metrics'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}
