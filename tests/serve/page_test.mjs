// The live page of `qkv serve` in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): open it, type a sentence, submit, wait for the attention explorer's heatmap,
// check that the translation shown equals the API's and that the explorer has every head and
// layer and passed its self-check of the Q·K·V explainer, and save a screenshot.
// Usage: node page_test.mjs URL SENTENCE SCREENSHOT
// Exit 0: pass; 77: skipped (no Chromium); else failure, with the reason on stdout.
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const [url, sentence, screenshot] = process.argv.slice(2);
const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
if (!browserPath) {
  console.log('SKIP: Chromium not found (Debian: apt-get install chromium; scripts/setup.sh installs it)');
  process.exit(77);
}
let chromium;
try {
  ({chromium} = await import('playwright-core'));
} catch (e) {
  console.log('FAIL: playwright-core is not installed: QKV_SETUP_TESTS=1 scripts/setup.sh installs it');
  process.exit(1);
}

const fail = (message) => { console.log(`FAIL: ${message}`); process.exitCode = 1; };
const profile = mkdtempSync(join(tmpdir(), 'qkv-page-'));
// A new profile in a temporary folder (Playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {executablePath: browserPath,
  headless: true, viewport: {width: 1280, height: 1600}, args: ['--no-sandbox', '--disable-gpu',
    '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']});
try {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => problems.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Nothing may come from anywhere but this server.
  page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('data:') &&
    !r.url().startsWith('about:')) problems.push(`request outside the server: ${r.url()}`); });
  await page.goto(url);
  await page.waitForFunction(() => !document.getElementById('model').textContent.startsWith('loading'));
  await page.fill('#text', sentence);
  await page.click('#submit');
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', {timeout: 60000});
  const state = await page.getAttribute('body', 'data-state');
  if (state !== 'done') throw new Error(`page state ${state}: ${await page.textContent('#error')}`);
  const frame = page.frameLocator('#explorer');
  await frame.locator('table.heatmap td').first().waitFor({timeout: 60000});
  const shown = (await page.textContent('#translation')).trim();
  const api = await page.evaluate(async (text) => (await (await fetch('/v1/translate', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({text})})).json()).translation, sentence);
  if (shown !== api) fail(`page shows '${shown}', the API answers '${api}'`);
  const body = frame.locator('body');
  const ready = await body.getAttribute('data-ready');
  const heads = await body.getAttribute('data-heads');
  const errors = await body.getAttribute('data-errors');
  if (ready !== '1' || errors) fail(`explorer ready=${ready} errors=${errors}`);
  const sourceShown = await frame.locator('#sentence-text').textContent();
  if (!sourceShown.includes(sentence)) fail(`explorer does not show the sentence: ${sourceShown}`);
  const headOptions = await frame.locator('select#head option').count();
  if (headOptions !== Number(heads) + 1) fail(`head picker has ${headOptions} options, heads ${heads}`);
  await page.screenshot({path: screenshot, fullPage: false});
  for (const p of problems) fail(p);
  if (!process.exitCode) console.log(`PASS: '${sentence}' -> '${shown}', ${heads} heads; screenshot ${screenshot}`);
} catch (e) {
  fail(e.message);
} finally {
  await browser.close();
  rmSync(profile, {recursive: true, force: true});
}
