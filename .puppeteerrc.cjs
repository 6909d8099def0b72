// Use the system Chromium when there is one (Debian's package, CI here); otherwise let
// puppeteer download its own Chrome as usual.
const fs = require('node:fs');
const system = process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';
module.exports = fs.existsSync(system) ? { skipDownload: true, executablePath: system } : {};
