// The nodes view (#/nodes): every node of the deployment, with heap and running jobs (for the node that
// answers: the others' records do not carry what changes all the time).

import { h, setText, millis, mib, bar, keyedTable } from './dom.js';

export function nodesView() {
  const table = keyedTable([
    { title: 'Node', update: (td, n) => setText(td, n.id) },
    { title: 'Host', update: (td, n) => setText(td, n.host) },
    { title: 'This node', update: (td, n) => setText(td, n.self ? 'yes' : '') },
    { title: 'Mode', update: (td, n) => setText(td, n.details.mode || '-') },
    { title: 'PID', cls: 'num', update: (td, n) => setText(td, n.details.pid ?? '-') },
    { title: 'Java', update: (td, n) => setText(td, n.details.java || '-') },
    { title: 'Uptime', cls: 'num', update: (td, n) => setText(td, millis(n.details.uptimeMillis)) },
    { title: 'Heap', cls: 'progress', create: td => {
      const b = bar();
      const none = h('span.muted', { text: '-' });
      td.append(b.el, none);
      return { b, none };
    }, update: (td, n, { b, none }) => {
      const used = n.details.heapUsedBytes;
      const max = n.details.heapMaxBytes;
      const known = used !== undefined && used !== null;
      b.el.hidden = !known;
      none.hidden = known;
      if (known) b.set(max > 0 ? used / max : 0, mib(used) + ' / ' + mib(max));
    } },
    { title: 'Running jobs', cls: 'num', update: (td, n) => setText(td, n.details.runningJobs ?? '-') },
    { title: 'Services', update: (td, n) => setText(td, (n.details.services || []).join(', ') || '-') },
  ], n => n.id, { id: 'nodes', class: 'grid' });
  const el = h('section.view', {}, h('h2', { text: 'Nodes' }), table.el);
  return {
    el,
    needs: { nodes: true },
    update(state) {
      table.update(state.nodes || []);
    },
    destroy() {},
  };
}
