// The CLI's version, in a module of its own so that commands can print it without importing the
// command table (src/index.ts), which imports them.
import { readFileSync } from 'node:fs';

/** The CLI's version (that of the @basis/cli package). */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
