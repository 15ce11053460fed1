// The services view (#/services: every service with its calls/s, latency, errors, load, replicas, health and
// breaker) and one service's view (#/services/{name}: its plots, a call with JSON arguments, undeploying it).

import { api, path, ApiError } from './api.js';
import { h, setText, count, rate, micros, millis, keyedTable } from './dom.js';
import { serviceRate, serviceRecentLatency, serviceSeries } from './store.js';
import { timePlot } from './plot.js';

/** {@return name -> {status, circuit, reason} from GET /health/ready} */
export function healthByService(health) {
  const out = new Map();
  const checks = health && health.checks ? health.checks : [];
  const services = checks.find(c => c.id === 'services');
  for (const c of (services && services.checks) || []) {
    out.set(c.id, { status: c.status, circuit: c.data && c.data.circuit, reason: c.data && c.data.reason });
  }
  return out;
}

function errorsText(errors) {
  const entries = Object.entries(errors || {}).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([code, n]) => code + ' ' + count(n)).join(', ') : 'none';
}

function replicasText(replicas) {
  if (!replicas || !replicas.length) return 'none running';
  const byNode = new Map();
  for (const r of replicas) byNode.set(r.node, (byNode.get(r.node) || 0) + 1);
  return [...byNode].map(([node, n]) => node + (n > 1 ? ' × ' + n : '')).join(', ');
}

function healthText(health) {
  if (!health) return '-';
  return health.status + (health.reason ? ' (' + health.reason + ')' : '');
}

function errorText(e) {
  if (!(e instanceof ApiError)) return String(e);
  return e.code + (e.status ? ' (HTTP ' + e.status + ')' : '') + ': ' + e.message;
}

export function servicesView(app) {
  const table = keyedTable([
    { title: 'Service', update: (td, s) => {
      if (!td.firstChild) td.append(h('a', { href: '#/services/' + encodeURIComponent(s.name), text: s.name }));
    } },
    { title: 'Instances', cls: 'num', update: (td, s) => setText(td, count(s.instances)) },
    { title: 'Replicas (node)', update: (td, s) => setText(td, replicasText(s.replicas)) },
    { title: 'Calls/s', cls: 'num', update: (td, s) => setText(td, rate(serviceRate(s.name))) },
    { title: 'p50 (10 s)', cls: 'num', update: (td, s) => setText(td, micros(serviceRecentLatency(s.name).p50)) },
    { title: 'p99 (10 s)', cls: 'num', update: (td, s) => setText(td, micros(serviceRecentLatency(s.name).p99)) },
    { title: 'Errors by code', update: (td, s) => {
      setText(td, errorsText(s.errors));
      td.classList.toggle('bad', Object.values(s.errors || {}).some(n => n > 0));
    } },
    { title: 'In flight', cls: 'num', update: (td, s) => setText(td, count(s.inFlight)) },
    { title: 'Queued', cls: 'num', update: (td, s) => setText(td, count(s.queued)) },
    { title: 'Health', update: (td, s) => {
      const hl = app.health.get(s.name);
      setText(td, healthText(hl));
      td.classList.toggle('bad', !!hl && hl.status !== 'UP');
    } },
    { title: 'Breaker', update: (td, s) => {
      const hl = app.health.get(s.name);
      setText(td, hl && hl.circuit ? hl.circuit : 'none');
      td.classList.toggle('bad', !!hl && !!hl.circuit && hl.circuit !== 'CLOSED');
    } },
    { title: '', update: (td, s) => {
      if (!td.firstChild) td.append(h('a.button', { href: '#/services/' + encodeURIComponent(s.name), text: 'Call or undeploy…' }));
    } },
  ], s => s.name, { id: 'services', class: 'grid' });
  const empty = h('p.muted', { text: 'No services registered in this environment.' });
  const el = h('section.view', {}, h('h2', { text: 'Services' }),
    h('p.muted', { text: 'Calls/s over the last 5 s; latency (the execution time of the calls at the instances, p50 '
      + 'and p99) over the last 10 s; errors since the service was registered.' }),
    table.el, empty);
  return {
    el,
    needs: { health: true },
    update(state) {
      const list = state.services || [];
      table.update(list);
      empty.hidden = list.length > 0;
      table.el.hidden = list.length === 0;
    },
    destroy() {},
  };
}

export function serviceView(app, name) {
  const fields = {};
  const summary = h('dl.summary', { id: 'service-summary' });
  for (const [key, label] of [['instances', 'Instances'], ['replicas', 'Replicas (node)'], ['calls', 'Calls/s'],
    ['p50', 'p50 (10 s)'], ['p99', 'p99 (10 s)'], ['lifetime', 'p50 / p99 in all'], ['requests', 'Requests'], ['errors', 'Errors by code'],
    ['inflight', 'In flight'], ['queued', 'Queued'], ['health', 'Health'], ['breaker', 'Breaker'], ['registered', 'Registered by']]) {
    fields[key] = h('dd', { 'data-field': key });
    summary.append(h('dt', { text: label }), fields[key]);
  }
  const callsPlot = timePlot('Calls per second', [{ key: 'calls', label: 'calls/s' }], rate, { id: 'service-calls-plot' });
  const latencyPlot = timePlot('Execution time (ms), per second', [{ key: 'p50', label: 'p50' }, { key: 'p99', label: 'p99' }],
    v => (v === 0 ? '0' : v < 1 ? v.toFixed(2) : v < 10 ? v.toFixed(1) : v.toFixed(0)) + ' ms', { id: 'service-latency-plot' });

  // A call with JSON arguments.
  const method = h('input', { id: 'call-method', value: 'process', spellcheck: 'false', 'aria-label': 'Method' });
  const args = h('textarea', { id: 'call-args', rows: 3, spellcheck: 'false', 'aria-label': 'Arguments (a JSON array)' });
  args.value = '[]';
  const timeout = h('input', { id: 'call-timeout', type: 'number', min: 1, max: 600000, placeholder: 'the service\'s',
    'aria-label': 'Timeout (ms)' });
  const callButton = h('button', { id: 'call', type: 'submit', text: 'Call' });
  const result = h('pre.result', { id: 'call-result', hidden: true });
  const callError = h('div.message.error', { id: 'call-error', role: 'alert', hidden: true });
  const callInfo = h('p.muted', { id: 'call-info' });
  const form = h('form.call', { id: 'call-form' },
    h('label', {}, 'Method ', method),
    h('label', {}, 'Arguments (a JSON array) ', args),
    h('label', {}, 'Timeout (ms) ', timeout),
    callButton);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    result.hidden = true;
    callError.hidden = true;
    let parsed;
    try {
      parsed = JSON.parse(args.value || '[]');
      if (!Array.isArray(parsed)) throw new Error('not an array');
    } catch (e) {
      callError.hidden = false;
      setText(callError, 'The arguments must be a JSON array, such as [2, 3] or ["u1"] (' + e.message + ')');
      return;
    }
    const body = { method: method.value.trim() || 'process', args: parsed };
    if (timeout.value) body.timeoutMs = Number(timeout.value);
    callButton.disabled = true;
    setText(callInfo, 'Calling ' + name + '.' + body.method + '…');
    const started = performance.now();
    try {
      const answer = await api('POST', path('/services', name, '/call'), body);
      result.hidden = false;
      setText(result, JSON.stringify(answer.result, null, 2));
      setText(callInfo, name + '.' + body.method + ' answered in ' + millis(performance.now() - started));
    } catch (e) {
      callError.hidden = false;
      callError.replaceChildren(h('strong', { class: 'code', text: e.code || 'ERROR' }),
        ' ' + (e.status ? '(HTTP ' + e.status + ') ' : '') + e.message);
      if (e.body && e.body.remoteType) callError.append(h('div.muted', { text: 'thrown: ' + e.body.remoteType }));
      setText(callInfo, name + '.' + body.method + ' failed after ' + millis(performance.now() - started));
    } finally {
      callButton.disabled = false;
      app.refresh();
    }
  });

  // Undeploying, after a second click.
  const undeploy = h('button.danger', { id: 'undeploy', type: 'button', text: 'Undeploy…' });
  const confirm = h('button.danger', { id: 'undeploy-confirm', type: 'button', text: 'Undeploy now' });
  const keep = h('button', { type: 'button', text: 'Keep it' });
  const confirmBox = h('div.confirm', { hidden: true },
    h('span', { text: 'Undeploy ' + name + '? Calls waiting for it are answered STOPPING; calls running finish within '
      + 'its drain timeout. It stays registered.' }), confirm, keep);
  const undeployMessage = h('p.message', { id: 'undeploy-message', role: 'status' });
  undeploy.addEventListener('click', () => {
    confirmBox.hidden = false;
  });
  keep.addEventListener('click', () => {
    confirmBox.hidden = true;
  });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    undeployMessage.className = 'message';
    setText(undeployMessage, 'Undeploying ' + name + '…');
    try {
      await api('DELETE', path('/services', name));
      setText(undeployMessage, name + ' undeployed: its instances stopped (it stays registered).');
    } catch (e) {
      undeployMessage.className = 'message error';
      setText(undeployMessage, errorText(e));
    } finally {
      confirm.disabled = false;
      confirmBox.hidden = true;
      app.refresh();
    }
  });

  const missing = h('p.message.error', { id: 'service-missing', hidden: true });
  const el = h('section.view', {},
    h('p', {}, h('a', { href: '#/services', text: '← all services' })),
    h('div.title-row', {}, h('h2', {}, 'Service ', h('span', { id: 'service-name', text: name })), undeploy),
    confirmBox, undeployMessage, missing, summary,
    h('div.plots', {}, callsPlot.el, latencyPlot.el),
    h('h3', { text: 'Call it' }), form, callInfo, result, callError);

  return {
    el,
    needs: { health: true, service: name },
    update(state) {
      const s = state.service;
      if (state.serviceError) {
        missing.hidden = false;
        setText(missing, errorText(state.serviceError));
      } else {
        missing.hidden = true;
      }
      if (!s) return;
      const hl = app.health.get(name);
      const latency = serviceRecentLatency(name);
      setText(fields.instances, count(s.instances));
      setText(fields.replicas, replicasText(s.replicas));
      setText(fields.calls, s.requests === undefined ? 'counted where it was registered' : rate(serviceRate(name)));
      setText(fields.p50, micros(latency.p50));
      setText(fields.p99, micros(latency.p99));
      setText(fields.lifetime, s.executionTimes && s.executionTimes.length
        ? micros(s.p50ExecutionMicros) + ' / ' + micros(s.p99ExecutionMicros) : '-');
      setText(fields.requests, count(s.requests));
      setText(fields.errors, s.errors ? errorsText(s.errors) : '-');
      setText(fields.inflight, count(s.inFlight));
      setText(fields.queued, count(s.queued));
      setText(fields.health, healthText(hl));
      setText(fields.breaker, hl && hl.circuit ? hl.circuit : 'none');
      setText(fields.registered, s.registeredBy ? 'member ' + s.registeredBy + (s.local ? ' (runs there)' : '') : 'this environment');
      callsPlot.update(serviceSeries(name));
      latencyPlot.update(serviceSeries(name));
    },
    destroy() {
      callsPlot.destroy();
      latencyPlot.destroy();
    },
  };
}
