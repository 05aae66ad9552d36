// The live page of `qkv serve` in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): open it, type a sentence, submit, wait for the attention explorer's heatmap,
// check that the translation shown equals the API's and that the explorer has every head and
// layer and passed its self-check of the Q·K·V explainer, and save a screenshot. Then switch
// heads off by clicking them (one head, then a whole site) and check that the page shows what the
// API answers with that `heads_off` (translation and explorer page), marks those heads as off,
// and that "All heads on" brings the first answer back; then switch a head off from inside the
// explorer, which must come back marked as off. A second screenshot with a head off.
// Usage: node page_test.mjs URL SENTENCE SCREENSHOT [HEADS_OFF_SCREENSHOT]
// Exit 0: pass; 77: skipped (no Chromium); else failure, with the reason on stdout.
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const [url, sentence, screenshot, headsOffScreenshot] = process.argv.slice(2);
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

// The API's answers for the sentence with heads_off SPEC (none when empty): the translation and
// the explorer page.
async function apiAnswers(page, spec) {
  return page.evaluate(async ([text, spec]) => {
    const post = async (path, body) => (await fetch(path, {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(spec ? {...body, heads_off: spec} : body)})).text();
    return {translation: JSON.parse(await post('/v1/translate', {text})).translation,
      explorer: await post('/v1/attention', {text, format: 'html'})};
  }, [sentence, spec]);
}

// Wait until the page shows the answer for heads_off SPEC, or an error.
async function shownOrError(page, spec) {
  await page.waitForFunction((spec) => document.body.dataset.state === 'error' ||
    (document.body.dataset.state === 'done' && document.body.dataset.shownHeadsOff === spec), spec, {timeout: 60000});
}

// Click a head button of the page (HEAD a number, or 'all' for the site), or run CLICK (a
// function: a click in the explorer), wait for the page to show the answer for heads_off SPEC
// and check it against the API.
async function clickAndCheck(page, site, head, spec, click) {
  const sent = [];
  const listen = (r) => { if (r.method() === 'POST') sent.push(JSON.parse(r.postData())); };
  page.on('request', listen);
  await (click ? click() : page.click(`#heads button[data-site="${site}"][data-head="${head}"]`));
  await shownOrError(page, spec);
  page.off('request', listen);
  const state = await page.getAttribute('body', 'data-state');
  if (state !== 'done') throw new Error(`after clicking ${site} ${head}: state ${state}: ${await page.textContent('#error')}`);
  const asked = sent.filter((b) => b.heads_off !== undefined).map((b) => b.heads_off);
  if (spec && (asked.length !== 2 || asked.some((s) => s !== spec))) {
    fail(`after clicking ${site} ${head} the page asked with heads_off ${JSON.stringify(asked)}, expected '${spec}' twice`);
  }
  const api = await apiAnswers(page, spec);
  const shown = (await page.textContent('#translation')).trim();
  if (shown !== api.translation) fail(`heads off '${spec}': page shows '${shown}', the API answers '${api.translation}'`);
  const explorer = await page.evaluate(() => document.getElementById('explorer').srcdoc);
  if (explorer !== api.explorer) fail(`heads off '${spec}': the explorer page is not the API's /v1/attention page`);
  await page.frameLocator('#explorer').locator('table.heatmap td').first().waitFor({timeout: 60000});
  return {shown, explorer};
}

async function switchHeadsOff(page, heads, allOnTranslation, allOnExplorer) {
  const [site, crossSite] = await page.evaluate(() => {
    const sites = [...document.querySelectorAll('#heads button[data-head="all"]')].map((b) => b.dataset.site);
    return [sites.find((s) => s.startsWith('encoder.')), sites.filter((s) => s.endsWith('cross_attn')).pop()];
  });
  if (!site || !crossSite) throw new Error('the page has no head buttons for the encoder or cross-attention');
  const pressed = (selector) => page.getAttribute(selector, 'aria-pressed');
  const one = `${site}:0`;
  const first = await clickAndCheck(page, site, 0, one);
  // Head 0 of the first encoder layer feeds every later map: they must differ from all heads on.
  if (first.explorer === allOnExplorer) fail(`heads off '${one}': the maps did not change`);
  if (await pressed(`#heads button[data-site="${site}"][data-head="0"]`) !== 'true') fail(`${one} is not shown as off`);
  if (heads > 1 && await pressed(`#heads button[data-site="${site}"][data-head="1"]`) !== 'false') fail(`${site}:1 is shown as off`);
  const list = await page.textContent('#heads-off');
  if (!list.includes(site) || !list.includes(one)) fail(`the list of heads off says '${list}'`);
  const reference = await page.textContent('#reference');
  if (!reference.includes(allOnTranslation)) fail(`the all-heads translation is shown as '${reference}'`);
  await page.screenshot({path: headsOffScreenshot, fullPage: false});
  // A whole site: every head of the last cross-attention, with the first head still off.
  const everyHead = [...Array(heads).keys()].join(',');
  const both = `${one};${crossSite}:${everyHead}`;
  const second = await clickAndCheck(page, crossSite, 'all', both);
  for (let h = 0; h < heads; ++h) {
    if (await pressed(`#heads button[data-site="${crossSite}"][data-head="${h}"]`) !== 'true') fail(`${crossSite}:${h} is not shown as off`);
  }
  await page.click('#heads-reset');
  await shownOrError(page, '');
  if (await page.getAttribute('body', 'data-state') !== 'done') throw new Error(`after 'All heads on': ${await page.textContent('#error')}`);
  const back = (await page.textContent('#translation')).trim();
  if (back !== allOnTranslation) fail(`after 'All heads on' the page shows '${back}', before '${allOnTranslation}'`);
  if (await page.evaluate(() => document.getElementById('explorer').srcdoc) !== allOnExplorer) {
    fail("after 'All heads on' the maps are not those of all heads");
  }
  if (await page.locator('#heads button.off').count() !== 0) fail("after 'All heads on' some heads are still shown as off");
  // From inside the explorer: show another head of its site (the last cross-attention) and
  // switch it off there; the explorer comes back on that head, marked as off.
  const frame = page.frameLocator('#explorer');
  await frame.locator('body[data-heads-off=""]').waitFor({timeout: 60000});  // the page has told it
  const h = heads > 1 ? 1 : 0;
  await frame.locator('select#head').selectOption(String(h));
  const fromExplorer = `${crossSite}:${h}`;
  await clickAndCheck(page, crossSite, h, fromExplorer, () => frame.locator('#head-switch').click());
  if (await pressed(`#heads button[data-site="${crossSite}"][data-head="${h}"]`) !== 'true') fail(`${fromExplorer} is not shown as off on the page`);
  await frame.locator(`body[data-heads-off="${fromExplorer}"]`).waitFor({timeout: 60000});
  if (await frame.locator('select#head').inputValue() !== String(h)) fail(`the explorer did not come back on head ${h}`);
  const option = await frame.locator(`select#head option[value="${h}"]`).textContent();
  if (!option.includes('switched off')) fail(`the explorer's head picker says '${option}' for ${fromExplorer}`);
  if (await frame.locator('#head-off-note').count() !== 1) fail(`the explorer does not say that ${fromExplorer} is off`);
  if (!(await frame.locator('#head-switch').textContent()).includes('back on')) fail("the explorer's switch does not offer 'back on'");
  console.log(`heads off '${one}': '${first.shown}'; '${both}': '${second.shown}'`);
}
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
  const allOn = await page.evaluate(() => document.getElementById('explorer').srcdoc);
  if (headsOffScreenshot) await switchHeadsOff(page, Number(heads), shown, allOn);
  for (const p of problems) fail(p);
  if (!process.exitCode) console.log(`PASS: '${sentence}' -> '${shown}', ${heads} heads; screenshot ${screenshot}`);
} catch (e) {
  fail(e.message);
} finally {
  await browser.close();
  rmSync(profile, {recursive: true, force: true});
}
