// Drives code-server's real VS Code workbench in Chromium (playwright-core) through the
// zwarm extension: the server's code actions in the lightbulb menu, "Delegate Selection"
// from the palette (the selection goes to the daemon as a range), the Sessions view (opened from the status bar item) and its context
// menu, the code lens at the anchor, the changed-line decorations and their hover, and
// the trajectory document. Writes what it read to RESULTS and a screenshot per step to
// OUT_DIR (see workbench.js); test_e2e.py asserts on them. The fake agent holds its turn
// until this script writes $RELEASE_FILE.
"use strict";
const fs = require("fs");
const { SEL, answerInput, clean, drive, log, pickRow, runCommand, settledToast, texts, waitEditorText, waitText, WAIT_MS } = require("./workbench");

const RELEASE = process.env.RELEASE_FILE;
const MARKER = "echo zwarm-e2e-marker";
const SIDEBAR = SEL.sidebar;
const SIDEBAR_ROW = SEL.sidebarRow;
const STATUS_ITEM = SEL.statusItem;
const PROGRESS_ITEM = SEL.progressItem;
const LENS = SEL.lens;
const PALETTE_ROW = SEL.paletteRow;
const NOTIFICATION = SEL.notification;
const TRAJECTORY = '.monaco-editor[data-uri^="zwarm:"]';

/** The editor showing calc.py (Monaco tags its root with the model's URI). */
function calcEditor(page) {
  return page.locator('.monaco-editor[data-uri$="/calc.py"]').first();
}

/** Select lines 1-3 of calc.py (the function with the TODO), start to end of line 3. */
async function selectAdd(page) {
  await calcEditor(page).locator(".view-line").first().click();
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("Shift+ArrowDown");
  await page.keyboard.press("Shift+ArrowDown");
  await page.keyboard.press("Shift+End");
  // The status bar follows each key; wait for the end state (line 3 ends at column 17).
  return waitText(page, "#status\\.editor\\.selection", (t) => t.includes("Ln 3, Col 17 (74 selected)"), "the selection");
}

drive(async ({ page, results, shot }) => {
  await page.click('.explorer-folders-view .monaco-list-row:has-text("calc.py")');
  await page.waitForSelector('.tabs-container .tab:has-text("calc.py")');
  await calcEditor(page).waitFor();

  // 1. A selection. The status bar item is the extension's, so it is active by now.
  await page.waitForSelector(STATUS_ITEM);
  results.texts.selection = await selectAdd(page);
  await shot("01-selection");

  // 2. The daemon's code actions in the lightbulb menu. The bulb appears once the daemon
  // answers textDocument/codeAction, so this also waits for the daemon to be up.
  const bulb = page.locator(".monaco-editor .lightBulbWidget").first();
  const actionRow = ".action-widget .monaco-list-row";
  const start = Date.now();
  for (;;) {
    try {
      await bulb.waitFor({ state: "visible", timeout: 20_000 });
      await bulb.click();
      await page.locator(actionRow, { hasText: "Delegate this to Claude" }).first().waitFor({ timeout: 10_000 });
      break;
    } catch (error) {
      if (Date.now() - start > WAIT_MS) {
        throw new Error(`the lightbulb menu never offered the delegate actions: ${error}`);
      }
      await page.keyboard.press("Escape");
      await selectAdd(page); // a selection made before the daemon ran asks again
    }
  }
  results.texts.lightbulb = await texts(page, actionRow);
  await shot("02-lightbulb");
  await page.keyboard.press("Escape");
  await page.locator(".action-widget").first().waitFor({ state: "hidden" }).catch(() => {});
  results.texts.selection = await selectAdd(page);

  // 3. "Delegate Selection" from the palette: the agent, then the (optional) instruction,
  // left empty; the extension sends the selection's range and the daemon writes the task.
  await runCommand(page, "zwarm: Delegate Selection");
  results.texts.delegatePick = await waitText(page, PALETTE_ROW, (t) => t.includes("Delegate this to Codex"), "the delegate quick pick");
  results.texts.delegatePicks = await texts(page, PALETTE_ROW);
  await pickRow(page, "Delegate this to Codex");
  await answerInput(page, "What should the agent do with the selected code?", "");
  const delegated = await waitText(page, NOTIFICATION, (t) => /delegated to codex/.test(t), "the delegate notification");
  results.texts.delegated = delegated;
  const shortId = /as ([0-9a-f]{8})/.exec(delegated)[1];
  results.shortId = shortId;
  await shot("03-delegated");

  // 4. The status bar item counts the running session; clicking it opens the Sessions
  // view, which shows the session under Running. Its context menu has the actions.
  results.texts.statusBarRunning = await waitText(page, STATUS_ITEM, (t) => /zwarm\s+1\b/.test(t), "the status bar count of running sessions");
  results.texts.statusBarRunningLabel = await page.locator(STATUS_ITEM).getAttribute("aria-label");
  results.texts.progressRunning = await waitText(page, PROGRESS_ITEM, (t) => t.includes(`zwarm codex ${shortId}`), "the $/progress status for the session");
  await page.locator(STATUS_ITEM).click();
  results.texts.sidebarTitle = await waitText(page, `${SIDEBAR} .composite.title`, (t) => /SESSIONS/i.test(t), "the Sessions view");
  results.texts.sessionRunning = await waitText(page, SIDEBAR_ROW, (t) => t.includes(shortId) && t.includes("running"), "a running row in the Sessions view");
  results.texts.groupsRunning = await texts(page, SIDEBAR_ROW);
  await page.locator(SIDEBAR_ROW, { hasText: shortId }).first().click({ button: "right" });
  const menuItem = SEL.menuItem;
  await waitText(page, menuItem, (t) => t.includes("End Session"), "the session's context menu");
  results.texts.contextMenuRunning = (await texts(page, menuItem)).filter(Boolean);
  await shot("04-sessions-running");
  await page.keyboard.press("Escape");

  // 5. The code lens at the anchor follows the session. VS Code drops a lens refresh that
  // is pending when the editor loses focus (it asks again on focus), and focus just went
  // to the Sessions view: come back to the code, as a user would, then read the lens.
  await calcEditor(page).locator(".view-line").last().click();
  results.texts.lensRunning = await waitText(page, LENS, (t) => t.includes(shortId) && t.includes("running"), "the running code lens");
  await shot("05-lens-running");

  // 6. The lens opens the trajectory (client-side zwarm.openTrajectory), read-only
  // markdown in the zwarm: scheme, showing the command the agent ran so far.
  await page.locator(`${LENS} a`, { hasText: shortId }).first().click();
  results.texts.trajectoryRunning = await waitEditorText(page, TRAJECTORY, `session ${shortId}: running`, "the trajectory document (running)");
  results.texts.trajectoryRunningCommand = await waitEditorText(page, TRAJECTORY, MARKER, "the agent's command in the trajectory");
  results.texts.tabsRunning = await texts(page, ".tabs-container .tab");
  await shot("06-trajectory-running");

  // 7. Let the fake agent finish: it edits calc.py. Everything updates without a click.
  fs.writeFileSync(RELEASE, "go\n");
  results.texts.sessionCompleted = await waitText(page, SIDEBAR_ROW, (t) => t.includes(shortId) && t.includes("completed"), "a completed row in the Sessions view");
  results.texts.groupsCompleted = await waitText(page, SIDEBAR_ROW, (t) => t.startsWith("Completed"), "the Completed group").then(() => texts(page, SIDEBAR_ROW));
  results.texts.lensCompleted = await waitText(page, LENS, (t) => t.includes(shortId) && t.includes("completed"), "the completed code lens");
  results.texts.trajectoryLive = await waitEditorText(page, TRAJECTORY, `session ${shortId}: completed`, "the open trajectory to update live");
  results.texts.calcAfter = await waitText(page, '.monaco-editor[data-uri$="/calc.py"] .view-lines', (t) => t.includes("raise TypeError"), "the agent's edit in the calc.py editor");
  // The gutter marks of the changed lines (glyph-margin decorations render as .cgmr).
  const glyphs = calcEditor(page).locator(".cgmr");
  await glyphs.first().waitFor({ state: "attached" });
  results.texts.changedLineGlyphs = await glyphs.evaluateAll((els) => els.map((e) => e.className));
  results.texts.statusBarCompleted = await texts(page, STATUS_ITEM);
  results.texts.progressCompleted = await texts(page, PROGRESS_ITEM);
  await shot("07-completed");

  // 8. The hover on a changed line names the session and the step.
  const changedLine = calcEditor(page).locator(".view-line", { hasText: "raise TypeError" }).first();
  const hover = ".monaco-hover:not(.hidden)";
  const hoverStart = Date.now();
  for (;;) {
    await changedLine.hover({ position: { x: 60, y: 5 } });
    try {
      results.texts.hover = await waitText(page, hover, (t) => t.includes("written by"), "the changed-line hover", { timeout: 10_000 });
      break;
    } catch (error) {
      if (Date.now() - hoverStart > WAIT_MS) {
        throw error;
      }
      await page.mouse.move(5, 450); // move off and back: hovers open on a fresh move
    }
  }
  await shot("08-hover");
  await page.mouse.move(5, 450);

  // 8b. The Sessions row's tooltip, written on hover: the row's facts and the agent's last
  // reply, which the extension asks the daemon for then (list rows leave it out).
  const tooltip = ".workbench-hover, .monaco-hover:not(.hidden)";
  for (let attempt = 1; ; attempt++) {
    await page.locator(SIDEBAR_ROW, { hasText: shortId }).first().hover();
    try {
      results.texts.sessionTooltip = await waitText(page, tooltip, (t) => t.includes("added the number check"), "the session row's tooltip", { timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt >= 3) {
        throw error;
      }
      await page.mouse.move(5, 450); // tooltips open on a fresh move onto the row
    }
  }
  await page.mouse.move(5, 450);

  // 9. A context menu action on the finished session: Check. The item is chosen with
  // the keyboard: a mouse click on a menu item right after the menu opened is sometimes
  // dropped by VS Code's menu (seen here), Enter on the focused item is not.
  const check = `zwarm ${shortId} completed`;
  for (let attempt = 1; ; attempt++) {
    await page.locator(SIDEBAR_ROW, { hasText: shortId }).first().click({ button: "right" });
    await waitText(page, menuItem, (t) => t === "Check", "the context menu");
    results.texts.contextMenuCompleted = (await texts(page, menuItem)).filter(Boolean);
    const item = page.locator(".context-view .monaco-menu .action-item", { hasText: "Check" }).first();
    await item.hover();
    await page.locator(".context-view .monaco-menu .action-item.focused", { hasText: "Check" }).first().waitFor();
    await page.keyboard.press("Enter");
    try {
      results.texts.check = await waitText(page, NOTIFICATION, (t) => t.startsWith(check), "the Check notification", { timeout: attempt < 3 ? 20_000 : WAIT_MS });
      break;
    } catch (error) {
      if (attempt >= 3) {
        throw error;
      }
      log(`no Check notification yet (attempt ${attempt}); opening the menu again`);
      await page.keyboard.press("Escape");
    }
  }
  await settledToast(page, `zwarm ${shortId} completed ·`);
  await shot("09-check");

  // 10. "Show Trajectory" from the palette: a quick pick of sessions, then the document
  // with the command the agent ran (brought forward, not opened twice).
  await runCommand(page, "zwarm: Show Trajectory");
  await pickRow(page, shortId);
  await waitEditorText(page, TRAJECTORY, `session ${shortId}: completed`, "the trajectory header");
  results.texts.trajectory = await waitEditorText(page, TRAJECTORY, MARKER, "the trajectory with the agent's command");
  results.texts.tabs = await texts(page, ".tabs-container .tab");
  results.texts.activeTab = clean(await page.locator(".editor-group-container.active .tab.active").first().innerText());
  results.notifications = await texts(page, NOTIFICATION);
  await shot("10-trajectory");
});
