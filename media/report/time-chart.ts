// The "where the time goes" chart of the report panel: the nodes taking the most time, FP32 beside INT8 (with its
// Q/DQ overhead), the same chart as the HTML report's (src/report/chart-data.ts) in the theme's colours. Clicking a
// bar reveals that node in the graph.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { TimeChartRow, timeChartConfig } from '../../src/report/chart-data';
import { applyAxisTheme, followTheme } from './chart-theme';
import { themeColor } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export class TimeChart {
  private chart: Chart<'bar', number[], string> | null = null;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly onNodeClick: (node: string) => void) {
    followTheme(() => this.applyTheme());
  }

  show(rows: TimeChartRow[]): void {
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, timeChartConfig(rows, this.colors(), this.onNodeClick));
    this.applyTheme();
  }

  private colors() {
    return {
      fp32: themeColor('--vscode-charts-blue', '#3794ff'),
      int8: themeColor('--vscode-charts-orange', '#d18616'),
      overhead: themeColor('--vscode-charts-yellow', '#cca700'),
    };
  }

  private applyTheme(): void {
    const chart = this.chart;
    if (!chart) return;
    const colors = this.colors();
    [colors.fp32, colors.int8, colors.overhead].forEach((color, i) => { if (chart.data.datasets[i]) chart.data.datasets[i].backgroundColor = color; });
    applyAxisTheme(chart);
    chart.update('none');
  }
}
