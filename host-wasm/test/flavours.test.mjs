// The package as shipped: its manifest, its files, and every flavour giving the same answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { argsOf, loadFixtures } from './helpers.mjs';

const { cases } = loadFixtures();
const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = dirname(createRequire(import.meta.url).resolve('reservation-wasm/package.json'));
const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const sample = cases.filter((c) => ['validateReservation', 'previewReservation', 'availability', 'decide', 'evolveAll'].includes(c.call));

describe('the manifest', () => {
  test('names the package, its version, license, types and files', () => {
    assert.equal(manifest.name, 'reservation-wasm');
    assert.match(manifest.version, /^\d+\.\d+\.\d+/);
    assert.equal(manifest.license, 'MIT OR Apache-2.0');
    assert.equal(manifest.types, './index.d.ts');
    assert.equal(manifest.type, 'module');
    assert.deepEqual(manifest.files.sort(), ['README.md', 'api.js', 'bundler/', 'index.d.ts', 'node/', 'web/']);
  });

  test('every target of the exports map is in the package', () => {
    const targets = [];
    const walk = (value) => (typeof value === 'string' ? targets.push(value) : Object.values(value).forEach(walk));
    walk(manifest.exports);
    assert.ok(targets.length >= 10);
    for (const target of targets) assert.ok(existsSync(join(pkgDir, target)), target);
    assert.equal(manifest.exports['.'].node, './node/index.js');
    assert.equal(manifest.exports['.'].browser, './web/index.js');
    assert.equal(manifest.exports['.'].module, './bundler/index.js');
    assert.equal(Object.keys(manifest.exports['.'])[0], 'types');
  });

  test('Node resolves the package name to the node flavour', () => {
    assert.equal(import.meta.resolve('reservation-wasm'), import.meta.resolve('reservation-wasm/node'));
    assert.ok(import.meta.resolve('reservation-wasm').endsWith('/node/index.js'));
  });

  test('the README states the measured size of the .wasm', () => {
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const match = /(\d+) KiB gzipped \((\d+) bytes/.exec(readme);
    assert.ok(match, 'no size in the README');
    const gzipped = gzipSync(readFileSync(join(pkgDir, 'web/reservation_wasm_bg.wasm')), { level: 9 }).length;
    assert.ok(Math.abs(Number(match[2]) - gzipped) < gzipped / 100, `README says ${match[2]} bytes, zlib gives ${gzipped}`);
  });
});

describe('the web flavour (browsers, edge runtimes)', () => {
  test('refuses to answer before init, then answers like the native core', async () => {
    const web = await import('reservation-wasm/web');
    assert.throws(() => web.validateReservation({}), /init\(\)/);
    web.initSync({ module: readFileSync(join(pkgDir, 'web/reservation_wasm_bg.wasm')) });
    for (const testCase of sample) {
      assert.deepEqual(web[testCase.call](...argsOf(testCase)), testCase.expected, testCase.name);
    }
    assert.throws(() => web.decide({}, { type: 'nope' }), web.MalformedInputError);
  });
});

describe('the bundler flavour', () => {
  test('loads through ES module integration of the .wasm and answers like the native core', () => {
    const script = `
      import * as bundler from 'reservation-wasm/bundler';
      import { argsOf, loadFixtures } from './helpers.mjs';
      const { cases } = loadFixtures();
      const names = JSON.parse(process.argv[1]);
      const answers = cases.filter((c) => names.includes(c.name)).map((c) => bundler[c.call](...argsOf(c)));
      process.stdout.write(JSON.stringify(answers));
    `;
    const output = execFileSync(
      process.execPath,
      ['--experimental-wasm-modules', '--no-warnings', '--input-type=module', '-e', script, JSON.stringify(sample.map((c) => c.name))],
      { cwd: here, encoding: 'utf8' },
    );
    assert.deepEqual(JSON.parse(output), sample.map((c) => c.expected));
  });
});
