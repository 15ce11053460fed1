// Small DOM helpers: elements are built with textContent, never from HTML text, so data from the API
// (names, messages, results) can never become markup.

/**
 * Creates an element.
 * @param {string} tag the tag, optionally with classes: 'td.num'
 * @param {object} [attrs] attributes; 'text' sets textContent, 'on' an object of event listeners
 * @param {...(Node|string)} children children; strings become text nodes
 */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** Sets an element's text when it changed (no layout work otherwise). */
export function setText(el, text) {
  const t = text === null || text === undefined ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** A count: 12,345; '-' for none. */
export function count(n) {
  return n === null || n === undefined || Number.isNaN(n) ? '-' : integer.format(n);
}

/** A rate per second: 1,234/s, 12.5/s; '-' for none. */
export function rate(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return '-';
  return (Math.abs(r) >= 100 ? integer.format(r) : decimal.format(r)) + '/s';
}

/** A duration in milliseconds: 850 ms, 12.3 s, 4 min 5 s, 2 h 3 min; '-' for none. */
export function millis(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return integer.format(ms) + ' ms';
  if (ms < 60_000) return decimal.format(ms / 1000) + ' s';
  const s = Math.round(ms / 1000);
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

/** A duration in microseconds: 7 µs, 1.2 ms, 3.4 s; '-' for none. */
export function micros(us) {
  if (us === null || us === undefined || !Number.isFinite(us)) return '-';
  if (us < 1000) return integer.format(us) + ' µs';
  if (us < 1_000_000) return decimal.format(us / 1000) + ' ms';
  return decimal.format(us / 1_000_000) + ' s';
}

/** A size in bytes as MiB: 25 MiB; '-' for none. */
export function mib(bytes) {
  return bytes === null || bytes === undefined ? '-' : integer.format(bytes / 1048576) + ' MiB';
}

/** A bar showing a share from 0 to 1, with a label; returns {el, set(share, label)}. */
export function bar(cls = '') {
  const fill = h('span.fill');
  const label = h('span.label');
  const el = h('span.bar' + (cls ? '.' + cls : ''), {}, fill, label);
  return {
    el,
    set(share, text) {
      const s = Number.isFinite(share) ? Math.max(0, Math.min(1, share)) : 0;
      fill.style.width = (s * 100).toFixed(1) + '%';
      el.classList.toggle('full', s >= 0.8);
      setText(label, text);
    },
  };
}

/**
 * A table whose rows are kept by key across updates, so that buttons and links in it stay the same
 * elements while the numbers change.
 * @param {Array<{title: string, cls?: string, create?: (td, item) => any, update: (td, item, state) => void}>} columns
 * @param {(item) => string} key
 */
export function keyedTable(columns, key, attrs = {}) {
  const body = h('tbody');
  const table = h('table', attrs,
    h('thead', {}, h('tr', {}, ...columns.map(c => h('th' + (c.cls ? '.' + c.cls : ''), { text: c.title })))),
    body);
  const rows = new Map();
  return {
    el: table,
    update(items) {
      const seen = new Set();
      let previous = null;
      for (const item of items) {
        const k = key(item);
        seen.add(k);
        let row = rows.get(k);
        if (!row) {
          const tr = h('tr', { 'data-key': k });
          const cells = columns.map(c => {
            const td = h('td' + (c.cls ? '.' + c.cls : ''));
            tr.append(td);
            return { td, state: c.create ? c.create(td, item) : undefined };
          });
          row = { tr, cells };
          rows.set(k, row);
        }
        columns.forEach((c, i) => c.update(row.cells[i].td, item, row.cells[i].state));
        const want = previous ? previous.nextSibling : body.firstChild;
        if (want !== row.tr) body.insertBefore(row.tr, want);
        previous = row.tr;
      }
      for (const [k, row] of rows) {
        if (!seen.has(k)) {
          row.tr.remove();
          rows.delete(k);
        }
      }
    },
  };
}
