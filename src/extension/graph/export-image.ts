// Saves an SVG or PNG the webview rendered: asks where (next to the model by default), writes it, offers to open it.
import * as vscode from 'vscode';

export async function saveExportedImage(modelUri: vscode.Uri, format: 'svg' | 'png', data: string, suggestedName: string): Promise<string | undefined> {
  const safeName = suggestedName.replace(/[^\w.-]+/g, '_') || `graph.${format}`;
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(modelUri, '..', safeName),
    filters: format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
    saveLabel: `Export ${format.toUpperCase()}`,
  });
  if (!target) return undefined;
  const bytes = format === 'svg'
    ? new TextEncoder().encode(data)
    : Buffer.from(data.replace(/^data:image\/png;base64,/, ''), 'base64');
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(`Octet: graph exported to ${target.fsPath}`, 'Open').then((choice) => {
    if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
  });
  return target.fsPath;
}
