import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { expect, it } from 'vitest';

/** `webgpu-optim/tfjs` is a separate entry of the build that carries no import of TF.js. */
it('dist/tfjs.js is built and imports nothing but its own chunks', async () => {
  const outDir = resolve('test-output/tfjs-package');
  await build({ logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const pkg = JSON.parse(await readFile('package.json', 'utf8'));
  expect(pkg.exports['./tfjs']).toEqual({
    types: './dist/src/tfjs/index.d.ts',
    import: './dist/tfjs.js',
  });
  const files = (await readdir(outDir)).filter((f) => f.endsWith('.js'));
  expect(files).toContain('tfjs.js');
  for (const f of files) {
    const code = await readFile(join(outDir, f), 'utf8');
    // Static imports (at a statement start) and dynamic import() calls.
    const specifiers = [
      ...code.matchAll(/(?:^|;)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/gm),
      ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
    ].map((m) => m[1]);
    if (f === 'tfjs.js') expect(specifiers.length).toBeGreaterThan(0); // the shared chunk
    for (const s of specifiers) expect(s, `${f} imports ${s}`).toMatch(/^\.\//);
  }
});
