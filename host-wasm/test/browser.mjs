// A real browser on the demo page: serves host-wasm/demo/ and the installed package (web
// flavour) on 127.0.0.1 with a free port, drives Debian's Chromium with playwright-core, checks
// what the page shows against the native core's answers (test/generated/demo-expected.json)
// and saves a screenshot. The server and the browser are always stopped.
//
//   node test/browser.mjs            (RESERVATION_CHROMIUM overrides /usr/bin/chromium,
//                                     RESERVATION_ARTIFACTS is where the screenshot goes)
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { generated } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const demoDir = resolve(here, '../demo');
const pkgDir = dirname(createRequire(import.meta.url).resolve('reservation-wasm/package.json'));
const expected = JSON.parse(readFileSync(join(generated, 'demo-expected.json'), 'utf8'));
const artifacts = process.env.RESERVATION_ARTIFACTS ?? demoDir;
const screenshot = join(artifacts, process.env.RESERVATION_ARTIFACTS ? 'wasm-demo.png' : 'screenshot.png');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** `/pkg/...` is the installed package, everything else the demo; nothing outside them. */
function fileFor(url) {
  const path = decodeURIComponent(new URL(url, 'http://x').pathname);
  const [root, rest] = path.startsWith('/pkg/') ? [pkgDir, path.slice(5)] : [demoDir, path.slice(1) || 'index.html'];
  const file = normalize(join(root, rest));
  return file.startsWith(root + sep) ? file : null;
}

function serve() {
  const server = createServer((request, response) => {
    const file = fileFor(request.url);
    let body;
    try {
      body = file && readFileSync(file);
    } catch {
      body = null;
    }
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

const wait = (page) => page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 20_000 });
const slots = (page) => page.locator('#times button.slot').allTextContents();

async function run(page, base) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  page.on('response', (response) => response.status() >= 400 && problems.push(`HTTP ${response.status()}: ${response.url()}`));

  await page.goto(`${base}/?now=2026-12-01T09:00:00Z`);
  await wait(page);
  assert.equal(await page.textContent('#restaurant-name'), 'Trattoria Wasm');
  // The instant 09:00Z, converted by Intl in the page: 10:00 in Berlin.
  assert.equal(await page.textContent('#clock'), 'Restaurant time: 2026-12-01 10:00:00 (Europe/Berlin)');

  // Every date and party size the native core answered: the page lists the same times.
  for (const { date, party_size: party, times } of expected.availability) {
    await page.selectOption('#date', date);
    await page.selectOption('#party', String(party));
    await page.waitForFunction(
      ([d, p]) => document.querySelector('#times-heading').textContent.includes(`for ${p} on`) &&
        document.querySelector('#date').value === d,
      [date, party],
    );
    await page.waitForTimeout(50);
    assert.deepEqual(await slots(page), times, `${date} for ${party}`);
    if (times.length === 0) assert.match(await page.textContent('#times'), /No table for \d+ on this day/);
  }

  // Previews typed in by hand, as the native core decided them.
  for (const { date, party_size: party, time, answer } of expected.previews) {
    await page.selectOption('#date', date);
    await page.selectOption('#party', String(party));
    await page.waitForFunction(([d, p]) => document.querySelector('#times-heading').textContent.includes(`for ${p} on`) && document.querySelector('#date').value === d, [date, party]);
    await page.fill('#time', time);
    await page.click('#check');
    const result = await page.textContent('#result');
    if (answer.errors) {
      assert.equal(await page.getAttribute('#result', 'class'), 'result refused');
      assert.ok(result.includes(answer.errors[0].code) && result.includes(answer.errors[0].message), result);
    } else if (answer.preview.status === 'confirmed') {
      assert.equal(await page.getAttribute('#result', 'class'), 'result confirmed');
      assert.ok(result.startsWith(`Confirmed at ${answer.preview.time}`), result);
      for (const table of answer.preview.table_ids) assert.ok(result.includes(table), result);
    } else {
      assert.equal(await page.getAttribute('#result', 'class'), 'result rejected');
      assert.ok(result.startsWith(`Not available at ${time}`), result);
      assert.deepEqual(await page.locator('#result button.alternative').allTextContents(), answer.preview.alternatives);
    }
  }

  // A guest clicks an offered time: it is confirmed exactly then.
  await page.selectOption('#date', '2026-12-09');
  await page.selectOption('#party', '4');
  await page.fill('#time', '19:00');
  await page.click('#check');
  const alternative = page.locator('#result button.alternative').first();
  const offered = await alternative.textContent();
  await alternative.click();
  assert.ok((await page.textContent('#result')).startsWith(`Confirmed at ${offered}`));
  await page.selectOption('#party', '2');
  const slot = page.locator('#times button.slot').nth(2);
  const slotTime = await slot.textContent();
  await slot.click();
  assert.equal(await page.inputValue('#time'), slotTime);
  assert.ok((await page.textContent('#result')).startsWith(`Confirmed at ${slotTime}`));

  // The name is validated by the same rules as the server's.
  await page.fill('#name', '   ');
  await page.click('#check');
  assert.match(await page.textContent('#result'), /invalid_name/);
  await page.fill('#name', 'Ada Lovelace');
  await page.fill('#time', '19:00');
  await page.click('#check');

  assert.deepEqual(problems, []);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
}

const server = await serve();
let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.RESERVATION_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    // playwright-core gives the browser a fresh temporary profile (user data dir) of its own.
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  await run(page, `http://127.0.0.1:${server.address().port}`);
  console.log(`browser test passed; screenshot: ${screenshot}`);
} finally {
  await browser?.close().catch(() => {});
  await new Promise((ok) => server.close(ok));
}
