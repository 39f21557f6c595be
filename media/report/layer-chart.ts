// Per-layer SQNR bar chart (Chart.js, bundled locally). Bars under the warning threshold use the theme's red;
// clicking a bar reveals that layer in the graph. Colors follow the VS Code theme, also when it changes.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { LayerError } from '../../src/common/report';
import { formatDb } from '../../src/report/format';
import { themeColor } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Below this output SQNR a layer is marked: roughly where INT8 error starts to cost accuracy. */
export const LOW_SQNR_DB = 20;

/** The last two parts of a path-like node name ("/layer3/layer3.2/conv1/Conv" → "conv1/Conv"): axis labels stay short. */
export function shortNodeName(node: string): string {
  const parts = node.split('/').filter(Boolean);
  return parts.length > 2 ? parts.slice(-2).join('/') : node;
}

export class LayerChart {
  private chart: Chart<'bar', number[], string> | null = null;
  private layers: LayerError[] = [];

  constructor(private readonly canvas: HTMLCanvasElement, private readonly onLayerClick: (node: string) => void) {
    new MutationObserver(() => this.applyTheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  show(layers: LayerError[]): void {
    this.layers = layers;
    const finite = layers.map((l) => l.sqnrDb).filter((v) => Number.isFinite(v));
    const ceiling = finite.length > 0 ? Math.max(...finite) + 10 : 60;
    const values = layers.map((l) => (Number.isFinite(l.sqnrDb) ? l.sqnrDb : l.sqnrDb > 0 ? ceiling : 0));
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, {
      type: 'bar',
      data: { labels: layers.map((l) => l.node), datasets: [{ label: 'SQNR (dB)', data: values, borderWidth: 0 }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        onClick: (_event, elements) => {
          const index = elements[0]?.index;
          if (index !== undefined && this.layers[index]) this.onLayerClick(this.layers[index].node);
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => items.map((i) => `${this.layers[i.dataIndex]?.node ?? ''} (${this.layers[i.dataIndex]?.opType ?? ''})`),
              label: (item) => `SQNR ${formatDb(this.layers[item.dataIndex]?.sqnrDb)}`,
            },
          },
        },
        scales: {
          x: {
            ticks: { display: layers.length <= 60, autoSkip: true, maxRotation: 60, font: { size: 10 },
              callback: (_value, index) => shortNodeName(this.layers[index]?.node ?? '') },
            grid: { display: false },
          },
          y: { beginAtZero: true, title: { display: true, text: 'SQNR (dB)' } },
        },
      },
    });
    this.applyTheme();
  }

  private applyTheme(): void {
    const chart = this.chart;
    if (!chart) return;
    const good = themeColor('--vscode-charts-blue', '#3794ff');
    const bad = themeColor('--vscode-charts-red', '#f14c4c');
    const text = themeColor('--vscode-descriptionForeground', '#999999');
    const grid = themeColor('--vscode-panel-border', 'rgba(128,128,128,0.35)');
    Chart.defaults.font.family = themeColor('--vscode-font-family', 'sans-serif');
    chart.data.datasets[0].backgroundColor = this.layers.map((l) => (l.sqnrDb < LOW_SQNR_DB ? bad : good));
    for (const axis of [chart.options.scales?.x, chart.options.scales?.y]) {
      if (!axis) continue;
      if (axis.ticks) axis.ticks.color = text;
      if (axis.grid) axis.grid.color = grid;
      const title = (axis as { title?: { color?: string } }).title;
      if (title) title.color = text;
    }
    chart.update('none');
  }
}
