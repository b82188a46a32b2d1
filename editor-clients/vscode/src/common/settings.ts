// Reads the `zwarm.*` settings into the typed value in model/settings.ts and reports
// changes to them.

import * as vscode from "vscode";
import { SETTINGS_SECTION } from "./constants";
import { parseSettings, type ZwarmSettings } from "../model/settings";

export function readSettings(): ZwarmSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return parseSettings((key) => config.get(key));
}

export function onSettingsChanged(listener: (settings: ZwarmSettings) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SETTINGS_SECTION)) {
      listener(readSettings());
    }
  });
}
