// The Sagebus console: a page served by the management server itself, polling its API once a second.
// Views: #/jobs, #/jobs/{id}, #/services, #/services/{name}, #/nodes.

import { api, path, hasToken, setToken, onUnauthorized } from './api.js';
import { setText } from './dom.js';
import { recordJobs, recordServices } from './store.js';
import { jobsView, jobView } from './jobs.js';
import { servicesView, serviceView, healthByService } from './services.js';
import { nodesView } from './nodes.js';

const POLL_MS = 1000;
const main = document.getElementById('main');
const banner = document.getElementById('banner');
const login = document.getElementById('login');
const loginMessage = document.getElementById('login-message');
const tokenInput = document.getElementById('token');
const forget = document.getElementById('forget-token');
const updated = document.getElementById('updated');

const app = {
  /** name -> service health, from the last GET /health/ready */
  health: new Map(),
  /** Polls now, out of turn (after an action). */
  refresh() {
    schedule(0);
  },
};

let view = null;
let route = '';
let timer = null;
let polling = false;
let again = false;
let locked = false;

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [section, ...rest] = hash.split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : null;
  if (section === 'services') return arg ? { key: 'service:' + arg, make: () => serviceView(app, arg), nav: 'services' }
    : { key: 'services', make: () => servicesView(app), nav: 'services' };
  if (section === 'nodes') return { key: 'nodes', make: () => nodesView(app), nav: 'nodes' };
  if (section === 'jobs' && arg) return { key: 'job:' + arg, make: () => jobView(app, arg), nav: 'jobs' };
  return { key: 'jobs', make: () => jobsView(app), nav: 'jobs' };
}

function show() {
  const r = parseRoute();
  if (r.key === route && view) return;
  route = r.key;
  if (view) view.destroy();
  view = r.make();
  main.replaceChildren(view.el);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === r.nav);
  document.title = 'Sagebus · ' + r.key.replace(':', ' ');
  schedule(0);
}

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(poll, delay);
}

function showBanner(text) {
  banner.hidden = !text;
  setText(banner, text || '');
}

async function poll() {
  if (locked) return;
  if (polling) {
    again = true;
    return;
  }
  polling = true;
  const started = performance.now();
  const current = view;
  const needs = current ? current.needs || {} : {};
  const t = Date.now() / 1000;
  const state = { t };
  const requests = {
    jobs: api('GET', '/jobs').then(r => (state.jobs = r.jobs)),
    services: api('GET', '/services').then(r => (state.services = r.services)),
  };
  if (needs.pipelines) requests.pipelines = api('GET', '/pipelines').then(r => (state.pipelines = r.pipelines));
  if (needs.nodes) requests.nodes = api('GET', '/nodes').then(r => (state.nodes = r.nodes));
  if (needs.health) requests.health = api('GET', '/health/ready', undefined, [503]).then(r => (app.health = healthByService(r)));
  if (needs.graph) {
    requests.graph = api('GET', path('/jobs', needs.graph, '/graph')).then(r => (state.graph = r), e => {
      state.graphError = e;
    });
  }
  if (needs.service) {
    requests.service = api('GET', path('/services', needs.service)).then(r => (state.service = r), e => {
      state.serviceError = e;
    });
  }
  const results = await Promise.allSettled(Object.values(requests));
  polling = false;
  const failure = results.find(r => r.status === 'rejected');
  if (locked) return;
  if (failure) {
    showBanner(failure.reason.code === 'UNREACHABLE' ? failure.reason.message + '; trying again every second.'
      : failure.reason.code + ': ' + failure.reason.message);
  } else {
    showBanner('');
  }
  if (state.jobs) recordJobs(state.jobs, t);
  if (state.services) recordServices(state.services, t);
  if (current === view && view) {
    try {
      view.update(state);
    } catch (e) {
      showBanner('The console failed to show this view: ' + e.message);
      console.error(e);
    }
    if (!failure) setText(updated, 'updated ' + new Date().toLocaleTimeString());
  }
  forget.hidden = !hasToken();
  schedule(again ? 0 : Math.max(0, POLL_MS - (performance.now() - started)));
  again = false;
}

onUnauthorized((error, hadToken) => {
  locked = true;
  clearTimeout(timer);
  showBanner('');
  login.hidden = false;
  main.hidden = true;
  setText(loginMessage, hadToken
    ? 'The token was refused (' + error.message + '). Enter the right one.'
    : 'This server asks for a token (' + error.message + ').');
  loginMessage.className = hadToken ? 'message error' : 'message';
  tokenInput.focus();
});

login.addEventListener('submit', event => {
  event.preventDefault();
  setToken(tokenInput.value);
  tokenInput.value = '';
  locked = false;
  login.hidden = true;
  main.hidden = false;
  schedule(0);
});

forget.addEventListener('click', () => {
  setToken(null);
  location.reload();
});

window.addEventListener('hashchange', show);
show();
