// The staleness hash of a recipe report: a SHA-256 over the recipe's own source files (under
// src/recipes, line endings normalised) and its validated configuration. Deliberately not the whole
// dependency tree: a committed report goes stale when its recipe or configuration changes.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BasisError } from '@basis/tensor';
import type { AnyRecipe } from '../recipes/index.js';
import { stringifyStored } from './json.js';

/** The files a recipe's hash covers (its `sources`, default `<id in lower case>.ts`). */
export function recipeSources(recipe: Pick<AnyRecipe, 'id' | 'sources'>): string[] {
  const files = recipe.sources ?? [`${recipe.id.toLowerCase()}.ts`];
  for (const f of files) if (!/^[a-z0-9_.-]+\.ts$/.test(f)) throw new BasisError('INVALID_ARGUMENT', `recipe ${recipe.id}: source '${f}' must be a .ts file name under src/recipes`);
  return [...files];
}

/** What a report records about the code and configuration that produced it. */
export interface RecipeHash {
  /** SHA-256 (hex) over the source files' text and the configuration. */
  hash: string;
  /** The files hashed, relative to the package's src/recipes. */
  files: string[];
}

/**
 * The hash of a recipe's own source files and a (validated) configuration. The sources are read
 * from the package's `src/recipes` (present in the repository; a published package without its
 * sources gets BAD_FILE).
 *
 * @example
 * ```ts
 * const { hash } = await recipeHash(getRecipe('E000-1'), config);
 * ```
 */
export async function recipeHash(recipe: Pick<AnyRecipe, 'id' | 'sources'>, config: unknown, srcDir?: string): Promise<RecipeHash> {
  const files = recipeSources(recipe);
  const h = createHash('sha256');
  for (const f of files) {
    const path = srcDir === undefined ? fileURLToPath(new URL(`../../src/recipes/${f}`, import.meta.url)) : `${srcDir}/${f}`;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new BasisError('BAD_FILE', `recipe ${recipe.id}: cannot read its source ${path} to hash it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { details: { path } });
    }
    h.update(`file ${f}\n`).update(text.replace(/\r\n/g, '\n')).update('\n');
  }
  h.update('config\n').update(stringifyStored(config));
  return { hash: h.digest('hex'), files };
}
