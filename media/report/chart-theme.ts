// Chart.js charts in the report panel follow the VS Code theme: axis, grid and legend colours from its variables,
// re-applied when the theme changes (VS Code rewrites <body>'s class).
import { Chart } from 'chart.js';
import { themeColor } from './dom';

export function applyAxisTheme(chart: Chart): void {
  const text = themeColor('--vscode-descriptionForeground', '#999999');
  const grid = themeColor('--vscode-panel-border', 'rgba(128,128,128,0.35)');
  Chart.defaults.font.family = themeColor('--vscode-font-family', 'sans-serif');
  for (const axis of Object.values(chart.options.scales ?? {})) {
    if (!axis) continue;
    if (axis.ticks) axis.ticks.color = text;
    if (axis.grid) axis.grid.color = grid;
    const title = (axis as { title?: { color?: string } }).title;
    if (title) title.color = text;
  }
  const legend = chart.options.plugins?.legend;
  if (legend?.labels) legend.labels.color = text;
}

/** Calls `apply` now and whenever the theme changes. */
export function followTheme(apply: () => void): void {
  new MutationObserver(apply).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
