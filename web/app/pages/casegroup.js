// One casegroup: its parents, money, schedule and letters; its SRs and the work on them;
// and its audit trail as a timeline (who changed what, when, and why), newest first.
import { api } from '../api.js';
import { casegroupSection, statusTag } from '../casework.js';
import { dateTime, h, humanise, pathId, table } from '../dom.js';
import { signedInPage } from '../layout.js';

function who(w) {
  if (w?.user) return w.user;
  if (w?.procedure) return `${w.procedure} (instance ${w.instance})`;
  return w?.actor ?? 'unknown';
}

function change(before, after) {
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return h('ul', { class: 'govuk-list govuk-!-font-size-16' },
    names.map((name) => {
      const from = before?.[name];
      const to = after?.[name];
      const text = (v) => (v === null || v === undefined ? 'nothing' : typeof v === 'object' ? JSON.stringify(v) : String(v));
      return h('li', {}, h('strong', {}, humanise(name)), ': ',
        before && after ? `${text(from)} → ${text(to)}` : text(after ? to : from));
    }));
}

const ACTIONS = { insert: 'Added', update: 'Changed', delete: 'Removed' };

function timeline(changes) {
  return h('div', { class: 'moj-timeline', id: 'audit' },
    changes.map((c) => h('div', { class: 'moj-timeline__item' },
      h('div', { class: 'moj-timeline__header' },
        h('h3', { class: 'moj-timeline__title' }, `${ACTIONS[c.action] ?? c.action} ${humanise(c.entity).toLowerCase()} ${c.entity_id}`),
        h('p', { class: 'moj-timeline__byline' }, `by ${who(c.who)}`)),
      h('p', { class: 'moj-timeline__date' }, h('time', { datetime: c.at }, dateTime(c.at))),
      h('div', { class: 'moj-timeline__description' },
        c.why ? h('p', { class: 'govuk-hint govuk-!-font-size-16' }, c.why) : null,
        change(c.before, c.after)))));
}

signedInPage('casegroups', async (main) => {
  const id = encodeURIComponent(pathId());
  const cursor = new URLSearchParams(window.location.search).get('cursor');
  const [cg, trail] = await Promise.all([
    api('GET', `/casegroups/${id}`),
    api('GET', `/casegroups/${id}/audit`, undefined, { limit: 20, cursor }),
  ]);
  document.title = `${cg.csa_ref ?? `Casegroup ${cg.id}`} – casekit`;
  document.getElementById('page-title').textContent = `Casegroup ${cg.id}${cg.csa_ref ? ` (${cg.csa_ref})` : ''}`;
  const section = casegroupSection(cg);
  section.querySelector('h2').remove();
  main.replaceChildren(h('div', { class: 'govuk-grid-row' }, h('div', { class: 'govuk-grid-column-two-thirds' },
    section,
    h('h2', { class: 'govuk-heading-m' }, 'Service requests'),
    cg.service_requests.length === 0 ? h('p', { class: 'govuk-body' }, 'None.')
      : table(null, ['SR', 'What', 'Status', 'Opened'], cg.service_requests.map((s) => [
        String(s.id), s.sub_area, [statusTag(s.status), s.sub_status ? ` ${s.sub_status}` : ''], dateTime(s.created_at)])),
    h('h2', { class: 'govuk-heading-m' }, 'Work items'),
    cg.work_items.length === 0 ? h('p', { class: 'govuk-body' }, 'None you may see.')
      : table(null, ['Item', 'Status', 'Claimed by'], cg.work_items.map((w) => [
        h('a', { class: 'govuk-link', href: `/work-items/${w.id}` }, w.title), statusTag(w.status), w.assignee ?? ''])),
    h('h2', { class: 'govuk-heading-m' }, 'Changes'),
    trail.changes.length === 0 ? h('p', { class: 'govuk-body' }, 'No changes recorded.') : timeline(trail.changes),
    trail.next_cursor ? h('p', { class: 'govuk-body' },
      h('a', { class: 'govuk-link', href: `/casegroups/${id}?cursor=${trail.next_cursor}`, id: 'older' }, 'Older changes')) : null)));
});
