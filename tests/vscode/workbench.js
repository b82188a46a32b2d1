// What the VS Code drivers (drive.js, drive_orchestrator.js) share: starting Chromium on
// code-server's workbench, waiting on DOM text, running palette commands, screenshots,
// and the results file test_e2e.py reads. Every wait is on a DOM condition with a
// generous deadline (the machine is shared and has 2 cores), never a fixed sleep.
// A driver runs as: node <driver> URL OUT_DIR RESULTS
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const WAIT_MS = 120_000;
const POLL_MS = 250;

const SEL = {
  sidebar: "#workbench\\.parts\\.sidebar",
  sidebarRow: "#workbench\\.parts\\.sidebar .monaco-list-row",
  panel: "#workbench\\.parts\\.panel",
  statusItem: "#zwarm\\.zwarm-ls\\.zwarm-ls\\.status", // <extension id>.<item id>
  progressItem: "#status\\.progress",
  lens: ".monaco-editor .codelens-decoration",
  paletteInput: ".quick-input-widget input",
  paletteRow: ".quick-input-widget .monaco-list-row",
  paletteMessage: ".quick-input-widget .quick-input-message",
  paletteTitle: ".quick-input-widget .quick-input-title",
  notification: ".notification-list-item-message",
  menuItem: ".context-view .monaco-menu .action-label",
};

function log(message) {
  console.log(`[drive ${new Date().toISOString()}] ${message}`);
}

/** Monaco renders spaces as U+00A0; compare text the way a reader sees it. */
const clean = (s) => (s || "").replace(/\u00a0/g, " ");

async function texts(page, selector) {
  return (await page.locator(selector).allInnerTexts()).map(clean);
}

/** Poll `selector`'s texts until one satisfies `predicate`; return that text. */
async function waitText(page, selector, predicate, label, { timeout = WAIT_MS } = {}) {
  const start = Date.now();
  let last = "";
  while (Date.now() - start < timeout) {
    const found = await texts(page, selector);
    const hit = found.find(predicate);
    if (hit !== undefined) {
      return hit;
    }
    last = found.join(" | ");
    await page.waitForTimeout(POLL_MS);
  }
  throw new Error(`timed out waiting for ${label}; last seen: ${last.slice(0, 800)}`);
}

/**
 * Run a palette command. A `when` clause hides the command until its condition holds
 * (the daemon runs, there is a selection), so the palette is reopened until the row
 * shows up.
 */
async function runCommand(page, title) {
  const start = Date.now();
  while (Date.now() - start < WAIT_MS) {
    await page.keyboard.press("F1");
    const input = page.locator(SEL.paletteInput).first();
    await input.waitFor({ state: "visible", timeout: WAIT_MS });
    await input.fill(`>${title}`);
    const row = page.locator(SEL.paletteRow, { hasText: title }).first();
    try {
      await row.waitFor({ state: "visible", timeout: 5_000 });
      // No wait for the palette to close: a command that asks next (a quick pick or an
      // input box) reuses the same widget, so it may never be seen hidden. Callers wait
      // for what follows.
      await page.keyboard.press("Enter");
      return;
    } catch {
      await page.keyboard.press("Escape");
      await page.waitForTimeout(1_000);
    }
  }
  throw new Error(`command '${title}' never appeared in the palette`);
}

async function pickRow(page, text) {
  const row = page.locator(SEL.paletteRow, { hasText: text }).first();
  await row.waitFor({ state: "visible", timeout: WAIT_MS });
  await row.click();
}

/**
 * Wait until the editor matched by `editorSelector` shows a line containing `text`.
 * Monaco only puts the lines on screen into the DOM, and a document that updates keeps
 * its scroll position, so while the text is not on screen the editor's own Find widget
 * is asked to scroll to it (again every few seconds: the text may not exist yet).
 */
async function waitEditorText(page, editorSelector, text, label) {
  const lines = `${editorSelector} .view-lines`;
  const start = Date.now();
  let last = "";
  for (let round = 0; Date.now() - start < WAIT_MS; round++) {
    const found = await texts(page, lines);
    const hit = found.find((t) => t.includes(text));
    if (hit !== undefined) {
      return hit;
    }
    last = found.join(" | ");
    if (round % 8 === 0) {
      await page.locator(lines).first().click();
      await page.keyboard.press("Control+F");
      const find = page.locator(`${editorSelector} .find-widget textarea, ${editorSelector} .find-widget input`).first();
      await find.waitFor({ state: "visible" });
      await find.fill(text);
      await page.keyboard.press("Enter");
      await page.keyboard.press("Escape");
    }
    await page.waitForTimeout(POLL_MS);
  }
  throw new Error(`timed out waiting for ${label}; last seen: ${last.slice(0, 800)}`);
}

/** Let the toast with `text` finish fading in, so a screenshot shows it. */
async function settledToast(page, text) {
  await page.locator(".notification-toast.notification-fade-in-done", { hasText: text }).first().waitFor().catch(() => {});
}

/** Answer an input box whose title or prompt contains `prompt`. */
async function answerInput(page, prompt, answer) {
  await waitText(page, `${SEL.paletteTitle}, ${SEL.paletteMessage}`, (t) => t.includes(prompt), `the input box '${prompt}'`);
  const input = page.locator(SEL.paletteInput).first();
  await input.fill(answer);
  await page.keyboard.press("Enter");
}

/**
 * Start Chromium on the workbench, run `body({page, results, shot})`, and write the
 * results file (with `ok`, or the error and a fail.png screenshot).
 */
function drive(body) {
  const [URL, OUT, RESULTS] = process.argv.slice(2);
  const results = { steps: [], texts: {}, notifications: [] };
  const save = () => fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2));
  let page;
  const shot = async (name) => {
    await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    results.steps.push(name);
    save();
    log(`step ${name}`);
  };
  (async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    page.on("console", (m) => { if (m.type() === "error") log(`console.error ${m.text().slice(0, 200)}`); });
    await page.goto(URL);
    await page.waitForSelector(".monaco-workbench");
    await body({ page, results, shot });
    results.ok = true;
    save();
    await browser.close();
  })().catch(async (error) => {
    results.ok = false;
    results.error = String(error && error.stack ? error.stack : error).slice(0, 2000);
    try {
      results.notifications = await texts(page, SEL.notification);
      await page.screenshot({ path: path.join(OUT, "fail.png") });
    } catch (_) {
      // the page may be gone; the error above is what matters
    }
    save();
    console.error(`DRIVE FAILED: ${results.error}`);
    process.exit(1);
  });
}

module.exports = { WAIT_MS, POLL_MS, SEL, log, clean, texts, waitText, runCommand, pickRow, answerInput, settledToast, waitEditorText, drive };
