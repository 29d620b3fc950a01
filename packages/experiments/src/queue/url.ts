// Where the job queue lives: a redis:// or rediss:// URL, given directly, or read from an environment
// variable so that a password never appears on a command line. The URL is never printed as given:
// every log line and error shows the masked form and has the password removed.
import { BasisError } from '@basis/tensor';

/**
 * A resolved queue address. `url` holds the credentials and must not be printed; `display` is the
 * masked form (password replaced by `***`) for logs and errors.
 *
 * @example
 * ```ts
 * const t = resolveQueueUrl('env:BASIS_QUEUE_URL');
 * console.log(`queue ${t.display}`); // queue rediss://basis:***@10.0.0.5:6380
 * ```
 */
export interface QueueTarget {
  /** The full URL (with credentials): for the Redis client only. */
  readonly url: string;
  /** The masked URL, safe to print. */
  readonly display: string;
  /** Strings that must never be printed (the password, raw and URL-decoded). */
  readonly secrets: readonly string[];
  /** True for rediss:// (TLS). */
  readonly tls: boolean;
}

/** The environment variable read when no queue is named (`--queue` without a value). */
export const QUEUE_ENV = 'BASIS_QUEUE';

const usage = (m: string): never => {
  throw new BasisError('USAGE', m);
};

/**
 * Resolves a `--queue` value: `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS),
 * `env:NAME` (the URL is in the environment variable NAME), or undefined/empty (the variable
 * `BASIS_QUEUE`). USAGE when it is missing or malformed; the message never contains the password.
 *
 * @example
 * ```ts
 * resolveQueueUrl('redis://127.0.0.1:6379').display; // 'redis://127.0.0.1:6379'
 * resolveQueueUrl('redis://:s3cret@10.1.2.3:6379/2').display; // 'redis://:***@10.1.2.3:6379/2'
 * resolveQueueUrl('env:BASIS_QUEUE_URL', { BASIS_QUEUE_URL: 'rediss://u:p@host:6380' }).tls; // true
 * ```
 */
export function resolveQueueUrl(spec: string | undefined, env: Record<string, string | undefined> = process.env): QueueTarget {
  let raw: string;
  let from: string;
  if (spec === undefined || spec === '') {
    const v = env[QUEUE_ENV];
    if (v === undefined || v === '') usage(`no queue given: pass --queue redis://HOST:PORT (or --queue env:NAME to read the URL from an environment variable), or set ${QUEUE_ENV}`);
    raw = v as string;
    from = `the environment variable ${QUEUE_ENV}`;
  } else if (spec.startsWith('env:')) {
    const name = spec.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) usage(`--queue ${spec}: '${name}' is not an environment variable name`);
    const v = env[name];
    if (v === undefined || v === '') usage(`--queue env:${name}: the environment variable ${name} is not set`);
    raw = v as string;
    from = `the environment variable ${name}`;
  } else {
    raw = spec;
    from = '--queue';
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return usage(`${from} is not a URL: expected redis://HOST:PORT or rediss://USER:PASSWORD@HOST:PORT (the value is not shown, it may hold a password)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') usage(`${from} must be a redis:// or rediss:// URL, got a ${u.protocol}// URL`);
  if (u.hostname === '') usage(`${from} names no host: expected redis://HOST:PORT`);
  if (u.port !== '' && !(Number(u.port) >= 1 && Number(u.port) <= 65535)) usage(`${from}: port ${u.port} is out of range`);
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) usage(`${from}: the path must be a database number (/0 ... /15), got '${u.pathname}'`);
  if (u.search !== '' || u.hash !== '') usage(`${from}: query strings and fragments are not supported`);
  const secrets: string[] = [];
  if (u.password !== '') {
    secrets.push(u.password);
    try {
      const dec = decodeURIComponent(u.password);
      if (dec !== u.password) secrets.push(dec);
    } catch {
      // a malformed escape: the raw form is masked
    }
  }
  const masked = new URL(u.href);
  if (masked.password !== '') masked.password = '***';
  const display = masked.href.replace(/\/$/, '');
  return { url: u.href, display, secrets, tls: u.protocol === 'rediss:' };
}

/**
 * `text` with every secret of `target` (its password, raw and decoded) and its full URL replaced
 * by the masked form. Used on every log line and error message that may echo the connection.
 *
 * @example
 * ```ts
 * maskSecrets('auth failed for redis://:s3cret@h:1', resolveQueueUrl('redis://:s3cret@h:1')); // 'auth failed for redis://:***@h:1'
 * ```
 */
export function maskSecrets(text: string, target: Pick<QueueTarget, 'secrets' | 'url' | 'display'>): string {
  let out = text.split(target.url).join(target.display);
  for (const s of target.secrets) if (s !== '') out = out.split(s).join('***');
  return out;
}
