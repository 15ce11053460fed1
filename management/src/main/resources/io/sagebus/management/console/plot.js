// Time plots with uPlot (served from its WebJar in the jar): the last minutes of a series, redrawn on each poll.

import uPlot from '/console/vendor/uplot/dist/uPlot.esm.js';
import { h } from './dom.js';
import { WINDOW_SECONDS } from './store.js';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea'];

/**
 * A plot of some series of a Series (store.js) against time.
 * @param {string} title shown above it
 * @param {Array<{key: string, label: string}>} lines which values of the Series, and their legend
 * @param {(v: number) => string} format how the y values read
 */
export function timePlot(title, lines, format, attrs = {}) {
  const box = h('div.plot', attrs);
  const el = h('figure.plot-figure', {}, h('figcaption', { text: title }), box);
  let plot = null;
  let series = null;

  function data() {
    const t = series ? series.t : [];
    return [t, ...lines.map(l => (series ? series.values[l.key] : []))];
  }

  function create() {
    const width = Math.max(300, box.clientWidth || 600);
    plot = new uPlot({
      width,
      height: 180,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { values: (u, ticks) => ticks.map(format), size: 70 }],
      series: [{}, ...lines.map((l, i) => ({
        label: l.label,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: false,
        value: (u, v) => (v === null || v === undefined ? '-' : format(v)),
      }))],
      legend: { live: true },
    }, data(), box);
  }

  const resize = new ResizeObserver(() => {
    if (plot && box.clientWidth > 0) plot.setSize({ width: box.clientWidth, height: 180 });
  });
  resize.observe(box);

  return {
    el,
    /** Shows a Series (or null: no data yet), over the last minutes up to now. */
    update(s) {
      series = s;
      box.dataset.points = String(s ? s.t.length : 0);
      if (!el.isConnected) return;
      if (!plot) create();
      plot.setData(data(), false);
      // The last five minutes; less while the page has watched for less (at least 30 s).
      const now = Date.now() / 1000;
      const first = series && series.t.length ? series.t[0] : now;
      plot.setScale('x', { min: Math.max(now - WINDOW_SECONDS, Math.min(first, now - 30)), max: now });
    },
    destroy() {
      resize.disconnect();
      if (plot) plot.destroy();
    },
  };
}
