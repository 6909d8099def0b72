import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

/** The whole project (library, tests, demo, bench) type-checks under strict TypeScript. */
it('tsc --noEmit is clean', () => {
  let output = '';
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], {
      encoding: 'utf8',
    });
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? e);
  }
  expect(output).toBe('');
}, 120_000);
