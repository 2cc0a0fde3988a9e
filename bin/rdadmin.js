#!/usr/bin/env node
// Launcher: refuse an unsupported Node before loading anything, then hand over to the bundled CLI.
// CommonJS (bin/package.json): Node starts a CommonJS program faster than an ES module one.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) {
  process.stderr.write(`rdadmin needs Node.js 20.18 or newer (this is ${process.versions.node}).\n`);
  process.exitCode = 2;
} else {
  require('./code-cache.js').install(require('node:path').join(__dirname, '..', 'dist'));
  require('../dist/cli.js').main();
}
