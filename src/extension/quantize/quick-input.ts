// Small wrappers over VS Code's QuickPick/InputBox for a numbered series of questions: a pre-selected item,
// Escape returns undefined, and the picker stays open when focus moves (e.g. to a notification).
import * as vscode from 'vscode';

export interface Choice<T> extends vscode.QuickPickItem {
  value: T;
}

export interface PickOptions<T> {
  title: string;
  placeholder: string;
  items: Choice<T>[];
  /** The item selected when the picker opens. */
  active?: Choice<T>;
}

export function pickOne<T>(options: PickOptions<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    const quickPick = vscode.window.createQuickPick<Choice<T>>();
    quickPick.title = options.title;
    quickPick.placeholder = options.placeholder;
    quickPick.items = options.items;
    quickPick.ignoreFocusOut = true;
    quickPick.matchOnDescription = true;
    if (options.active) quickPick.activeItems = [options.active];
    let settled = false;
    quickPick.onDidAccept(() => {
      const chosen = quickPick.selectedItems[0] ?? quickPick.activeItems[0];
      if (!chosen) return;
      settled = true;
      quickPick.hide();
      resolve(chosen.value);
    });
    quickPick.onDidHide(() => {
      quickPick.dispose();
      if (!settled) resolve(undefined);
    });
    quickPick.show();
  });
}

export interface AskOptions {
  title: string;
  prompt: string;
  value: string;
  placeHolder?: string;
  /** Returns an error sentence, or null when the text is acceptable. */
  validate(text: string): string | null;
}

export async function askText(options: AskOptions): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: options.title,
    prompt: options.prompt,
    value: options.value,
    placeHolder: options.placeHolder,
    ignoreFocusOut: true,
    validateInput: (text) => options.validate(text) ?? undefined,
  });
}
