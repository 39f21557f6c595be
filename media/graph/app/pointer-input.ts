// Mouse, wheel and touch-pad input on the canvas: drag pans, wheel zooms at the cursor (Shift+wheel pans),
// click selects, double-click opens a subgraph.
import { CanvasView } from './canvas-view';

export interface PointerActions {
  select(node: number | null): void;
  open(node: number): void;
  hover(node: number | null): void;
}

export function attachPointerInput(view: CanvasView, actions: PointerActions): void {
  const el = view.canvas;
  let drag: { x: number; y: number; moved: boolean; id: number } | undefined;
  const local = (e: MouseEvent): [number, number] => {
    const r = el.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  const pick = (e: MouseEvent): number | null => {
    if (!view.scene) return null;
    const [sx, sy] = local(e);
    const [wx, wy] = view.viewport.toWorld(sx, sy);
    return view.scene.pick(wx, wy) ?? null;
  };
  el.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    view.element.focus({ preventScroll: true });
    drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
    el.setPointerCapture(e.pointerId);
  });
  el.addEventListener('pointermove', (e) => {
    if (drag && drag.id === e.pointerId) {
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 3) return;
      drag.moved = true;
      el.classList.add('panning');
      view.viewport.panBy(dx, dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
      return;
    }
    const hit = pick(e);
    if (hit !== view.options.hover) actions.hover(hit);
  });
  const end = (e: PointerEvent) => {
    if (!drag || drag.id !== e.pointerId) return;
    const wasClick = !drag.moved;
    drag = undefined;
    el.classList.remove('panning');
    if (wasClick && e.type === 'pointerup') actions.select(pick(e));
  };
  el.addEventListener('pointerup', end);
  el.addEventListener('pointercancel', end);
  el.addEventListener('pointerleave', () => { if (!drag) actions.hover(null); });
  el.addEventListener('dblclick', (e) => {
    const hit = pick(e);
    if (hit !== null) actions.open(hit);
  });
  el.addEventListener('wheel', (e) => {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    if (e.shiftKey) {
      view.viewport.panBy(-(e.deltaY || e.deltaX) * unit, 0);
      return;
    }
    const [sx, sy] = local(e);
    const factor = Math.exp(-e.deltaY * unit * (e.ctrlKey ? 0.01 : 0.0015));
    view.viewport.zoomAt(factor, sx, sy);
  }, { passive: false });
}
