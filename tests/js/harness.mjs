#!/usr/bin/env node
// Replays conformance runs through the npm package in Node or in headless Chromium.
//
//   node harness.mjs --host node|chromium --mode digest|full --input runs.jsonl --output out.json
//                    [--package ../../host-wasm/pkg]
//
// Input: one run per line ({state, ops}, see transcript.mjs). Output: a JSON array with one
// entry per run: {digest} | {answers, state} | {error}. The Rust test (tests/src/js.rs) starts
// this script; it can also be run by hand.
//
// Node loads the package the way consumers do, by its name (`reservation-wasm`, linked from
// host-wasm/pkg by package.json). Chromium gets it from a static server on 127.0.0.1 (a free
// port) that serves the package's `web` flavour, transcript.mjs and the runs, and loads it in a
// page driven by playwright-core with /usr/bin/chromium. The browser and the server are always
// stopped, also on failure.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayAll } from './transcript.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHUNK = 250;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function parseArgs(argv) {
  const args = { host: 'node', mode: 'digest', package: resolve(HERE, '../../host-wasm/pkg') };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['host', 'mode', 'input', 'output', 'package'].includes(key) || argv[i + 1] === undefined) {
      throw new Error(`usage: harness.mjs --host node|chromium --mode digest|full --input FILE --output FILE [--package DIR]`);
    }
    args[key] = argv[i + 1];
  }
  if (!args.input || !args.output) throw new Error('--input and --output are required');
  return args;
}

async function readRuns(path) {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

async function inNode(runs, mode) {
  const api = await import('reservation-wasm');
  const sha256 = async (text) => createHash('sha256').update(text, 'utf8').digest('hex');
  return replayAll(api, runs, mode, sha256);
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html' };

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>reservation conformance</title>
<script type="module">
  import init, * as api from '/pkg/web/index.js';
  import { replayAll } from '/js/transcript.mjs';
  async function sha256(text) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }
  window.replayChunk = async (index, mode) => {
    const response = await fetch('/runs/' + index);
    if (!response.ok) throw new Error('chunk ' + index + ': HTTP ' + response.status);
    return replayAll(api, await response.json(), mode, sha256);
  };
  try {
    await init();
    window.ready = 'yes';
  } catch (error) {
    window.ready = 'failed: ' + (error?.stack ?? error);
  }
</script>`;

/** A static server on 127.0.0.1 and a free port; resolves to { server, port }. */
async function startServer(packageDir, chunks) {
  const roots = { '/pkg/': resolve(packageDir), '/js/': HERE };
  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url, 'http://127.0.0.1');
      if (url.pathname === '/' || url.pathname === '/runner.html') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
        return;
      }
      const chunk = /^\/runs\/(\d+)$/.exec(url.pathname);
      if (chunk && Number(chunk[1]) < chunks.length) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(chunks[Number(chunk[1])]);
        return;
      }
      for (const [prefix, root] of Object.entries(roots)) {
        if (!url.pathname.startsWith(prefix)) continue;
        const file = normalize(join(root, decodeURIComponent(url.pathname.slice(prefix.length))));
        if (!file.startsWith(root + sep)) break;
        const body = await readFile(file);
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
        return;
      }
      response.writeHead(404).end();
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return { server, port: server.address().port };
}

async function inChromium(runs, mode, packageDir) {
  const { chromium } = await import('playwright-core');
  const chunks = [];
  for (let i = 0; i < runs.length; i += CHUNK) chunks.push(JSON.stringify(runs.slice(i, i + CHUNK)));
  const { server, port } = await startServer(packageDir, chunks);
  let browser = null;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = await browser.newPage();
    page.on('pageerror', (error) => process.stderr.write(`[chromium] page error: ${error}\n`));
    page.on('console', (message) => {
      if (message.type() === 'error') process.stderr.write(`[chromium] ${message.text()}\n`);
    });
    await page.goto(`http://127.0.0.1:${port}/runner.html`);
    await page.waitForFunction(() => window.ready !== undefined, null, { timeout: 60_000 });
    const ready = await page.evaluate(() => window.ready);
    if (ready !== 'yes') throw new Error(`the package did not load in Chromium: ${ready}`);
    const results = [];
    for (let i = 0; i < chunks.length; i++) {
      results.push(...(await page.evaluate(([index, m]) => window.replayChunk(index, m), [i, mode])));
    }
    return results;
  } finally {
    if (browser) await browser.close().catch(() => {});
    const closed = new Promise((done) => server.close(done));
    server.closeAllConnections();
    await closed;
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const runs = await readRuns(args.input);
  let results;
  if (args.host === 'node') results = await inNode(runs, args.mode);
  else if (args.host === 'chromium') results = await inChromium(runs, args.mode, args.package);
  else throw new Error(`unknown host ${args.host}`);
  await writeFile(args.output, JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
