// The CSS variables VS Code defines in every webview (Dark Modern / Light Modern values), so harness screenshots
// look like the real editor.
const COMMON = `
  --vscode-font-family: system-ui, -apple-system, "Segoe UI", "Ubuntu", "Droid Sans", sans-serif;
  --vscode-font-size: 13px;
  --vscode-editor-font-family: "Droid Sans Mono", "monospace", monospace;
`;

export const THEME_CSS: Record<'dark' | 'light', string> = {
  dark: `:root {${COMMON}
  --vscode-foreground: #cccccc; --vscode-editor-background: #1f1f1f; --vscode-editor-foreground: #cccccc;
  --vscode-descriptionForeground: #9d9d9d; --vscode-errorForeground: #f85149;
  --vscode-editorWidget-background: #202020; --vscode-editorWidget-border: #454545; --vscode-panel-border: #2b2b2b;
  --vscode-sideBar-background: #181818; --vscode-focusBorder: #0078d4; --vscode-textLink-foreground: #4daafc;
  --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff; --vscode-button-border: #ffffff12;
  --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc; --vscode-button-secondaryHoverBackground: #3c3c3c;
  --vscode-input-background: #313131; --vscode-input-foreground: #cccccc; --vscode-input-border: #3c3c3c;
  --vscode-badge-background: #616161; --vscode-badge-foreground: #f8f8f8; --vscode-charts-blue: #3794ff; --vscode-charts-green: #89d185;
  --vscode-editor-findMatchHighlightBackground: rgba(234, 92, 0, 0.33); --vscode-editorOverviewRuler-findMatchForeground: #d18616;
  --vscode-textCodeBlock-background: #2b2b2b;
}`,
  light: `:root {${COMMON}
  --vscode-foreground: #3b3b3b; --vscode-editor-background: #ffffff; --vscode-editor-foreground: #3b3b3b;
  --vscode-descriptionForeground: #717171; --vscode-errorForeground: #f85149;
  --vscode-editorWidget-background: #f8f8f8; --vscode-editorWidget-border: #c8c8c8; --vscode-panel-border: #e5e5e5;
  --vscode-sideBar-background: #f8f8f8; --vscode-focusBorder: #005fb8; --vscode-textLink-foreground: #005fb8;
  --vscode-button-background: #005fb8; --vscode-button-foreground: #ffffff; --vscode-button-border: #0000001a;
  --vscode-button-secondaryBackground: #e5e5e5; --vscode-button-secondaryForeground: #3b3b3b; --vscode-button-secondaryHoverBackground: #cccccc;
  --vscode-input-background: #ffffff; --vscode-input-foreground: #3b3b3b; --vscode-input-border: #cecece;
  --vscode-badge-background: #cccccc; --vscode-badge-foreground: #3b3b3b; --vscode-charts-blue: #1a85ff; --vscode-charts-green: #388a34;
  --vscode-editor-findMatchHighlightBackground: rgba(234, 92, 0, 0.33); --vscode-editorOverviewRuler-findMatchForeground: #d18616;
  --vscode-textCodeBlock-background: #f2f2f2;
}`,
};
