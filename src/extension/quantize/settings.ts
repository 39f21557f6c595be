// The `octet.*` settings (declared in package.json `contributes.configuration`) as one typed object: the defaults
// of every quantization run. Which settings exist, their defaults and ranges come from the engine's options table
// (src/engine/options.ts); test/engine/options.test.ts keeps package.json in step with it.
import * as vscode from 'vscode';
import { readSettingValues, SettingValues } from '../../engine/options';

/** Engine options as the settings give them; `maxDrop: null` = no accuracy gate (its prompt is not shown). */
export type QuantizeDefaults = SettingValues;

export function readQuantizeDefaults(scope?: vscode.Uri): QuantizeDefaults {
  const config = vscode.workspace.getConfiguration('octet', scope);
  return readSettingValues((key) => config.get(key));
}
