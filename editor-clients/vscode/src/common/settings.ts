// Reads the `zwarm.*` settings into the typed value in model/settings.ts and reports
// changes to them.

import * as vscode from "vscode";
import { SETTINGS_SECTION } from "./constants";
import { parseSettings, type ZwarmSettings } from "../model/settings";

export function readSettings(): ZwarmSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return parseSettings((key) => config.get(key), vscode.workspace.isTrusted);
}

export function onSettingsChanged(listener: (settings: ZwarmSettings) => void): vscode.Disposable {
  const changed = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SETTINGS_SECTION)) {
      listener(readSettings());
    }
  });
  // Trusting the workspace lets its .zwarm/ config widen: tell the daemon.
  const trusted = vscode.workspace.onDidGrantWorkspaceTrust(() => listener(readSettings()));
  return vscode.Disposable.from(changed, trusted);
}
