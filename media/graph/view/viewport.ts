// Pan and zoom: screen = world * scale + offset. Animated moves for fit / zoom-to-selection.
import { Bounds } from './scene';
import type { ViewportState } from '../../../src/protocol/graph';

export type { ViewportState };

export const MIN_SCALE = 0.0002;
export const MAX_SCALE = 4;

export class Viewport {
  scale = 1;
  x = 0;
  y = 0;
  width = 1;
  height = 1;
  private animation = 0;

  constructor(private readonly onChange: () => void) {}

  get state(): ViewportState { return { scale: this.scale, x: this.x, y: this.y }; }

  set(state: ViewportState): void {
    this.scale = clampScale(state.scale);
    this.x = state.x;
    this.y = state.y;
    this.onChange();
  }

  resize(width: number, height: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.onChange();
  }

  worldBounds(margin = 0): Bounds {
    return {
      x0: (-this.x - margin) / this.scale, y0: (-this.y - margin) / this.scale,
      x1: (this.width - this.x + margin) / this.scale, y1: (this.height - this.y + margin) / this.scale,
    };
  }

  toWorld(sx: number, sy: number): [number, number] {
    return [(sx - this.x) / this.scale, (sy - this.y) / this.scale];
  }

  panBy(dx: number, dy: number): void {
    this.cancelAnimation();
    this.x += dx;
    this.y += dy;
    this.onChange();
  }

  zoomAt(factor: number, sx: number, sy: number): void {
    this.cancelAnimation();
    const next = clampScale(this.scale * factor);
    const [wx, wy] = this.toWorld(sx, sy);
    this.scale = next;
    this.x = sx - wx * next;
    this.y = sy - wy * next;
    this.onChange();
  }

  /** The state that shows `b` whole, centred, at most at `maxScale`. */
  fitState(b: Bounds, padding = 24, maxScale = 1.5): ViewportState {
    const w = Math.max(1, b.x1 - b.x0);
    const hgt = Math.max(1, b.y1 - b.y0);
    const scale = clampScale(Math.min((this.width - 2 * padding) / w, (this.height - 2 * padding) / hgt, maxScale));
    return { scale, x: this.width / 2 - ((b.x0 + b.x1) / 2) * scale, y: this.height / 2 - ((b.y0 + b.y1) / 2) * scale };
  }

  /** Graph too tall to read when fitted: start at its top, at a readable zoom, like a document. */
  topState(b: Bounds, scale: number): ViewportState {
    const s = clampScale(Math.min(scale, (this.width - 48) / Math.max(1, b.x1 - b.x0)));
    const fitsWidth = (b.x1 - b.x0) * s <= this.width - 48;
    return { scale: s, x: fitsWidth ? this.width / 2 - ((b.x0 + b.x1) / 2) * s : 24 - b.x0 * s, y: 24 - b.y0 * s };
  }

  centerState(wx: number, wy: number, scale = this.scale): ViewportState {
    const s = clampScale(scale);
    return { scale: s, x: this.width / 2 - wx * s, y: this.height / 2 - wy * s };
  }

  animateTo(target: ViewportState, ms = 180): void {
    this.cancelAnimation();
    if (ms <= 0 || typeof requestAnimationFrame !== 'function') { this.set(target); return; }
    const from = this.state;
    const start = performance.now();
    const step = (now: number) => {
      const t = Math.min(1, (now - start) / ms);
      const e = t * (2 - t);
      // Interpolate zoom geometrically so the motion feels even.
      const scale = from.scale * Math.pow(target.scale / from.scale, e);
      const cx = this.width / 2;
      const cy = this.height / 2;
      const fromWorld = [(cx - from.x) / from.scale, (cy - from.y) / from.scale];
      const toWorld = [(cx - target.x) / target.scale, (cy - target.y) / target.scale];
      const wx = fromWorld[0] + (toWorld[0] - fromWorld[0]) * e;
      const wy = fromWorld[1] + (toWorld[1] - fromWorld[1]) * e;
      this.scale = scale;
      this.x = cx - wx * scale;
      this.y = cy - wy * scale;
      this.onChange();
      this.animation = t < 1 ? requestAnimationFrame(step) : 0;
    };
    this.animation = requestAnimationFrame(step);
  }

  private cancelAnimation(): void {
    if (this.animation) cancelAnimationFrame(this.animation);
    this.animation = 0;
  }
}

function clampScale(s: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, Number.isFinite(s) ? s : 1));
}
