// Per-layer SQNR bar chart (Chart.js, bundled locally). Bars under the warning threshold use the theme's red;
// clicking a bar reveals that layer in the graph. Colors follow the VS Code theme, also when it changes.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { LayerError } from '../../src/common/report';
import { shortNodeName } from '../../src/report/chart-data';
import { formatDb } from '../../src/report/format';
import { applyAxisTheme, followTheme } from './chart-theme';
import { themeColor } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Below this output SQNR a layer is marked: roughly where INT8 error starts to cost accuracy. */
export const LOW_SQNR_DB = 20;

export class LayerChart {
  private chart: Chart<'bar', number[], string> | null = null;
  private layers: LayerError[] = [];

  constructor(private readonly canvas: HTMLCanvasElement, private readonly onLayerClick: (node: string) => void) {
    followTheme(() => this.applyTheme());
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
    chart.data.datasets[0].backgroundColor = this.layers.map((l) => (l.sqnrDb < LOW_SQNR_DB ? bad : good));
    applyAxisTheme(chart);
    chart.update('none');
  }
}
