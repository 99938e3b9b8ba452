// A small helper to build DOM nodes: text always goes in as text (enterprise names are data, not
// markup), attributes as attributes.

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A table with a caption, column headers and rows of cells. */
export function table(
  caption: string,
  headers: string[],
  rows: Child[][],
  attributes: Attributes = {},
): HTMLTableElement {
  return h(
    'table',
    attributes,
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((header) => h('th', { scope: 'col' }, header)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'None'))
        : rows.map((cells) =>
            h(
              'tr',
              {},
              cells.map((cell) => h('td', {}, cell)),
            ),
          ),
    ),
  );
}

/** A notice in the page (information, or a problem the reader must know about). */
export function notice(text: string, kind: 'info' | 'warning' | 'error' = 'info'): HTMLElement {
  return h(
    'p',
    { class: `notice notice-${kind}`, role: kind === 'info' ? 'status' : 'alert' },
    text,
  );
}
