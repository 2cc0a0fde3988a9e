// V8 code cache for the bundles in dist/: compiling dist/cli.js and dist/lazy/client.js from
// source is a good part of a command's start (about 15 ms of a one-request command here). `npm run
// build` writes FILE.cache next to each (`write`); the launcher compiles those files with their
// cache (`install`). A cache is used only whole and for the exact file it was made from (see
// header()); V8 itself rejects one made by another Node version, and the file is then compiled
// as usual. CommonJS, no dependencies: the launcher loads it first.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

/**
 * The cache's header: the file it belongs to (size, modification time) and the length of the V8
 * data after it. V8 (Node 20) accepts cut-off data, so the length is checked here; the file is
 * written whole or not at all (a temporary file, then a rename).
 */
function header(file, length) {
  const s = fs.statSync(file);
  return Buffer.from(`rdadmin-code-cache ${s.size} ${Math.floor(s.mtimeMs)} ${length}\n`);
}

function run(script, mod, filename) {
  const fn = script.runInThisContext({ displayErrors: true });
  return fn.call(
    mod.exports,
    mod.exports,
    Module.createRequire(filename),
    mod,
    filename,
    path.dirname(filename),
  );
}

/**
 * Compiles files under `dir` with their cache, when there is a valid one. `report` hears, for
 * each file under `dir`, whether V8 took a cache for it (tests use it).
 */
function install(dir, report) {
  const prefix = dir + path.sep;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(prefix)) return compile.call(this, content, filename);
    let data;
    try {
      data = fs.readFileSync(`${filename}.cache`);
    } catch {
      report?.(filename, false);
      return compile.call(this, content, filename);
    }
    const end = data.indexOf(10);
    const length = end < 0 ? -1 : Number(data.subarray(0, end).toString('latin1').split(' ')[3]);
    const want = header(filename, length);
    if (!data.subarray(0, want.length).equals(want) || data.length - want.length !== length) {
      report?.(filename, false);
      return compile.call(this, content, filename);
    }
    const script = new vm.Script(Module.wrap(content), {
      filename,
      cachedData: data.subarray(want.length),
    });
    report?.(filename, !script.cachedDataRejected);
    return run(script, this, filename);
  };
}

/** Writes FILE.cache for each file: compiled and run once, so what loading compiles is in it. */
function write(files) {
  for (const file of files) {
    const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file });
    const mod = new Module(file, module);
    mod.filename = file;
    mod.paths = Module._nodeModulePaths(path.dirname(file));
    Module._cache[file] = mod;
    run(script, mod, file);
    mod.loaded = true;
    const data = script.createCachedData();
    fs.writeFileSync(`${file}.cache.tmp`, Buffer.concat([header(file, data.length), data]));
    fs.renameSync(`${file}.cache.tmp`, `${file}.cache`);
  }
}

module.exports = { install, write };

// `node bin/code-cache.js FILE…` (from the build, in a fresh process: no V8 flags set).
if (require.main === module) write(process.argv.slice(2).map((f) => path.resolve(f)));
