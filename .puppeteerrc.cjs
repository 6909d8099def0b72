// Where puppeteer gets its browser.
// - A system Chromium (Debian's package, or PUPPETEER_EXECUTABLE_PATH): use it, download nothing.
// - Linux as root with apt-get: download nothing either; `npm test` / `npm run bench` first run
//   scripts/ensure-browser.mjs, which installs Debian's chromium (puppeteer's own download is not
//   reachable from every network).
// - Anywhere else: puppeteer downloads its own Chrome as usual.
const fs = require('node:fs');
const { execSync } = require('node:child_process');

const system = [
  process.env.PUPPETEER_EXECUTABLE_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
].find((p) => p && fs.existsSync(p));
const aptAsRoot = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execSync('command -v apt-get', { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
})();

module.exports = system
  ? { skipDownload: true, executablePath: system }
  : aptAsRoot
    ? { skipDownload: true }
    : {};
