// Drives code-server's real VS Code workbench in Chromium (playwright-core) through the
// zwarm extension: delegate a selection from the palette, follow the session in the
// Sessions view and the code lens, open its trajectory. Writes what it saw to RESULTS
// (JSON) and a screenshot per step to OUT_DIR; test_e2e.py asserts on them.
// Usage: node drive.js URL OUT_DIR RELEASE_FILE RESULTS
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const [URL, OUT, RELEASE, RESULTS] = process.argv.slice(2);
const WAIT_MS = 90_000; // generous: the machine is shared and has 2 cores
const MARKER = "echo zwarm-e2e-marker";
const results = { steps: [], texts: {}, notifications: [] };

function save() {
  fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2));
}

function log(message) {
  console.log(`[drive ${new Date().toISOString()}] ${message}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  results.steps.push(name);
  save();
  log(`step ${name}`);
}

/** Monaco renders spaces as U+00A0; compare text the way a reader sees it. */
const clean = (s) => (s || "").replace(/\u00a0/g, " ");

async function waitText(page, selector, predicate, label) {
  const deadline = Date.now() + WAIT_MS;
  let last = "";
  while (Date.now() < deadline) {
    const texts = await page.locator(selector).allInnerTexts();
    const hit = texts.map(clean).find(predicate);
    if (hit !== undefined) {
      return hit;
    }
    last = texts.map(clean).join(" | ");
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${label}; last seen: ${last.slice(0, 500)}`);
}

/**
 * Run a palette command. Its `when` clause hides it until the daemon runs, so the palette
 * is reopened until the row shows up.
 */
async function runCommand(page, title) {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input").first();
    await input.waitFor({ state: "visible", timeout: WAIT_MS });
    await input.fill(`>${title}`);
    const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first();
    try {
      await row.waitFor({ state: "visible", timeout: 5_000 });
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
  const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: text }).first();
  await row.waitFor({ state: "visible", timeout: WAIT_MS });
  await row.click();
}

async function notifications(page) {
  return (await page.locator(".notification-list-item-message").allInnerTexts()).map(clean);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  global.page = page;
  page.on("console", (m) => { if (m.type() === "error") log(`console.error ${m.text().slice(0, 200)}`); });

  await page.goto(URL);
  await page.waitForSelector(".monaco-workbench", { timeout: WAIT_MS });
  await page.click('.explorer-folders-view .monaco-list-row:has-text("calc.py")', { timeout: WAIT_MS });
  await page.waitForSelector('.tabs-container .tab:has-text("calc.py")', { timeout: WAIT_MS });

  // Select the first three lines of calc.py (the function with the TODO).
  await page.locator(".monaco-editor .view-line").first().click();
  await page.keyboard.press("Control+Home");
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press("Shift+ArrowDown");
  }
  await shot(page, "01-selection");

  await runCommand(page, "zwarm: Delegate Selection");
  await pickRow(page, "Delegate this to Codex");
  const delegated = await waitText(page, ".notification-list-item-message", (t) => /delegated to codex/.test(t), "the delegate notification");
  results.texts.delegated = delegated;
  const shortId = /as ([0-9a-f]{8})/.exec(delegated)[1];
  results.shortId = shortId;
  await shot(page, "02-delegated");

  await runCommand(page, "zwarm: Show Sessions");
  const sidebarRow = "#workbench\\.parts\\.sidebar .monaco-list-row";
  results.texts.sessionRunning = await waitText(page, sidebarRow, (t) => t.includes(shortId) && t.includes("running"), "a running row in the Sessions view");
  results.texts.groupsRunning = (await page.locator(sidebarRow).allInnerTexts()).map(clean);
  const lens = ".monaco-editor .codelens-decoration";
  results.texts.lensRunning = await waitText(page, lens, (t) => t.includes(shortId) && t.includes("running"), "the running code lens");
  results.texts.statusBarRunning = clean(await page.locator("#workbench\\.parts\\.statusbar").innerText());
  await shot(page, "03-running");

  // The lens opens the trajectory through the client-side zwarm.openTrajectory command.
  await page.locator(`${lens} a`, { hasText: shortId }).first().click();
  results.texts.trajectoryRunning = await waitText(page, ".view-lines", (t) => t.includes(`session ${shortId}: running`), "the trajectory document (running)");
  await shot(page, "04-trajectory-running");

  fs.writeFileSync(RELEASE, "go\n"); // lets the fake agent finish its turn
  results.texts.sessionCompleted = await waitText(page, sidebarRow, (t) => t.includes(shortId) && t.includes("completed"), "a completed row in the Sessions view");
  results.texts.groupsCompleted = (await page.locator(sidebarRow).allInnerTexts()).map(clean);
  results.texts.lensCompleted = await waitText(page, lens, (t) => t.includes(shortId) && t.includes("completed"), "the completed code lens");
  results.texts.trajectoryLive = await waitText(page, ".view-lines", (t) => t.includes(`session ${shortId}: completed`), "the open trajectory to update live");
  results.texts.statusBarCompleted = clean(await page.locator("#workbench\\.parts\\.statusbar").innerText());
  await shot(page, "05-completed");

  await runCommand(page, "zwarm: Show Trajectory");
  await pickRow(page, shortId);
  results.texts.trajectory = await waitText(page, ".view-lines", (t) => t.includes(MARKER), "the trajectory with the agent's command");
  results.texts.tabs = (await page.locator(".tabs-container .tab").allInnerTexts()).map(clean);
  results.notifications = await notifications(page);
  await shot(page, "06-trajectory");
  results.ok = true;
  save();
  await browser.close();
}

main().catch(async (error) => {
  results.ok = false;
  results.error = String(error && error.stack ? error.stack : error).slice(0, 2000);
  try {
    results.notifications = await notifications(global.page);
    await global.page.screenshot({ path: path.join(OUT, "fail.png") });
  } catch (_) {
    // the page may be gone; the error above is what matters
  }
  save();
  console.error(`DRIVE FAILED: ${results.error}`);
  process.exit(1);
});
