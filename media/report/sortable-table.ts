// A table the user sorts by clicking a header (again: reverse), whose rows reveal their node in the graph viewer on
// click or Enter. The sort is handed to `onSort` so the page keeps it in its webview state across hide/show.
import { Child, el } from './dom';

export interface Column<Row, Key extends string> {
  key: Key;
  title: string;
  numeric: boolean;
  tip?: string;
  /** What the column sorts by (NaN and missing values sort as the lowest). */
  value(row: Row, index: number): number | string;
  cell(row: Row, index: number): Child;
  /** Extra class of the column's cells ('node' for node names). */
  className?: string;
  /** The first click sorts largest first (times); otherwise smallest first. */
  firstDescending?: boolean;
}

export interface Sort<Key extends string> { column: Key; descending: boolean }

export interface TableOptions<Row, Key extends string> {
  id: string;
  columns: Column<Row, Key>[];
  /** Node name a row reveals, and the row's class (e.g. 'low'). */
  node(row: Row): string;
  rowClass?(row: Row): string | undefined;
  onSort(sort: Sort<Key>): void;
  onRowClick(node: string): void;
}

export class SortableTable<Row, Key extends string> {
  readonly element: HTMLTableElement;
  private rows: Row[] = [];

  constructor(private readonly options: TableOptions<Row, Key>, private sort: Sort<Key>) {
    this.element = el('table', { id: options.id, class: 'data sortable' });
  }

  show(rows: Row[]): void {
    this.rows = rows;
    this.render();
  }

  private sortKey(row: Row, index: number, column: Column<Row, Key>): number | string {
    const v = column.value(row, index);
    return typeof v === 'number' && Number.isNaN(v) ? -Infinity : v;
  }

  private render(): void {
    const { columns, node, rowClass, onRowClick } = this.options;
    const { column, descending } = this.sort;
    const sortColumn = columns.find((c) => c.key === column) ?? columns[0];
    const head = el('tr', {}, ...columns.map((c) => {
      const active = c.key === sortColumn.key;
      const th = el('th', {
        class: `${c.numeric ? 'num' : ''} ${active ? 'sorted' : ''}`.trim() || undefined,
        title: c.tip, tabindex: 0, 'aria-sort': active ? (descending ? 'descending' : 'ascending') : 'none',
        data: { column: c.key },
      }, c.title, active ? (descending ? ' ▼' : ' ▲') : '');
      const activate = () => {
        this.sort = { column: c.key, descending: active ? !descending : Boolean(c.firstDescending) };
        this.options.onSort(this.sort);
        this.render();
      };
      th.addEventListener('click', activate);
      th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); } });
      return th;
    }));
    const indexed = this.rows.map((row, index) => ({ row, index }));
    indexed.sort((a, b) => {
      const x = this.sortKey(a.row, a.index, sortColumn);
      const y = this.sortKey(b.row, b.index, sortColumn);
      const order = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
      return (descending ? -order : order) || a.index - b.index;
    });
    const body = indexed.map(({ row, index }) => {
      const name = node(row);
      const tr = el('tr', { tabindex: 0, class: rowClass?.(row), title: `Show ${name} in the graph`, data: { node: name } },
        ...columns.map((c) => el('td', { class: [c.numeric ? 'num' : '', c.className ?? ''].join(' ').trim() || undefined }, c.cell(row, index))));
      tr.addEventListener('click', () => onRowClick(name));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') onRowClick(name); });
      return tr;
    });
    this.element.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
  }
}
