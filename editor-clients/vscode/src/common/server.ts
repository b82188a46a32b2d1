// Starts, stops and restarts the language client for the zwarm-ls daemon, and is the one
// place the rest of the extension sends requests through.

import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  State,
  type ClientCapabilities,
  type FeatureState,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
} from "vscode-languageclient/node";
import { CLIENT_ID, CLIENT_NAME, Commands, ContextKeys } from "./constants";
import { logError, logInfo, outputChannel } from "./logging";
import { resolveServerCommand, ServerNotFound } from "./python";
import { daemonOptions, needsRestart, type ZwarmSettings } from "../model/settings";
import {
  Methods,
  type Anchor,
  type ChangesUpdated,
  type ChatAnswer,
  type ChatQuestion,
  type OrchestratorUpdated,
  type SessionUpdated,
} from "../protocol";

/**
 * Declares `experimental.zwarm.chat`, so the orchestrator and pilot ask the user with
 * `zwarm/chat` (an input box, free text) rather than `window/showMessageRequest`
 * (buttons only).
 */
class ChatCapability implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, zwarm: { chat: true } };
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: "static" };
  }
  clear(): void {}
}

export type ChatHandler = (params: ChatQuestion) => Promise<ChatAnswer>;

/** Runs a server command (from one of the daemon's code lenses) itself, or returns undefined. */
export type CommandInterceptor = (command: string, args: unknown[]) => Promise<unknown> | undefined;

export class DaemonNotRunning extends Error {
  constructor() {
    super("the zwarm-ls daemon is not running (see the 'zwarm' output, or run 'zwarm: Restart Server')");
  }
}

export class Daemon implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private settings: ZwarmSettings;
  private announced = false;
  private readonly sessionUpdated = new vscode.EventEmitter<SessionUpdated>();
  private readonly stateChanged = new vscode.EventEmitter<boolean>();
  private readonly orchestratorUpdated = new vscode.EventEmitter<OrchestratorUpdated>();
  private readonly changesUpdated = new vscode.EventEmitter<ChangesUpdated>();
  private chatHandler: ChatHandler | undefined;
  private commandInterceptor: CommandInterceptor | undefined;

  /** Every `zwarm/sessionUpdated` push from the daemon. */
  readonly onSessionUpdated = this.sessionUpdated.event;
  /** Fires true when the daemon is up and initialized, false when it stops. */
  readonly onDidChangeRunning = this.stateChanged.event;
  /** Every `zwarm/orchestratorUpdated` push (orchestrator runs and the pilot). */
  readonly onOrchestratorUpdated = this.orchestratorUpdated.event;
  /** Every `zwarm/changesUpdated` push: a session's change set moved. */
  readonly onChangesUpdated = this.changesUpdated.event;

  constructor(settings: ZwarmSettings) {
    this.settings = settings;
  }

  get isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  async start(): Promise<void> {
    const command = resolveServerCommand(this.settings);
    logInfo(`starting ${command.command} ${command.args.join(" ")} (from ${command.source})`);
    const serverOptions: ServerOptions = { command: command.command, args: command.args };
    const clientOptions: LanguageClientOptions = {
      // Every document on disk or unsaved: agents can be asked about any file type.
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: outputChannel(),
      initializationOptions: daemonOptions(this.settings),
      // The daemon's hovers link to a session's trajectory and changes: those two client
      // commands (they only open documents) may run from its markdown, nothing else.
      markdown: { isTrusted: { enabledCommands: [Commands.openTrajectory, Commands.openChanges] } },
      middleware: {
        executeCommand: (command, args: unknown[], next) =>
          this.commandInterceptor?.(command, args) ?? next(command, args),
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    client.onDidChangeState((e) => this.setRunning(e.newState === State.Running));
    // Registered before start so no push sent right after `initialized` is missed.
    client.onNotification(Methods.sessionUpdated, (update: SessionUpdated) => this.sessionUpdated.fire(update));
    client.onNotification(Methods.orchestratorUpdated, (update: OrchestratorUpdated) =>
      this.orchestratorUpdated.fire(update),
    );
    client.onNotification(Methods.changesUpdated, (update: ChangesUpdated) => this.changesUpdated.fire(update));
    client.registerFeature(new ChatCapability());
    client.onRequest(Methods.chat, (params: ChatQuestion) =>
      this.chatHandler ? this.chatHandler(params) : { answer: null },
    );
    this.client = client;
    await client.start();
    this.setRunning(true);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop();
      } catch (error) {
        logError("stopping the daemon", error);
      }
    }
    this.setRunning(false);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startReporting();
  }

  /** Start, and tell the user (with a way to the log and settings) when it cannot. */
  async startReporting(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      const message = error instanceof ServerNotFound ? error.message : `could not start zwarm-ls: ${String(error)}`;
      logError(message);
      this.setRunning(false);
      void vscode.window.showErrorMessage(`zwarm: ${message}`, "Open Settings", "Show Log").then((choice) => {
        if (choice === "Open Settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "zwarm.");
        } else if (choice === "Show Log") {
          outputChannel().show();
        }
      });
    }
  }

  /** New settings: restart when the way to start changed, otherwise push them live. */
  async applySettings(settings: ZwarmSettings): Promise<void> {
    const restart = needsRestart(this.settings, settings);
    this.settings = settings;
    if (restart) {
      await this.restart();
    } else if (this.client && this.isRunning) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { zwarm: daemonOptions(settings) },
      });
    }
  }

  /** Who answers the orchestrator's and the pilot's questions (`zwarm/chat`). */
  setChatHandler(handler: ChatHandler): void {
    this.chatHandler = handler;
  }

  /**
   * Who runs server commands the client wants to handle itself: the daemon's Accept /
   * Reject lenses go through the review's checks and show its conflicts.
   */
  interceptCommands(interceptor: CommandInterceptor): void {
    this.commandInterceptor = interceptor;
  }

  async request<R>(method: string, params: object): Promise<R> {
    if (!this.client || !this.isRunning) {
      throw new DaemonNotRunning();
    }
    return this.client.sendRequest<R>(method, params);
  }

  /** A document range as the daemon knows it (the URI exactly as the client sent it). */
  anchorOf(document: vscode.TextDocument, range: vscode.Range): Anchor {
    if (!this.client || !this.isRunning) {
      throw new DaemonNotRunning();
    }
    const c2p = this.client.code2ProtocolConverter;
    return { uri: c2p.asUri(document.uri), range: c2p.asRange(range) };
  }

  dispose(): void {
    void this.stop();
    this.sessionUpdated.dispose();
    this.stateChanged.dispose();
    this.orchestratorUpdated.dispose();
    this.changesUpdated.dispose();
  }

  private setRunning(running: boolean): void {
    // The client reports Running itself and start() confirms it: announce once.
    if (running === this.announced) {
      return;
    }
    this.announced = running;
    void vscode.commands.executeCommand("setContext", ContextKeys.serverRunning, running);
    this.stateChanged.fire(running);
  }
}
