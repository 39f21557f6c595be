// The canvas, its viewport and the render loop: draws on demand (one frame per change), sized to the device pixel ratio.
import { canvasMeasure, Measure } from '../view/node-boxes';
import { bodyFont, drawScene, headerFont, RenderOptions, RenderStats } from '../view/renderer';
import { Scene } from '../view/scene';
import { readTheme, Theme } from '../view/theme';
import { Viewport } from '../view/viewport';
import { h } from '../view/dom';

export class CanvasView {
  readonly element = h('div', { class: 'canvas-host', tabindex: '0', role: 'application', 'aria-label': 'Model graph. Arrow keys move between nodes, F fits, Z zooms to the selection, / searches.' });
  readonly canvas = h('canvas');
  readonly viewport: Viewport;
  scene: Scene | null = null;
  theme: Theme = readTheme();
  options: RenderOptions = { selected: null, hover: null, hits: new Set(), currentHit: null, overlay: null };
  lastStats: RenderStats | undefined;
  /** Called after each frame is drawn. */
  onFrame: ((stats: RenderStats) => void) | undefined;
  private frame = 0;
  private readonly ctx: CanvasRenderingContext2D;

  constructor() {
    this.element.append(this.canvas);
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('This webview has no 2D canvas.');
    this.ctx = ctx;
    this.viewport = new Viewport(() => this.requestDraw());
    new ResizeObserver(() => this.resize()).observe(this.element);
  }

  measure(): Measure {
    return canvasMeasure(this.ctx, headerFont(this.theme), bodyFont(this.theme));
  }

  refreshTheme(): void {
    this.theme = readTheme();
    this.requestDraw();
  }

  resize(): void {
    const rect = this.element.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(rect.width * dpr));
    this.canvas.height = Math.max(1, Math.round(rect.height * dpr));
    this.canvas.style.width = `${rect.width}px`;
    this.canvas.style.height = `${rect.height}px`;
    this.viewport.resize(rect.width, rect.height);
  }

  setScene(scene: Scene | null): void {
    this.scene = scene;
    this.requestDraw();
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draws now (used for first paint and by tests). */
  draw(): RenderStats | undefined {
    const vp = this.viewport;
    const dpr = window.devicePixelRatio || 1;
    if (!this.scene) {
      this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      this.ctx.fillStyle = this.theme.background;
      this.ctx.fillRect(0, 0, vp.width, vp.height);
      return undefined;
    }
    const stats = drawScene(this.ctx, this.scene, { scale: vp.scale, x: vp.x, y: vp.y, width: vp.width, height: vp.height }, this.theme, this.options, dpr);
    this.lastStats = stats;
    this.onFrame?.(stats);
    return stats;
  }
}
