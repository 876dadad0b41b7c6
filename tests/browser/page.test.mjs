// Browser test of the page digits-serve serves: Debian's chromium, driven by playwright-core,
// against the real server binary and a real model. Run with `node --test page.test.mjs`.
//
// Environment (ctest passes these; the defaults suit a run from a built checkout):
//   DIGITS_SERVE       the server binary                  (build/bin/digits-serve)
//   DIGITS_MODEL_PATH  the model it loads                 (models/digits-cnn.model)
//   DIGITS_GEN_IMAGES  the test-image generator           (build/bin/digits-gen-images)
//   DIGITS_MNIST       MNIST for the generator            (data/mnist)
//   DIGITS_TEST_IMAGE, DIGITS_TEST_TEXT  an image and its true digits, instead of generating one
//   DIGITS_ARTIFACTS   where screenshots go               (build/test-artifacts)
//   DIGITS_CHROMIUM    the browser                        (/usr/bin/chromium)
//   DIGITS_EXPECT_TRUTH=1  assert the true digits with another model than the shipped one
// With the shipped model the recognised text must also equal the truth; with another model
// (a small one trained for a smoke run) only what the page shows is checked against the server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;
const config = {
  serve: env.DIGITS_SERVE || path.join(repo, 'build/bin/digits-serve'),
  model: env.DIGITS_MODEL_PATH || path.join(repo, 'models/digits-cnn.model'),
  generator: env.DIGITS_GEN_IMAGES || path.join(repo, 'build/bin/digits-gen-images'),
  mnist: env.DIGITS_MNIST || path.join(repo, 'data/mnist'),
  image: env.DIGITS_TEST_IMAGE,
  text: env.DIGITS_TEST_TEXT,
  artifacts: env.DIGITS_ARTIFACTS || path.join(repo, 'build/test-artifacts'),
  chromium: env.DIGITS_CHROMIUM || '/usr/bin/chromium',
};
// The true digits are asserted with the shipped model, or with any model when asked to.
const shippedModel = path.resolve(config.model) === path.join(repo, 'models/digits-cnn.model')
  || env.DIGITS_EXPECT_TRUTH === '1';

const HARD_TIMEOUT_MS = 240_000;   // the whole file; a stuck browser or server must not hang ctest
const TEST_TIMEOUT_MS = 60_000;
const STARTUP_TIMEOUT_MS = 30_000;
const GENERATOR_SEED = '7';

const scratch = mkdtempSync(path.join(tmpdir(), 'digits-browser-'));
let server = null;     // { child, base, log() }
let browser = null;
let sample = null;     // { image, text }

// Last resort: kill what we started, even if the test runner itself is stuck.
const watchdog = setTimeout(() => {
  console.error(`page.test: hard timeout after ${HARD_TIMEOUT_MS / 1000} s`);
  server?.child.kill('SIGKILL');
  process.exit(1);
}, HARD_TIMEOUT_MS);
watchdog.unref();
process.on('exit', () => server?.child.kill('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server?.child.kill('SIGKILL');
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// The server and the sample image

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function startServer(port) {
  const child = spawn(config.serve, ['--host', '127.0.0.1', '--port', String(port), '--model', config.model],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => { output = (output + chunk).slice(-4000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (error) => keep(`spawn failed: ${error.message}\n`));
  return { child, base: `http://127.0.0.1:${port}`, log: () => output };
}

// True once /healthz answers ok; false if the server exited first (e.g. the port was taken).
async function waitForHealth(candidate) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (candidate.child.exitCode !== null || candidate.child.signalCode !== null) return false;
    try {
      const response = await fetch(`${candidate.base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok && (await response.json()).status === 'ok') return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`digits-serve did not become healthy in ${STARTUP_TIMEOUT_MS / 1000} s:\n${candidate.log()}`);
}

// Another process may take the free port between probing and binding: try a few.
async function launchServer() {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const candidate = startServer(await freePort());
    if (await waitForHealth(candidate)) return candidate;
    if (attempt === 3) throw new Error(`digits-serve exited at start:\n${candidate.log()}`);
  }
}

async function stopServer() {
  if (!server) return;
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!stopped) child.kill('SIGKILL');
  }
  server = null;
}

// The sample: given by the environment, or one clean multi-digit image from our generator.
function prepareSample() {
  if (config.image) {
    assert.ok(config.text, 'DIGITS_TEST_IMAGE needs DIGITS_TEST_TEXT (its true digits)');
    return { image: config.image, text: config.text };
  }
  const out = path.join(scratch, 'images');
  execFileSync(config.generator, ['--mnist', config.mnist, '--out', out, '--class', 'clean',
    '--count', '1', '--seed', GENERATOR_SEED], { stdio: ['ignore', 'ignore', 'inherit'] });
  const truth = JSON.parse(readFileSync(path.join(out, 'truth.jsonl'), 'utf8').split('\n')[0]);
  return { image: path.join(out, truth.image), text: truth.text };
}

before(async () => {
  mkdirSync(config.artifacts, { recursive: true });
  sample = prepareSample();
  assert.ok(sample.text.length >= 2, `the sample must have several digits, has "${sample.text}"`);
  server = await launchServer();
  browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: STARTUP_TIMEOUT_MS,
  });
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await stopServer();
    rmSync(scratch, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
});

// ---------------------------------------------------------------------------------------------
// Page helpers

// A fresh page that records what would make the page wrong whatever it shows:
// uncaught script errors and any request leaving our server (the page must work offline).
async function openPage(t, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    const network = !['blob:', 'data:'].includes(url.protocol);   // the page's own object URLs are local
    if (network && url.origin !== server.base) problems.push(`external request: ${request.url()}`);
  });
  await page.goto(`${server.base}/`);
  return { page, problems };
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(config.artifacts, `${name}.png`), fullPage: true });
}

const isRecognition = (request) => request.method() === 'POST' && new URL(request.url()).pathname === '/api/digit_recognize';

// The answer to the next recognition request, once the page has finished showing it.
async function nextAnswer(page, action) {
  const requested = page.waitForRequest(isRecognition);
  await action();
  const request = await requested;
  const response = await request.response();
  assert.ok(response, 'the recognition request got no response');
  const data = await response.json();
  await page.locator('#result-card[aria-busy="false"]').waitFor();
  return { request, response, data };
}

// Every box of an overlay, in page pixels, with the digit it is labelled with.
function shownBoxes(page, overlay) {
  return page.locator(`${overlay} .box`).evaluateAll((boxes) => boxes.map((box) => {
    const rect = box.getBoundingClientRect();
    return { x: rect.left, y: rect.top, w: rect.width, h: rect.height, label: box.querySelector('.label').textContent };
  }));
}

// Checks each shown box against the server's box scaled from natural to displayed image pixels.
async function assertBoxesOverImage(page, predictions) {
  const image = await page.locator('#image').evaluate((img) => {
    const rect = img.getBoundingClientRect();
    return { x: rect.left, y: rect.top, w: rect.width, h: rect.height, nw: img.naturalWidth, nh: img.naturalHeight };
  });
  const boxes = await shownBoxes(page, '#image-overlay');
  assert.equal(boxes.length, predictions.length, 'one box per prediction');
  // The page fits the picture in its element (object-fit: contain), centred.
  const scale = Math.min(image.w / image.nw, image.h / image.nh);
  const left = image.x + (image.w - image.nw * scale) / 2;
  const top = image.y + (image.h - image.nh * scale) / 2;
  predictions.forEach((prediction, i) => {
    const [x, y, w, h] = prediction.box;
    const shown = boxes[i];
    const near = (a, b) => Math.abs(a - b) <= 1.5;
    assert.ok(near(shown.x, left + x * scale) && near(shown.y, top + y * scale)
      && near(shown.w, w * scale) && near(shown.h, h * scale),
      `box ${i} ${JSON.stringify(shown)} is not the server's ${JSON.stringify(prediction.box)} scaled by ${scale.toFixed(3)}`);
    assert.ok(shown.label.startsWith(String(prediction.digit)), `box ${i} is labelled "${shown.label}"`);
    assert.match(shown.label, /\d+%$/, 'the label shows the probability');
  });
}

// Retries an assertion while layout settles (a resize is laid out on the next frame).
async function eventually(check, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

// Draws strokes given in pad pixels (the canvas's 640x320) with the mouse; returns the answer
// to the recognition sent after the last stroke (earlier ones may be cancelled by debouncing).
async function drawOnPad(page, strokes) {
  const pad = await page.locator('#pad').evaluate((canvas) => {
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + canvas.clientLeft, y: rect.top + canvas.clientTop,
      sx: canvas.clientWidth / canvas.width, sy: canvas.clientHeight / canvas.height };
  });
  const at = ([x, y]) => [pad.x + x * pad.sx, pad.y + y * pad.sy];
  const penUp = async () => page.mouse.up();
  for (const [index, stroke] of strokes.entries()) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const point of stroke.slice(1)) await page.mouse.move(...at(point), { steps: 12 });
    if (index < strokes.length - 1) await penUp();
  }
  return nextAnswer(page, penUp);
}

// Draws one stroke with a finger: real touch events through the DevTools protocol (playwright's
// touchscreen only taps), so the page sees pointerType "touch" and the browser could scroll.
async function touchStroke(page, points) {
  const cdp = await page.context().newCDPSession(page);
  const pad = await page.locator('#pad').evaluate((canvas) => {
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + canvas.clientLeft, y: rect.top + canvas.clientTop, s: canvas.clientWidth / canvas.width };
  });
  const touch = (type, [x, y]) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: type === 'touchEnd' ? [] : [{ x: pad.x + x * pad.s, y: pad.y + y * pad.s }] });
  await touch('touchStart', points[0]);
  for (let i = 1; i < points.length; i++) {
    const [from, to] = [points[i - 1], points[i]];
    for (let step = 1; step <= 10; step++) {
      await touch('touchMove', [from[0] + (to[0] - from[0]) * step / 10, from[1] + (to[1] - from[1]) * step / 10]);
    }
  }
  return nextAnswer(page, () => touch('touchEnd', points[points.length - 1]));
}

const ONE = [[[160, 60], [160, 260]]];
const SEVEN = [[[350, 70], [500, 70], [410, 260]]];

// ---------------------------------------------------------------------------------------------
// The tests

test('upload: a generated multi-digit image gets a box per digit and the server text', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t);
  const { response, data } = await nextAnswer(page, () => page.locator('#file').setInputFiles(sample.image));
  assert.equal(response.status(), 200);
  assert.equal(data.success, true);
  assert.equal(data.predictions.length, sample.text.length, `the server found ${data.text} for truth ${sample.text}`);
  await page.locator('#image').evaluate((img) => img.decode());

  assert.equal(await page.locator('#text').textContent(), data.text, 'the big text is the server text');
  assert.equal(await page.locator('#image-overlay .box').count(), sample.text.length, 'a box per true digit');
  assert.equal(await page.locator('#digits li').count(), sample.text.length, 'a list entry per digit');
  await assertBoxesOverImage(page, data.predictions);
  if (shippedModel) assert.equal(data.text, sample.text, 'the shipped model reads the clean sample right');
  else t.diagnostic(`not the shipped model: truth "${sample.text}", read "${data.text}"`);

  const model = await (await fetch(`${server.base}/api/model`)).json();
  await page.locator('#model', { hasText: model.name }).waitFor();
  assert.match(await page.locator('#model').textContent(), /test accuracy \d+\.\d\d%/);

  await page.locator('#json-toggle summary').click();
  assert.deepEqual(JSON.parse(await page.locator('#json').textContent()), data, 'the raw JSON is the answer');
  await screenshot(page, 'upload-desktop');

  // A phone: one column, and the boxes follow the smaller image.
  await page.setViewportSize({ width: 390, height: 844 });
  await eventually(() => assertBoxesOverImage(page, data.predictions));
  const upload = await page.locator('#upload-card').boundingBox();
  const draw = await page.locator('#draw-card').boundingBox();
  assert.ok(draw.y >= upload.y + upload.height && Math.abs(draw.x - upload.x) < 1, 'cards stack in one column');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (the page is ${overflow} px too wide)`);
  await screenshot(page, 'upload-phone');
  assert.deepEqual(problems, []);
});

test('upload: the minimum probability is sent and uncertain digits are marked', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t);
  await nextAnswer(page, () => page.locator('#file').setInputFiles(sample.image));
  // Keyboard only: End puts the slider at 1, so every digit short of certainty is uncertain.
  const { request, data } = await nextAnswer(page, async () => {
    await page.locator('#min-probability').focus();
    await page.keyboard.press('End');
  });
  assert.equal(new URL(request.url()).searchParams.get('min_probability'), '1');
  assert.equal(await page.locator('#min-probability-value').textContent(), '1.00');
  const uncertain = data.predictions.map((p) => p.uncertain === true);
  // Probabilities are written with 4 decimals, so only one written as below 1 surely was below 1.
  for (const p of data.predictions) {
    if (p.probability < 1) assert.equal(p.uncertain, true, `digit ${p.digit} at ${p.probability} is below the minimum`);
  }
  const marked = await page.locator('#image-overlay .box').evaluateAll((boxes) => boxes.map((b) => b.classList.contains('uncertain')));
  assert.deepEqual(marked, uncertain, 'uncertain boxes are styled apart');
  assert.equal(await page.locator('#text').textContent(), data.text);
  const questionMarks = await page.locator('#text .uncertain').count();
  assert.equal(questionMarks, [...data.text].filter((c) => c === '?').length, 'each "?" is styled');
  assert.equal(questionMarks, uncertain.filter(Boolean).length);
  await screenshot(page, 'upload-uncertain');
  assert.deepEqual(problems, []);
});

test('draw: a 1 and a 7 drawn with the mouse are recognised, undo and clear update the result', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t);
  const { request, data } = await drawOnPad(page, [...ONE, ...SEVEN]);

  // What was sent: a multipart form (Chromium does not hand its file bytes to playwright, but the
  // server found two digits in it, so it decoded the picture), drawn dark on white paper.
  assert.match(await request.headerValue('content-type'), /^multipart\/form-data; boundary=/);
  const [paper, ink] = await page.locator('#pad').evaluate((canvas) => {
    const context = canvas.getContext('2d');
    return [[5, 5], [160, 160]].map(([x, y]) => [...context.getImageData(x, y, 1, 1).data]);
  });
  assert.deepEqual(paper, [255, 255, 255, 255], 'white paper');
  assert.ok(ink[0] < 64 && ink[1] < 64 && ink[2] < 64 && ink[3] === 255, `dark ink, got ${ink}`);

  assert.equal(data.success, true);
  assert.equal(data.predictions.length, 2, `two digits drawn, server found ${JSON.stringify(data.predictions.map((p) => p.box))}`);
  assert.equal(await page.locator('#pad-overlay .box').count(), 2, 'a box over each drawn digit');
  assert.equal(await page.locator('#text').textContent(), data.text);
  assert.match(data.text, /^[0-9?]{2}$/);
  if (shippedModel) assert.equal(data.text, '17', 'the shipped model reads the drawn 1 and 7');
  else t.diagnostic(`not the shipped model: drew "17", read "${data.text}"`);
  await screenshot(page, 'draw');

  // Undo by keyboard removes the 7; the drawing is recognised again.
  const undone = await nextAnswer(page, async () => {
    await page.locator('#undo').focus();
    await page.keyboard.press('Enter');
  });
  assert.equal(undone.data.predictions.length, 1);
  assert.equal(await page.locator('#pad-overlay .box').count(), 1);
  assert.equal(await page.locator('#text').textContent(), undone.data.text);
  if (shippedModel) assert.equal(undone.data.text, '1');

  // Clear empties the pad and the result, and sends nothing.
  let sent = 0;
  page.on('request', (r) => { if (isRecognition(r)) sent += 1; });
  await page.locator('#clear').click();
  await sleep(600);   // longer than the debounce: a request would have gone by now
  assert.equal(sent, 0, 'an empty pad is not sent');
  assert.equal(await page.locator('#pad-overlay .box').count(), 0);
  assert.equal(await page.locator('#text').textContent(), '');
  assert.equal(await page.locator('#undo').isDisabled(), true);
  assert.deepEqual(problems, []);
});

test('draw: a finger on a phone draws instead of scrolling the page', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t, { viewport: { width: 390, height: 844 }, hasTouch: true });
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const scrolled = await page.evaluate(() => window.scrollY);
  // An upward stroke: were the pad to let the browser pan, the page would scroll down.
  const { data } = await touchStroke(page, SEVEN[0].slice().reverse());
  assert.equal(await page.evaluate(() => window.scrollY), scrolled, 'the page did not scroll');
  assert.equal(data.predictions.length, 1, 'one digit drawn by touch');
  assert.equal(await page.locator('#pad-overlay .box').count(), 1);
  assert.equal(await page.locator('#text').textContent(), data.text);
  if (shippedModel) assert.equal(data.text, '7', 'the shipped model reads the 7 drawn by touch');
  await screenshot(page, 'draw-phone-touch');
  assert.deepEqual(problems, []);
});

test('upload: a text file gets a clear error message', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t);
  const notes = path.join(scratch, 'notes.txt');
  writeFileSync(notes, 'these are not digits\n');
  const { response, data } = await nextAnswer(page, () => page.locator('#file').setInputFiles(notes));
  assert.equal(response.status(), 400);
  assert.equal(data.success, false);
  const error = page.locator('#error');
  assert.equal(await error.isVisible(), true, 'the error is shown');
  const message = await error.textContent();
  assert.ok(message.includes('notes.txt') && message.includes(data.error), `message: ${message}`);
  assert.equal(await page.locator('#text').textContent(), '');
  assert.equal(await page.locator('#image-overlay .box').count(), 0);
  await screenshot(page, 'error');
  assert.deepEqual(problems, []);
});

test('keyboard: the controls are reachable with Tab in reading order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page } = await openPage(t);
  const order = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => document.activeElement.id));
  }
  // Undo and clear are disabled on an empty pad, so the next stop is the raw JSON toggle.
  assert.deepEqual(order, ['min-probability', 'file', 'pen-width', 'json-summary']);
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#json-toggle').evaluate((details) => details.open), true, 'Enter opens the raw JSON');
});
