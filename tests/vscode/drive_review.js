// Drives the review of change sets in code-server: two worktree sessions (started by the
// test before the workbench opened) changed calc.py; the user has calc.py open with an
// unsaved edit. From the Sessions view the session's file opens VS Code's diff editor;
// its Accept lens and the reject key (ctrl+alt+n at the hunk) decide each hunk (the daemon
// applies through workspace/applyEdit); Ctrl+Z undoes the accept; the second session's overlapping hunk
// conflicts; a hover on an accepted line names the session. Screenshots per step.
"use strict";
const { SEL, answerInput, clean, drive, log, pickRow, runCommand, texts, waitText, settledToast } = require("./workbench");

const FIRST = process.env.FIRST_SHORT;
const SECOND = process.env.SECOND_SHORT;
const LENS_LINK = `${SEL.lens} a`;
const ACTIVE_TAB = ".editor-group-container.active .tab.active";

function editorFor(page, suffix) {
  return page.locator(`.monaco-editor[data-uri$="${suffix}"]`).first();
}

async function editorText(page, uriSuffix) {
  const lines = await page.locator(`.monaco-editor[data-uri$="${uriSuffix}"] .view-line`).allInnerTexts();
  return lines.map(clean).join("\n");
}

async function waitEditor(page, uriSuffix, predicate, label) {
  const start = Date.now();
  let last = "";
  while (Date.now() - start < 60_000) {
    last = await editorText(page, uriSuffix);
    if (predicate(last)) {
      return last;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${label}; last seen: ${last.slice(0, 600)}`);
}

async function openCalcTab(page) {
  await page.locator('.tabs-container .tab:has-text("calc.py")').filter({ hasNotText: "↔" }).first().click();
  await editorFor(page, "/calc.py").waitFor();
}

drive(async ({ page, results, shot }) => {
  // The user's file, open and edited without saving.
  await page.click('.explorer-folders-view .monaco-list-row:has-text("calc.py")');
  await editorFor(page, "/calc.py").waitFor();
  await page.waitForSelector(SEL.statusItem);
  await editorFor(page, "/calc.py").locator(".view-line").first().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("# mine\n");
  results.texts.userEdit = await waitEditor(page, "/calc.py", (t) => t.includes("# mine"), "the user's edit");

  // The Sessions view: the first session has its file as a child, with its hunk states.
  // A row is found by "codex <short id>": another row may name it too ("⚠ overlaps <id>").
  await page.locator(SEL.statusItem).click();
  await waitText(page, SEL.sidebarRow, (t) => t.includes(`codex ${FIRST}`), "the first session in the view");
  results.texts.secondRow = await waitText(page, SEL.sidebarRow, (t) => t.includes(`codex ${SECOND}`), "the second session in the view");
  await page.locator(SEL.sidebarRow, { hasText: `codex ${FIRST}` }).first().locator(".monaco-tl-twistie").click();
  results.texts.fileRow = await waitText(page, SEL.sidebarRow, (t) => t.includes("calc.py") && t.includes("pending"), "the changed file under the session");
  await shot("review-01-session-files");

  // The file opens the diff editor between the session's base and result.
  await page.locator(SEL.sidebarRow, { hasText: "calc.py" }).first().click();
  await page.locator(".monaco-diff-editor").first().waitFor();
  results.texts.diffTitle = await waitText(page, ".tabs-container .tab", (t) => t.includes(`zwarm ${FIRST}`), "the diff editor's title");
  // VS Code can drop a lens refresh of an editor that opened without focus (drive.js saw
  // it too) and asks again on focus: after a while, click into the diff as a user would.
  for (let attempt = 1; ; attempt++) {
    try {
      results.texts.diffLenses = await waitText(page, SEL.lens, (t) => t.includes("Accept"), "Accept / Reject lenses in the diff", { timeout: attempt < 4 ? 15_000 : 60_000 });
      break;
    } catch (error) {
      if (attempt >= 4) {
        throw error;
      }
      log(`no lenses in the diff yet (attempt ${attempt}); focusing it`);
      await page.locator(".monaco-diff-editor .editor.modified .view-line").last().click();
    }
  }
  await shot("review-02-diff");

  // Accept the first hunk: it reaches the open buffer, beside the user's edit.
  await page.locator(LENS_LINK, { hasText: "Accept" }).first().click();
  await waitText(page, SEL.sidebarRow, (t) => t.includes("calc.py") && t.includes("1 applied"), "the accepted hunk in the view");
  // The diff is reopened in place with the new state in its title.
  results.texts.diffTitleAccepted = await waitText(page, ACTIVE_TAB, (t) => t.includes("1 to review"), "the diff's title after the accept");
  // The decided hunk's lenses go away; the other hunk keeps its own.
  const start = Date.now();
  while ((await page.locator(LENS_LINK, { hasText: "Accept" }).count()) !== 1) {
    if (Date.now() - start > 60_000) {
      throw new Error("the accepted hunk's lenses never went away");
    }
    await page.waitForTimeout(250);
  }
  // The other hunk is rejected with the keyboard (ctrl+alt+n: the hunk at the cursor).
  await page.locator(".monaco-diff-editor .editor.modified .view-line", { hasText: "REJECTED" }).first().click();
  await page.keyboard.press("Control+Alt+N");
  results.texts.fileRowDecided = await waitText(page, SEL.sidebarRow, (t) => t.includes("calc.py") && t.includes("1 discarded"), "the rejected hunk in the view");
  results.texts.diffTitleDecided = await waitText(page, ACTIVE_TAB, (t) => t.includes("reviewed"), "the diff's title after the reject");
  await shot("review-03-decided");

  await openCalcTab(page);
  results.texts.afterAccept = await waitEditor(page, "/calc.py", (t) => t.includes("ACCEPTED") && t.includes("# mine"), "the accepted hunk in the buffer");
  await page.keyboard.press("Control+Z");
  results.texts.afterUndo = await waitEditor(page, "/calc.py", (t) => !t.includes("ACCEPTED"), "the undone accept");
  await page.keyboard.press("Control+Shift+Z");
  results.texts.afterRedo = await waitEditor(page, "/calc.py", (t) => t.includes("ACCEPTED"), "the redone accept");
  await page.keyboard.press("Control+S");
  await page.locator('.tabs-container .tab.dirty:has-text("calc.py")').waitFor({ state: "detached" }).catch(() => {});

  // A third delegation, of lines the second session's waiting hunk holds: the daemon
  // reports the overlap with the new session's result; "End It" ends the new session.
  await editorFor(page, "/calc.py").locator(".view-line").first().click();
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("Shift+ArrowDown");
  await page.keyboard.press("Shift+ArrowDown");
  await page.keyboard.press("Shift+End");
  await waitText(page, "#status\\.editor\\.selection", (t) => t.includes("Ln 3") && t.includes("selected"), "the selection of lines 1-3");
  await runCommand(page, "zwarm: Delegate Selection");
  await pickRow(page, "Delegate this to Codex");
  await answerInput(page, "What should the agent do with the selected code?", "");
  results.texts.overlapWarning = await waitText(page, SEL.notification, (t) => t.includes("overlaps") && t.includes(SECOND), "the overlap warning");
  await settledToast(page, "overlaps");
  await shot("review-04-overlap");
  const third = /session ([0-9a-f]{8}) overlaps/.exec(results.texts.overlapWarning)[1];
  await page.locator(".notification-toast", { hasText: "overlaps" }).locator(".monaco-button", { hasText: "End It" }).first().click();
  results.texts.overlapEnded = await waitText(page, SEL.notification, (t) => t.includes(`session ${third} killed`), "the ended session's notice");
  await page.locator(SEL.statusItem).click();
  results.texts.thirdRow = await waitText(page, SEL.sidebarRow, (t) => t.includes(`codex ${third}`) && t.includes("killed"), "the ended session in the view");

  // The second session changed the same lines. The daemon's Accept lens on its hunk in
  // calc.py conflicts: the reason is shown, nothing is applied, the hunk still waits.
  await openCalcTab(page);
  const calc = editorFor(page, "/calc.py");
  const daemonAccept = calc.locator(".codelens-decoration a", { hasText: "Accept" }).first();
  for (let attempt = 1; ; attempt++) {
    // A lens refresh can be dropped while the editor had no focus (see drive.js).
    await calc.locator(".view-line").last().click();
    try {
      await daemonAccept.waitFor({ timeout: attempt < 4 ? 15_000 : 60_000 });
      break;
    } catch (error) {
      if (attempt >= 4) {
        throw error;
      }
      await page.locator(".tabs-container .tab", { hasText: "zwarm" }).first().click();
      await openCalcTab(page);
    }
  }
  results.texts.daemonLenses = await texts(page, `.monaco-editor[data-uri$="/calc.py"] .codelens-decoration`);
  await daemonAccept.click();
  results.texts.conflict = await waitText(page, SEL.notification, (t) => t.includes("nothing applied"), "the conflict notification");
  await settledToast(page, "nothing applied");
  await page.locator(SEL.statusItem).click();
  results.texts.secondRowAfterConflict = await waitText(page, SEL.sidebarRow, (t) => t.includes(`codex ${SECOND}`) && t.includes("to review"), "the conflicting hunk still waiting");
  await shot("review-05-conflict");

  // Reject All from the session's menu drops it. The menu item is chosen with the
  // keyboard (a click right after the menu opens can be dropped, as drive.js found).
  for (let attempt = 1; ; attempt++) {
    await page.locator(SEL.sidebarRow, { hasText: `codex ${SECOND}` }).first().click({ button: "right" });
    await waitText(page, SEL.menuItem, (t) => t === "Reject All Changes", "the session's review menu");
    results.texts.reviewMenu = (await texts(page, SEL.menuItem)).filter(Boolean);
    await page.locator(".context-view .monaco-menu .action-item", { hasText: "Reject All Changes" }).first().hover();
    await page.locator(".context-view .monaco-menu .action-item.focused", { hasText: "Reject All Changes" }).first().waitFor();
    await page.keyboard.press("Enter");
    try {
      results.texts.secondRowRejected = await waitText(page, SEL.sidebarRow, (t) => t.includes(`codex ${SECOND}`) && !t.includes("to review"), "the second session with nothing left to review", { timeout: attempt < 3 ? 20_000 : 120_000 });
      break;
    } catch (error) {
      if (attempt >= 3) {
        throw error;
      }
      await page.keyboard.press("Escape");
    }
  }

  // A hover on the accepted line names the session that wrote it.
  await openCalcTab(page);
  const accepted = editorFor(page, "/calc.py").locator(".view-line", { hasText: "ACCEPTED" }).first();
  const hoverStart = Date.now();
  for (;;) {
    // On the text itself, and again until it shows (a hover needs the pointer to rest).
    await accepted.hover({ position: { x: 80, y: 5 } });
    try {
      results.texts.hover = await waitText(page, ".monaco-hover:not(.hidden)", (t) => t.includes("written by"), "the blame hover", { timeout: 10_000 });
      break;
    } catch (error) {
      if (Date.now() - hoverStart > 120_000) {
        throw error;
      }
      await page.mouse.move(5, 5);
    }
  }
  await shot("review-06-hover");
  // The hover's "Changes" link opens the session's diff (a client command the daemon's
  // markdown may run).
  await page.locator(".monaco-hover:not(.hidden) a", { hasText: "Changes" }).first().click();
  results.texts.hoverChanges = await waitText(page, ACTIVE_TAB, (t) => t.includes(`zwarm ${FIRST}`), "the changes opened from the hover");
  results.texts.multiDiffFiles = await waitText(page, ".multiDiffEditor", (t) => t.includes("NOTES.md"), "the session's files in the multi-file diff");
  await shot("review-07-all-changes");
  results.texts.notifications = await texts(page, SEL.notification);
});
