// tooling/scripts/setup-native.sh (called by the README's set-up commands and .ci/run): installs
// OpenBLAS with apt-get where it can (sudo when not root, never a password prompt without a
// terminal), skips silently elsewhere, and never fails. Run against stub commands on the PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/setup-native.sh', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'basis-setup-native-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const which = (cmd: string): string => execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();

interface Machine {
  os?: string;
  uid?: number;
  apt?: boolean;
  sudo?: boolean;
  installed?: boolean;
  /** apt-get install fails until apt-get update ran (a fresh container). */
  needsUpdate?: boolean;
  aptFails?: boolean;
}

/** Runs the script on a PATH of stubs that log their calls; returns the log, stderr and exit code. */
function runOn(m: Machine, env: Record<string, string> = {}): { calls: string[]; stderr: string; code: number | null } {
  const bin = mkdtempSync(join(root, 'bin-'));
  const log = join(bin, 'calls.log');
  const stub = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  for (const tool of ['grep', 'env', 'cat']) symlinkSync(which(tool), join(bin, tool));
  stub('uname', `echo ${m.os ?? 'Linux'}`);
  stub('id', `echo ${m.uid ?? 0}`);
  stub('dpkg', `exit ${m.installed === true ? 0 : 1}`);
  stub('ldconfig', 'exit 0');
  const updated = join(bin, 'updated');
  if (m.apt ?? true) {
    stub(
      'apt-get',
      `echo "apt-get $*" >> ${log}\n` +
        `if [ "$1" = update ]; then : > ${updated}; exit 0; fi\n` +
        `${m.aptFails === true ? 'exit 100' : m.needsUpdate === true ? `[ -e ${updated} ] || exit 100` : 'exit 0'}`,
    );
  }
  if (m.sudo ?? true) stub('sudo', `echo "sudo $*" >> ${log}\nif [ "$1" = -n ]; then shift; fi\nexec "$@"`);
  const r = spawnSync(which('sh'), [SCRIPT], { env: { PATH: bin, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { calls: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [], stderr: r.stderr, code: r.status };
}

describe('setup-native.sh', () => {
  it('as root on Debian/Ubuntu: apt-get install -y libopenblas0-pthread, with one line saying so', () => {
    const r = runOn({});
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['apt-get install -y -qq libopenblas0-pthread']);
    expect(r.stderr).toMatch(/^basis: installing OpenBLAS for the native engine/);
  });

  it('not root: through sudo, non-interactively when there is no terminal', () => {
    const r = runOn({ uid: 1000 });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread', 'apt-get install -y -qq libopenblas0-pthread']);
  });

  it('a fresh container: apt-get update, then the install', () => {
    const r = runOn({ needsUpdate: true });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['apt-get install -y -qq libopenblas0-pthread', 'apt-get update -qq', 'apt-get install -y -qq libopenblas0-pthread']);
  });

  it('never fails: apt errors, no sudo, already installed, no apt, macOS, or skipped', () => {
    const failing = runOn({ aptFails: true });
    expect(failing.code).toBe(0);
    expect(failing.stderr).toMatch(/could not install libopenblas0-pthread; basis will use its WebAssembly kernels/);
    const noSudo = runOn({ uid: 1000, sudo: false });
    expect(noSudo.code).toBe(0);
    expect(noSudo.calls).toEqual([]);
    expect(noSudo.stderr).toMatch(/as root run 'apt-get install -y libopenblas0-pthread'/);
    for (const quiet of [runOn({ installed: true }), runOn({ apt: false }), runOn({ os: 'Darwin' }), runOn({}, { BASIS_SETUP_NATIVE: 'skip' })]) {
      expect(quiet.code).toBe(0);
      expect(quiet.calls).toEqual([]);
      expect(quiet.stderr).toBe('');
    }
  });
});
