// The operator console: schedules (next fire, pause, resume, run now), runs with the
// progress of a running import, incidents with what diverged and retry or cancel, the
// letters outbox, and activations and incidents over the last 24 hours.
import { api } from '../api.js';
import { statusTag } from '../casework.js';
import { dateTime, h, table, tag } from '../dom.js';
import { postButton, signedInPage } from '../layout.js';
import { activityChart } from '../chart.js';

function schedules(list) {
  return h('div', { id: 'schedules' }, table(null, ['Schedule', 'When', 'Next', 'State', h('span', { class: 'govuk-visually-hidden' }, 'Actions')],
    list.map((s) => [
      s.name,
      h('code', {}, `${s.cron} (${s.timezone})`),
      s.paused ? 'Paused' : dateTime(s.next),
      s.paused ? tag('Paused', 'orange') : tag('Active', 'green'),
      h('div', { class: 'casekit-actions' },
        s.paused ? postButton('Resume', `/schedules/${encodeURIComponent(s.name)}/resume`, s.name)
          : postButton('Pause', `/schedules/${encodeURIComponent(s.name)}/pause`, s.name),
        postButton('Run now', `/schedules/${encodeURIComponent(s.name)}/run`, s.name)),
    ])));
}

function progress(run) {
  const p = run.progress;
  if (!p) return run.message ?? '';
  const done = p.rows_total ? `${p.rows_read.toLocaleString('en-GB')} of ${p.rows_total.toLocaleString('en-GB')} rows`
    : `${p.rows_read.toLocaleString('en-GB')} rows`;
  const rate = p.rows_per_second ? `, ${Math.round(p.rows_per_second).toLocaleString('en-GB')} a second` : '';
  return [p.rows_total ? h('progress', { max: p.rows_total, value: p.rows_read, 'aria-label': `Run ${run.id} progress` }) : null,
    h('br'), `${done}${rate}`, run.status !== 'running' && run.message ? [h('br'), run.message] : null];
}

function runs(list) {
  if (list.length === 0) return h('p', { class: 'govuk-body' }, 'No runs yet.');
  return h('div', { id: 'runs' }, table(null, ['Run', 'What', 'Started', 'Status', 'Progress'],
    list.map((r) => [String(r.id), `${r.schedule ?? r.script} (${r.trigger})`, dateTime(r.started_at),
      statusTag(r.status), progress(r)])));
}

function divergence(i) {
  if (i.kind !== 'divergence') return i.message;
  return [i.message, h('br'), `At command ${i.position}: the history has ${i.expected}, the script now does ${i.found}`];
}

function incidents(list) {
  if (list.length === 0) return h('p', { class: 'govuk-body', id: 'no-incidents' }, 'No open incidents.');
  return h('div', { id: 'incidents' }, table(null, ['Incident', 'Instance', 'Where', 'What happened', h('span', { class: 'govuk-visually-hidden' }, 'Actions')],
    list.map((i) => [String(i.id), String(i.instance), h('code', {}, i.line ?? ''), divergence(i),
      h('div', { class: 'casekit-actions' },
        postButton('Retry', `/instances/${i.instance}/retry`, `instance ${i.instance}`),
        postButton('Cancel', `/instances/${i.instance}/cancel`, `instance ${i.instance}`))])));
}

function instances(failed, waiting) {
  const rows = [...failed, ...waiting];
  if (rows.length === 0) return h('p', { class: 'govuk-body' }, 'No instance is waiting or failed.');
  return h('div', { id: 'instances' }, table(null, ['Instance', 'Procedure', 'Casegroup', 'Status', 'Waiting on or failed with'],
    rows.map((i) => [String(i.id), i.procedure, String(i.casegroup ?? ''), statusTag(i.status),
      i.status === 'failed' ? (i.error ?? '') : describeWait(i.wait)])));
}

// What an instance waits on, as `casekit instance list` says it.
function describeWait(wait) {
  if (!wait) return '';
  const what = { task: 'Work item', letter: 'Letter', timer: 'A timer', signal: 'A signal' }[wait.kind] ?? wait.kind;
  return `${what}${wait.ref ? ` ${wait.ref}` : ''}${wait.wake_at ? `, until ${dateTime(wait.wake_at)}` : ''}`;
}

function outbox(letters) {
  const queued = letters.letters;
  return h('div', { id: 'outbox' },
    h('p', { class: 'govuk-body' }, queued.length === 0 ? 'No letters are waiting to be sent.'
      : `${queued.length}${letters.next_cursor ? ' or more' : ''} ${queued.length === 1 ? 'letter is' : 'letters are'} waiting to be sent.`),
    queued.length ? table(null, ['Letter', 'Template', 'Casegroup', 'Created'],
      queued.map((l) => [String(l.id), l.template, String(l.casegroup_id ?? ''), dateTime(l.created_at)])) : null,
    queued.length ? postButton('Send the queued letters', '/letters/fulfil') : null);
}

signedInPage('console', async (main, user) => {
  if (user.role !== 'operator') {
    main.replaceChildren(h('p', { class: 'govuk-body' }, 'This page is for operators.'));
    return;
  }
  const [s, r, i, l, hours, failed, waiting] = await Promise.all([
    api('GET', '/schedules'),
    api('GET', '/runs', undefined, { limit: 10 }),
    api('GET', '/incidents'),
    api('GET', '/letters', undefined, { status: 'queued', limit: 20 }),
    api('GET', '/activity'),
    api('GET', '/instances', undefined, { status: 'failed', limit: 10 }),
    api('GET', '/instances', undefined, { status: 'waiting', limit: 10 }),
  ]);
  main.replaceChildren(
    h('h2', { class: 'govuk-heading-m' }, 'The last 24 hours'), activityChart(hours.hours),
    h('h2', { class: 'govuk-heading-m' }, 'Schedules'), schedules(s.schedules),
    h('h2', { class: 'govuk-heading-m' }, 'Incidents'), incidents(i.incidents),
    h('h2', { class: 'govuk-heading-m' }, 'Instances'),
    h('p', { class: 'govuk-body' }, 'The first ten failed, then the first ten waiting.'),
    instances(failed.instances, waiting.instances),
    h('h2', { class: 'govuk-heading-m' }, 'Runs'), runs(r.runs),
    h('h2', { class: 'govuk-heading-m' }, 'Letters outbox'), outbox(l));
});
