#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: the declarations keep the sources' `./x.ts` specifiers
// (rewriteRelativeImportExtensions rewrites emitted JavaScript, not .d.ts). Consumers resolve
// them under moduleResolution node16/nodenext only as `./x.js`, which also works under
// `bundler`, so every relative specifier in dist's .d.ts files is rewritten to `.js`.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RELATIVE_TS = /((?:from\s+|import\s*\(\s*)['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.d.ts') ? [path] : [];
  });
}

let files = 0;
for (const path of walk(process.argv[2] ?? 'dist')) {
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(RELATIVE_TS, '$1.js$2');
  if (fixed !== text) {
    writeFileSync(path, fixed);
    files++;
  }
}
console.log(
  `[dts-extensions] rewrote relative .ts specifiers to .js in ${files} declaration files`,
);
