// The jobs view (#/jobs: every job with its live progress, and running a named pipeline) and one job's view
// (#/jobs/{id}: its records/s over the last minutes and its operator graph).

import { api, path, ApiError } from './api.js';
import { h, setText, count, rate, millis, bar, keyedTable } from './dom.js';
import { jobRate, jobEta, jobSeries, recordOperators } from './store.js';
import { timePlot } from './plot.js';
import { drawGraph } from './graph.js';

const ACTIVE = new Set(['DEPLOYING', 'RUNNING']);

function statusBadge(td, status) {
  let badge = td.firstChild;
  if (!badge) {
    badge = h('span.badge');
    td.append(badge);
  }
  setText(badge, status);
  badge.className = 'badge ' + String(status).toLowerCase();
}

function progressText(job) {
  if (job.total >= 0) {
    const pct = job.total === 0 ? 100 : Math.floor(job.sourceRecords * 100 / job.total);
    return count(job.sourceRecords) + ' / ' + count(job.total) + ' (' + pct + '%)';
  }
  return count(job.sourceRecords) + ' records';
}

/** A cancel button that asks the API and shows what went wrong. */
function cancelButton(id, refresh, onError) {
  const button = h('button.danger', { type: 'button', text: 'Cancel', 'data-action': 'cancel' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    setText(button, 'Cancelling…');
    try {
      await api('POST', path('/jobs', id, '/cancel'));
    } catch (e) {
      onError(e);
    } finally {
      setText(button, 'Cancel');
      button.disabled = false;
      refresh();
    }
  });
  return button;
}

function errorText(e) {
  return e instanceof ApiError ? e.code + (e.status ? ' (HTTP ' + e.status + ')' : '') + ': ' + e.message : String(e);
}

export function jobsView(app) {
  const select = h('select', { id: 'pipeline', 'aria-label': 'Named pipeline' });
  const runButton = h('button', { id: 'run', type: 'button', text: 'Run' });
  const runMessage = h('span.message', { id: 'run-message', role: 'status' });
  const noPipelines = h('span.muted', { text: 'No named pipelines: env.registerPipeline(name, ...) adds them.' });
  runButton.addEventListener('click', async () => {
    const name = select.value;
    if (!name) return;
    runButton.disabled = true;
    runMessage.className = 'message';
    setText(runMessage, 'Starting ' + name + '…');
    try {
      const job = await api('POST', path('/pipelines', name, '/run'), {});
      runMessage.replaceChildren('Started pipeline ' + name + ' as job ', h('a', { href: '#/jobs/' + encodeURIComponent(job.id), text: job.id }));
    } catch (e) {
      runMessage.className = 'message error';
      setText(runMessage, errorText(e));
    } finally {
      runButton.disabled = false;
      app.refresh();
    }
  });
  const actionError = h('p.message.error', { id: 'jobs-error', role: 'alert', hidden: true });
  const showError = e => {
    actionError.hidden = false;
    setText(actionError, errorText(e));
  };

  const table = keyedTable([
    { title: 'Job', update: (td, j) => {
      if (!td.firstChild) td.append(h('a', { href: '#/jobs/' + encodeURIComponent(j.id), text: j.id }));
    } },
    { title: 'Status', update: (td, j) => statusBadge(td, j.status) },
    { title: 'Progress', cls: 'progress', create: td => {
      const b = bar();
      td.append(b.el);
      return b;
    }, update: (td, j, b) => b.set(j.total > 0 ? j.sourceRecords / j.total : j.total === 0 ? 1 : 0, progressText(j)) },
    { title: 'Rate', cls: 'num', update: (td, j) => setText(td, ACTIVE.has(j.status) || j.elapsedMillis > 0 ? rate(jobRate(j)) : '-') },
    { title: 'ETA', cls: 'num', update: (td, j) => setText(td, jobEta(j) === null ? '-' : millis(jobEta(j))) },
    { title: 'At the sinks', cls: 'num', update: (td, j) => setText(td, count(j.sinkRecords)) },
    { title: 'In flight', cls: 'num', update: (td, j) => setText(td, count(j.recordsInFlight)) },
    { title: 'Failed', cls: 'num', update: (td, j) => {
      setText(td, count(j.failedRecords));
      td.classList.toggle('bad', j.failedRecords > 0);
    } },
    { title: 'Elapsed', cls: 'num', update: (td, j) => setText(td, millis(j.elapsedMillis)) },
    { title: 'Runs in', update: (td, j) => setText(td, j.member ? 'member ' + j.member.slice(0, 8) : 'this node') },
    { title: '', create: (td, j) => {
      const b = cancelButton(j.id, app.refresh, showError);
      td.append(b);
      return b;
    }, update: (td, j, b) => {
      // A job of another JVM is cancelled where it runs.
      b.hidden = !ACTIVE.has(j.status) || !!j.member;
    } },
  ], j => j.id, { id: 'jobs', class: 'grid' });
  const empty = h('p.muted', { id: 'no-jobs', text: 'No jobs yet: run a named pipeline above, or submit one from Java.' });
  let pipelineNames = '';

  const el = h('section.view', {},
    h('h2', { text: 'Jobs' }),
    h('div.toolbar', {}, h('label', { for: 'pipeline', text: 'Run a pipeline' }), select, runButton, noPipelines, runMessage),
    actionError, table.el, empty);

  return {
    el,
    needs: { pipelines: true },
    update(state) {
      const names = state.pipelines || [];
      if (names.join(',') !== pipelineNames) {
        pipelineNames = names.join(',');
        const keep = select.value;
        select.replaceChildren(...names.map(n => h('option', { value: n, text: n })));
        if (names.includes(keep)) select.value = keep;
      }
      select.hidden = runButton.hidden = names.length === 0;
      noPipelines.hidden = names.length > 0;
      const jobs = (state.jobs || []).slice().reverse();
      table.update(jobs);
      empty.hidden = jobs.length > 0;
      table.el.hidden = jobs.length === 0;
    },
    destroy() {},
  };
}

export function jobView(app, id) {
  const title = h('h2', {}, 'Job ', h('span', { id: 'job-id', text: id }), ' ');
  const status = h('span.badge', { id: 'job-status' });
  title.append(status);
  const actionError = h('p.message.error', { role: 'alert', hidden: true });
  const cancel = cancelButton(id, app.refresh, e => {
    actionError.hidden = false;
    setText(actionError, errorText(e));
  });
  cancel.id = 'job-cancel';
  const fields = {};
  const summary = h('dl.summary', { id: 'job-summary' });
  for (const [key, label] of [['progress', 'Records'], ['rate', 'Rate'], ['eta', 'ETA'], ['sinks', 'At the sinks'],
    ['inflight', 'In flight'], ['failed', 'Failed'], ['elapsed', 'Elapsed'], ['member', 'Runs in']]) {
    fields[key] = h('dd', { 'data-field': key });
    summary.append(h('dt', { text: label }), fields[key]);
  }
  const failure = h('p.message.error', { id: 'job-failure', hidden: true });
  const plot = timePlot('Records per second (sources out, sinks in)', [
    { key: 'source', label: 'from the sources' }, { key: 'sink', label: 'to the sinks' }], rate, { id: 'job-plot' });
  const graphBox = h('div.graph-box', { id: 'job-graph' });
  const bottleneck = h('p.muted', { id: 'job-bottleneck' });
  const operators = keyedTable([
    { title: 'Operator', update: (td, o) => setText(td, o.name) },
    { title: 'Kind', update: (td, o) => setText(td, (o.kind || '-') + ' × ' + o.parallelism) },
    { title: 'In', cls: 'num', update: (td, o) => setText(td, count(o.recordsIn)) },
    { title: 'Out', cls: 'num', update: (td, o) => setText(td, count(o.recordsOut)) },
    { title: 'Rate now', cls: 'num', update: (td, o) => setText(td, rate(o.rateNow)) },
    { title: 'Errors', cls: 'num', update: (td, o) => {
      setText(td, count(o.errors));
      td.classList.toggle('bad', o.errors > 0);
    } },
    { title: 'Input queue', cls: 'progress', create: td => {
      const b = bar('queue');
      td.append(b.el);
      return b;
    }, update: (td, o, b) => b.set(o.queueFill, o.queueCapacity > 0 ? count(o.queued) + ' / ' + count(o.queueCapacity) : '-') },
  ], o => String(o.index), { id: 'operators', class: 'grid' });
  const missing = h('p.message.error', { id: 'job-missing', hidden: true });
  const body = h('div', {}, summary, failure, plot.el, h('h3', { text: 'Operators' }), bottleneck, graphBox, operators.el);
  const el = h('section.view', {},
    h('p', {}, h('a', { href: '#/jobs', text: '← all jobs' })),
    h('div.title-row', {}, title, cancel), actionError, missing, body);

  return {
    el,
    needs: { graph: id },
    update(state) {
      const job = (state.jobs || []).find(j => j.id === id);
      const graph = state.graph;
      if (state.graphError) {
        missing.hidden = false;
        setText(missing, errorText(state.graphError));
      } else {
        missing.hidden = true;
      }
      const shown = job || graph;
      if (!shown) {
        body.hidden = true;
        cancel.hidden = true;
        return;
      }
      body.hidden = false;
      setText(status, shown.status);
      status.className = 'badge ' + String(shown.status).toLowerCase();
      cancel.hidden = !ACTIVE.has(shown.status) || !!shown.member;
      setText(fields.progress, progressText(shown));
      setText(fields.rate, rate(jobRate(shown)));
      setText(fields.eta, jobEta(shown) === null ? '-' : millis(jobEta(shown)));
      setText(fields.sinks, count(shown.sinkRecords));
      setText(fields.inflight, count(shown.recordsInFlight));
      setText(fields.failed, count(shown.failedRecords));
      setText(fields.elapsed, millis(shown.elapsedMillis));
      setText(fields.member, shown.member ? 'member ' + shown.member : 'this node');
      failure.hidden = !shown.failure;
      setText(failure, shown.failure ? 'Failed: ' + shown.failure : '');
      plot.update(jobSeries(id));
      if (graph) {
        const rates = recordOperators(graph, state.t);
        drawGraph(graphBox, graph, rates);
        operators.update(graph.operators.map((o, i) => ({ ...o, rateNow: rates[i] })));
        const b = graph.bottleneck;
        setText(bottleneck, b === null || b === undefined
          ? 'Queues: no records wait in front of an operator now.'
          : 'Backpressure: records wait in front of ' + graph.operators[b].name + ' (' + count(graph.operators[b].queued)
            + ' queued): it is the slowest step; the operators before it wait for it.');
      }
    },
    destroy() {
      plot.destroy();
    },
  };
}
