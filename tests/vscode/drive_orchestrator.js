// Drives the orchestrator and the pilot from VS Code's palette, against the scripted
// model server: "Pilot" (the pilot asks a question through zwarm/chat, answered in an
// input box, then replies), and "Orchestrate…" (a run that streams its steps into the
// "zwarm orchestrator" output channel and ends with a notification), and "Orchestrator
// Runs" (the runs list; the picked run's steps go to the channel, and an interrupted
// one is resumed from there). Writes what it read
// to RESULTS and screenshots to OUT_DIR (see workbench.js).
"use strict";
const { SEL, answerInput, drive, pickRow, runCommand, settledToast, texts, waitText } = require("./workbench");

const OUTPUT = `${SEL.panel} .view-lines`;

drive(async ({ page, results, shot }) => {
  await page.waitForSelector(SEL.statusItem); // the extension is active

  // 1. Pilot: the message, then the pilot's question in an input box (zwarm/chat).
  await runCommand(page, "zwarm: Pilot");
  await answerInput(page, "Talk to the pilot", "add a cache");
  await waitText(page, `${SEL.paletteTitle}, ${SEL.paletteMessage}`, (t) => t.includes("Which database should the cache use?"), "the pilot's question");
  results.texts.question = (await texts(page, `${SEL.paletteTitle}, ${SEL.paletteMessage}`)).join(" | ");
  await shot("01-pilot-asks");
  await answerInput(page, "Which database should the cache use?", "postgres");
  results.texts.pilotReply = await waitText(page, SEL.notification, (t) => t.startsWith("zwarm pilot ("), "the pilot's reply");
  results.texts.pilotOutput = await waitText(page, OUTPUT, (t) => t.includes("[pilot default]"), "the pilot's steps in the output channel");
  await settledToast(page, "zwarm pilot (");
  await shot("02-pilot-replied");

  // 2. Orchestrate: answers at once with the run, which then streams and finishes.
  await runCommand(page, "zwarm: Orchestrate…");
  await answerInput(page, "A larger task", "check on the sessions");
  results.texts.orchestrateStarted = await waitText(page, SEL.notification, (t) => t.startsWith("zwarm orchestrator"), "the run's start");
  const runId = /zwarm orchestrator (\S+)/.exec(results.texts.orchestrateStarted)[1];
  results.runId = runId;
  results.texts.orchestrateFinished = await waitText(page, SEL.notification, (t) => t.startsWith(`zwarm orchestrator ${runId} finished`), "the run's end");
  results.texts.orchestratorOutput = await waitText(page, OUTPUT, (t) => t.includes(`[orchestrator ${runId}]`) && t.includes("finished"), "the run's steps in the output channel");
  results.notifications = await texts(page, SEL.notification);
  await settledToast(page, `zwarm orchestrator ${runId} finished`);
  await shot("03-orchestrated");

  // 3. The runs list (zwarm/listRuns): the run and the interrupted one the test left on
  // disk; picking ours writes its steps (zwarm/orchestratorTrajectory) to the channel.
  await runCommand(page, "zwarm: Orchestrator Runs");
  await waitText(page, SEL.paletteRow, (t) => t.includes(runId), "our run in the runs list");
  results.texts.runRows = await texts(page, SEL.paletteRow);
  await shot("04-runs");
  await pickRow(page, runId);
  results.texts.runShown = await waitText(page, OUTPUT, (t) => t.includes(`== orchestrator run ${runId} (`), "the picked run's steps");

  // 4. The interrupted run: picked, it offers Resume (zwarm/resumeRun), and then finishes.
  const stale = process.env.STALE_RUN;
  await runCommand(page, "zwarm: Orchestrator Runs");
  await pickRow(page, stale);
  const offer = page.locator(".notification-toast", { hasText: `run ${stale} is interrupted` }).first();
  await offer.waitFor({ state: "visible" });
  await settledToast(page, `run ${stale} is interrupted`);
  await shot("05-resume-offered");
  await offer.locator(".monaco-button", { hasText: "Resume" }).first().click();
  results.texts.resumeFinished = await waitText(page, SEL.notification, (t) => t.startsWith(`zwarm orchestrator ${stale} finished`), "the resumed run's end");
});
