// Canvas colours from the VS Code theme (CSS variables on <body>), re-read when the theme changes.
import type { NodeCategory } from '../../../src/graphmodel/types';

export interface Theme {
  kind: 'light' | 'dark' | 'high-contrast';
  background: string;
  foreground: string;
  muted: string;
  nodeFill: string;
  nodeBorder: string;
  edge: string;
  edgeQuantized: string;
  selection: string;
  searchHit: string;
  searchCurrent: string;
  labelBackground: string;
  fontFamily: string;
  monoFamily: string;
  category: Record<NodeCategory, string>;
}

const DARK: Record<NodeCategory, string> = {
  conv: '#3b6fb6', linear: '#2f7f9e', activation: '#a8463f', pool: '#3c8a4a', norm: '#7a4fa8', shape: '#7a6a4a',
  quantize: '#0f8a82', math: '#5a6470', reduce: '#8a6d1f', constant: '#555b63', control: '#a65f1a', io: '#44505c', other: '#5c5c5c',
};
const LIGHT: Record<NodeCategory, string> = {
  conv: '#4d84cf', linear: '#3c97b8', activation: '#c25a52', pool: '#4fa35e', norm: '#9066c2', shape: '#9a8760',
  quantize: '#17a59b', math: '#76808c', reduce: '#b08b2a', constant: '#7d838a', control: '#c7782c', io: '#66727e', other: '#7a7a7a',
};

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): Theme {
  const body = document.body;
  const kind: Theme['kind'] = body.classList.contains('vscode-high-contrast') || body.classList.contains('vscode-high-contrast-light')
    ? 'high-contrast' : body.classList.contains('vscode-light') ? 'light' : 'dark';
  const style = getComputedStyle(body);
  const dark = kind !== 'light';
  const background = cssVar(style, '--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff');
  const foreground = cssVar(style, '--vscode-editor-foreground', dark ? '#d4d4d4' : '#1f1f1f');
  return {
    kind,
    background,
    foreground,
    muted: cssVar(style, '--vscode-descriptionForeground', dark ? '#9d9d9d' : '#6b6b6b'),
    nodeFill: cssVar(style, '--vscode-editorWidget-background', dark ? '#252526' : '#f3f3f3'),
    nodeBorder: cssVar(style, '--vscode-editorWidget-border', dark ? '#454545' : '#c8c8c8'),
    edge: dark ? 'rgba(200,200,200,0.55)' : 'rgba(60,60,60,0.55)',
    edgeQuantized: cssVar(style, '--vscode-charts-green', dark ? '#3fb950' : '#2e8b3e'),
    selection: cssVar(style, '--vscode-focusBorder', '#007fd4'),
    searchHit: cssVar(style, '--vscode-editor-findMatchHighlightBackground', 'rgba(234,92,0,0.33)'),
    searchCurrent: cssVar(style, '--vscode-editorOverviewRuler-findMatchForeground', '#d18616'),
    labelBackground: background,
    fontFamily: cssVar(style, '--vscode-font-family', 'system-ui, sans-serif'),
    monoFamily: cssVar(style, '--vscode-editor-font-family', 'monospace'),
    category: dark ? DARK : LIGHT,
  };
}

/** Calls `onChange` when VS Code switches theme (it rewrites <body>'s class and style). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
}
