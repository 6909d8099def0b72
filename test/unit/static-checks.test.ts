import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

/** The whole project (library, tests, demo, bench) type-checks, lints and is formatted. */
function run(script: string, args: string[]): string {
  try {
    execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(e);
  }
}

it.each([
  ['tsc --noEmit (strict)', 'node_modules/typescript/bin/tsc', ['--noEmit', '-p', '.']],
  ['eslint', 'node_modules/eslint/bin/eslint.js', ['.']],
  [
    'prettier --check',
    'node_modules/prettier/bin/prettier.cjs',
    ['--check', '--log-level', 'warn', '.'],
  ],
])(
  '%s is clean',
  (_name, script, args) => {
    expect(run(script, args)).toBe('');
  },
  180_000,
);
