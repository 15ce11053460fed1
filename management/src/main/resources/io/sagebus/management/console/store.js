// What the console remembers between polls, for the rates and the plots: per job and per service, a
// sample a second over the last minutes, from the time the page was opened.

import { percentile, minus } from './histogram.js';

/** Samples kept per series: ten minutes at one a second. */
export const MAX_POINTS = 600;
/** What the plots show: the last five minutes. */
export const WINDOW_SECONDS = 300;
/** What "recent" latency means: the calls of the last ten seconds. */
export const RECENT_SECONDS = 10;

class Series {
  constructor(names) {
    this.t = [];
    this.values = Object.fromEntries(names.map(n => [n, []]));
  }

  push(t, sample) {
    this.t.push(t);
    for (const [n, list] of Object.entries(this.values)) list.push(sample[n] ?? null);
    if (this.t.length > MAX_POINTS) {
      this.t.shift();
      for (const list of Object.values(this.values)) list.shift();
    }
  }

  /** {@return the mean of a value over the last n samples that have one, or null} */
  mean(name, n) {
    const list = this.values[name].slice(-n).filter(v => v !== null && Number.isFinite(v));
    return list.length ? list.reduce((a, b) => a + b, 0) / list.length : null;
  }

  latest(name) {
    const list = this.values[name];
    return list.length ? list[list.length - 1] : null;
  }
}

/** Job id -> {series: Series(source, sink), last: {t, source, sink}} */
const jobs = new Map();
/** Service name -> {series: Series(calls, p50, p99), last: {t, requests, histogram}} */
const services = new Map();
/** Job id -> {t, operators: [recordsOut...]} for per-operator rates */
const operators = new Map();

function rateOf(now, then, dt) {
  return dt > 0 && then !== undefined && then !== null ? Math.max(0, (now - then) / dt) : null;
}

/** Records a poll of GET /jobs at time t (seconds). */
export function recordJobs(list, t) {
  const present = new Set();
  for (const job of list) {
    present.add(job.id);
    let entry = jobs.get(job.id);
    if (!entry) {
      entry = { series: new Series(['source', 'sink']), last: null };
      jobs.set(job.id, entry);
    }
    const last = entry.last;
    const dt = last ? t - last.t : 0;
    // A finished job's series ends with its last change: a flat tail of zeros says nothing.
    if (last && (job.status === 'RUNNING' || last.status === 'RUNNING' || last.status === 'DEPLOYING')) {
      entry.series.push(t, { source: rateOf(job.sourceRecords, last.source, dt), sink: rateOf(job.sinkRecords, last.sink, dt) });
    }
    entry.last = { t, source: job.sourceRecords, sink: job.sinkRecords, status: job.status };
  }
  for (const id of jobs.keys()) if (!present.has(id)) jobs.delete(id);
}

/** {@return the series of a job's rates, or null} */
export function jobSeries(id) {
  const entry = jobs.get(id);
  return entry ? entry.series : null;
}

/** {@return a job's recent rate of source records per second (mean of the last 5 s), else its mean rate} */
export function jobRate(job) {
  const entry = jobs.get(job.id);
  const recent = entry && job.status === 'RUNNING' ? entry.series.mean('source', 5) : null;
  if (recent !== null) return recent;
  return job.elapsedMillis > 0 ? job.sourceRecords * 1000 / job.elapsedMillis : null;
}

/** {@return the time a running job with a known total still needs, in ms, or null} */
export function jobEta(job) {
  if (job.status !== 'RUNNING' || job.total < 0) return null;
  const left = job.total - job.sourceRecords;
  if (left <= 0) return 0;
  const r = jobRate(job);
  return r && r > 0 ? left / r * 1000 : null;
}

/**
 * Records a poll of GET /jobs/{id}/graph; {@return each operator's rate per second, or nulls: of the records it
 * emits, or for a sink, of those it takes}
 */
export function recordOperators(graph, t) {
  const last = operators.get(graph.id);
  const outs = graph.operators.map(o => (o.kind === 'sink' ? o.recordsIn : o.recordsOut));
  const rates = outs.map((n, i) =>
    last && last.outs.length === outs.length ? rateOf(n, last.outs[i], t - last.t) : null);
  if (!last || t - last.t >= 0.5) operators.set(graph.id, { t, outs, rates });
  return last && t - last.t < 0.5 ? last.rates : rates;
}

/** Records a poll of GET /services at time t (seconds). */
export function recordServices(list, t) {
  const present = new Set();
  for (const s of list) {
    present.add(s.name);
    let entry = services.get(s.name);
    if (!entry) {
      entry = { series: new Series(['calls', 'p50', 'p99']), last: null, snapshots: [] };
      services.set(s.name, entry);
    }
    const last = entry.last;
    const histogram = s.executionTimes || [];
    if (last) {
      const dt = t - last.t;
      const interval = minus(histogram, last.histogram);
      entry.series.push(t, {
        calls: rateOf(s.requests ?? 0, last.requests, dt),
        p50: interval.count ? percentile(interval, 0.5) / 1000 : null,
        p99: interval.count ? percentile(interval, 0.99) / 1000 : null,
      });
    }
    entry.last = { t, requests: s.requests ?? 0, histogram };
    entry.snapshots.push({ t, histogram });
    while (entry.snapshots.length > 1 && t - entry.snapshots[0].t > RECENT_SECONDS) entry.snapshots.shift();
  }
  for (const name of services.keys()) if (!present.has(name)) services.delete(name);
}

/** {@return the series of a service's calls/s and latency (ms), or null} */
export function serviceSeries(name) {
  const entry = services.get(name);
  return entry ? entry.series : null;
}

/** {@return a service's calls per second over the last 5 s, or null} */
export function serviceRate(name) {
  const series = serviceSeries(name);
  return series ? series.mean('calls', 5) : null;
}

/** {@return a service's p50 and p99 execution times (µs) over the last 10 s, or nulls when no call ran then} */
export function serviceRecentLatency(name) {
  const entry = services.get(name);
  if (!entry || entry.snapshots.length < 2) return { p50: null, p99: null };
  const first = entry.snapshots[0];
  const last = entry.snapshots[entry.snapshots.length - 1];
  const interval = minus(last.histogram, first.histogram);
  return { p50: percentile(interval, 0.5), p99: percentile(interval, 0.99) };
}
