// Tiny DOM builder for the report webview: elements from data, never from HTML strings (report text is untrusted).

export type Child = Node | string | number | null | undefined | false;

export interface Attributes {
  id?: string;
  class?: string;
  title?: string;
  /** data-* attributes, without the prefix. */
  data?: Record<string, string | number>;
  [attribute: string]: string | number | boolean | Record<string, string | number> | undefined;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'data' && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) element.dataset[key] = String(v);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Reads a theme color from VS Code's CSS variables, with a fallback for when it is not defined. */
export function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value || fallback;
}
