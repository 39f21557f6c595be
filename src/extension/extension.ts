// Extension entry point: wires each feature's registration. Only src/extension imports `vscode`.
import * as vscode from 'vscode';
import { registerQuantizeFeature } from './quantize/register-quantize';
import { registerGraphViewer } from './graph/register-graph-viewer';

export function activate(context: vscode.ExtensionContext): void {
  registerQuantizeFeature(context);
  registerGraphViewer(context);
}

export function deactivate(): void {
  // Child processes are owned by the features and killed through their disposables.
}
