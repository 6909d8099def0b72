#!/usr/bin/env node
// Runs before `npm test` and `npm run bench` (and in .ci/run): they need a Chromium with WebGPU.
// Where a system Chromium exists (or PUPPETEER_EXECUTABLE_PATH names one), puppeteer uses it and
// skips its own download (.puppeteerrc.cjs). On a Debian/Ubuntu machine with neither, as root,
// Debian's `chromium` package is installed, because puppeteer's own Chrome download is not
// reachable from every network. Everywhere else nothing happens and puppeteer downloads its
// Chrome as usual.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const configured = process.env.PUPPETEER_EXECUTABLE_PATH;
const system = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const has = (cmd) => {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
};

if (configured || system || process.platform !== 'linux' || process.env.PUPPETEER_SKIP_DOWNLOAD) {
  process.exit(0);
}
if (!has('apt-get') || process.getuid?.() !== 0) {
  console.log(
    '[ensure-browser] no system Chromium: puppeteer uses the Chrome it downloads at npm install',
  );
  process.exit(0);
}
console.log('[ensure-browser] installing Debian chromium for headless WebGPU (apt-get)');
try {
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
    stdio: 'inherit',
    shell: '/bin/sh',
  });
} catch {
  console.log('[ensure-browser] apt-get failed; puppeteer will try its own Chrome download');
}
