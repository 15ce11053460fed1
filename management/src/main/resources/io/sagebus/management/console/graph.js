// A job's operator graph (GET /jobs/{id}/graph) as SVG: operators in columns by their depth from the
// sources, edges between them (dashed for side outputs), each operator with its counters and a bar of
// its input queues' fill, and the operator where backpressure sits marked.

import { count, rate } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 220;
const H = 96;
const GAP_X = 70;
const GAP_Y = 24;
const PAD = 12;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** {@return each operator's column: 0 for the sources, else one more than the deepest input} */
function depths(operators, edges) {
  const inputs = operators.map(() => []);
  for (const e of edges) if (e.to < operators.length && e.from < operators.length) inputs[e.to].push(e.from);
  const depth = new Array(operators.length).fill(-1);
  const visit = (i, guard) => {
    if (depth[i] >= 0) return depth[i];
    if (guard > operators.length) return 0; // a cycle cannot happen; never loop on bad data
    depth[i] = 0;
    depth[i] = inputs[i].length ? 1 + Math.max(...inputs[i].map(j => visit(j, guard + 1))) : 0;
    return depth[i];
  };
  operators.forEach((_, i) => visit(i, 0));
  return depth;
}

/**
 * Draws a graph into a container (replacing what it had when the shape changed, else updating the numbers).
 * @param {Element} container
 * @param {object} graph the API's graph
 * @param {Array<number|null>} rates each operator's records out per second now
 */
export function drawGraph(container, graph, rates) {
  const shape = graph.operators.map(o => o.name).join('\u0000') + '|' + graph.edges.map(e => e.from + '>' + e.to).join(',');
  let state = container.graphState;
  if (!state || state.shape !== shape) {
    container.replaceChildren();
    state = layout(container, graph);
    state.shape = shape;
    container.graphState = state;
  }
  graph.operators.forEach((o, i) => {
    const n = state.nodes[i];
    n.io.textContent = 'in ' + count(o.recordsIn) + ' · out ' + count(o.recordsOut);
    n.rate.textContent = 'rate ' + rate(rates[i]) + ' · errors ' + count(o.errors);
    n.errors.classList.toggle('bad', o.errors > 0);
    if (o.queueCapacity > 0) {
      n.fill.setAttribute('width', String(Math.round((W - 20) * Math.min(1, o.queueFill))));
      n.fill.classList.toggle('full', o.queueFill >= 0.8);
      n.queue.textContent = 'queue ' + count(o.queued) + ' / ' + count(o.queueCapacity);
    } else {
      n.fill.setAttribute('width', '0');
      n.queue.textContent = o.kind === 'batch' || o.kind === 'source' ? 'source: no input queue' : 'no input queue';
    }
    n.group.classList.toggle('bottleneck', graph.bottleneck === i);
  });
}

function layout(container, graph) {
  const depth = depths(graph.operators, graph.edges);
  const columns = [];
  graph.operators.forEach((o, i) => (columns[depth[i]] ||= []).push(i));
  const pos = [];
  columns.forEach((col, c) => col.forEach((i, r) => {
    pos[i] = { x: PAD + c * (W + GAP_X), y: PAD + r * (H + GAP_Y) };
  }));
  const width = PAD * 2 + columns.length * W + Math.max(0, columns.length - 1) * GAP_X;
  const rows = Math.max(1, ...columns.map(c => c.length));
  const height = PAD * 2 + rows * H + (rows - 1) * GAP_Y;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'graph', role: 'img',
    'aria-label': 'Operator graph of job ' + graph.id });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8,
    orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  defs.append(marker);
  root.append(defs);
  for (const e of graph.edges) {
    const a = pos[e.from];
    const b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x;
    const y2 = b.y + H / 2;
    const mid = (x1 + x2) / 2;
    root.append(svg('path', { d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`,
      class: e.side ? 'edge side' : 'edge', 'marker-end': 'url(#arrow)' }));
  }
  const nodes = graph.operators.map((o, i) => {
    const { x, y } = pos[i];
    const group = svg('g', { class: 'op', transform: `translate(${x} ${y})`, 'data-operator': o.name });
    group.append(svg('rect', { width: W, height: H, rx: 6, class: 'box' }));
    group.append(svg('title', {}, o.name));
    group.append(svg('text', { x: 10, y: 18, class: 'name' }, o.name.length > 30 ? o.name.slice(0, 29) + '…' : o.name));
    group.append(svg('text', { x: 10, y: 34, class: 'kind' }, (o.kind || 'operator') + ' × ' + o.parallelism));
    const io = svg('text', { x: 10, y: 50 });
    const rateText = svg('text', { x: 10, y: 65 });
    group.append(io, rateText);
    group.append(svg('rect', { x: 10, y: 74, width: W - 20, height: 12, rx: 2, class: 'queue-bg' }));
    const fill = svg('rect', { x: 10, y: 74, width: 0, height: 12, rx: 2, class: 'queue-fill' });
    const queue = svg('text', { x: 14, y: 84, class: 'queue-text' });
    group.append(fill, queue);
    root.append(group);
    return { group, io, rate: rateText, errors: rateText, fill, queue };
  });
  container.append(root);
  return { nodes };
}
