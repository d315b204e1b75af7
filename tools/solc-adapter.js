#!/usr/bin/env node
// Command-line shim that lets py-solc-x (and so ape-solidity and slither) drive solc-js.
// Speaks the subset of the native solc CLI they use:
//   --version
//   --standard-json [--base-path DIR] [--allow-paths A,B] [--include-path DIR]   (input JSON on stdin)
// The output is written with fs.writeSync so that large JSON is never cut at exit.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function nativeVersionString() {
  // solc-js reports "...Emscripten.clang"; py-solc-x only needs "Version: X.Y.Z+commit.HASH".
  return `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`;
}

function parseArgs(argv) {
  const opts = { standardJson: false, version: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      i += 1;
      return argv[i];
    };
    if (a === '--version') opts.version = true;
    else if (a === '--standard-json') opts.standardJson = true;
    else if (a.startsWith('--base-path')) opts.basePath = value();
    else if (a.startsWith('--include-path')) opts.includePaths.push(value());
    else if (a.startsWith('--allow-paths')) opts.allowPaths.push(...String(value()).split(','));
    else if (a.startsWith('--')) {
      // Flags without effect on standard-json compilation (e.g. --no-color) are accepted silently.
    }
  }
  return opts;
}

function makeImportCallback(roots) {
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      try {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (e) {
        // try the next root
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    writeAll(1, nativeVersionString());
    return 0;
  }
  if (!opts.standardJson) {
    writeAll(2, 'solc-adapter: only --version and --standard-json are supported\n');
    return 1;
  }
  const input = fs.readFileSync(0, 'utf8');
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths, ...opts.allowPaths, process.cwd()]
    .filter(Boolean);
  const output = solc.compile(input, { import: makeImportCallback(roots) });
  // solc-js may print a notice before the JSON; keep only the JSON object.
  const start = output.indexOf('{');
  writeAll(1, start > 0 ? output.slice(start) : output);
  return 0;
}

process.exitCode = main();
