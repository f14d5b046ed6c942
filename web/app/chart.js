// A small SVG chart of the last 24 hours: activations as bars, incidents as red marks above
// them. Drawn from GET /api/v1/activity with no chart library; the same figures are in a
// table for screen readers (and anyone who wants the numbers).
import { h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

export function activityChart(hours) {
  const width = 600;
  const height = 160;
  const left = 40;
  const bottom = 24;
  const most = Math.max(1, ...hours.map((x) => x.activations));
  const step = (width - left) / hours.length;
  const y = (n) => height - bottom - ((height - bottom - 10) * n) / most;
  const totalActivations = hours.reduce((n, x) => n + x.activations, 0);
  const totalIncidents = hours.reduce((n, x) => n + x.incidents, 0);
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary = `${plural(totalActivations, 'activation')} and ${plural(totalIncidents, 'incident')} in the last 24 hours`;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-labelledby': 'chart-title', class: 'casekit-chart' });
  svg.append(s('title', { id: 'chart-title' }, summary));
  svg.append(s('line', { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: 'casekit-chart__axis' }));
  svg.append(s('text', { x: left - 6, y: y(most) + 4, 'text-anchor': 'end', class: 'casekit-chart__label' }, String(most)));
  svg.append(s('text', { x: left - 6, y: height - bottom + 4, 'text-anchor': 'end', class: 'casekit-chart__label' }, '0'));
  hours.forEach((x, i) => {
    const at = left + i * step;
    if (x.activations > 0) {
      svg.append(s('rect', { x: at + 2, y: y(x.activations), width: step - 4, height: height - bottom - y(x.activations), class: 'casekit-chart__bar' }));
    }
    if (x.incidents > 0) {
      svg.append(s('circle', { cx: at + step / 2, cy: 8, r: 5, class: 'casekit-chart__incident' }));
    }
    if (i % 6 === 0 || i === hours.length - 1) {
      const last = i === hours.length - 1;
      svg.append(s('text', { x: last ? width : at + step / 2, y: height - 6, 'text-anchor': last ? 'end' : 'middle',
        class: 'casekit-chart__label' }, x.hour.slice(11, 16)));
    }
  });
  const figures = h('details', { class: 'govuk-details' },
    h('summary', { class: 'govuk-details__summary' }, h('span', { class: 'govuk-details__summary-text' }, 'The figures by hour')),
    h('div', { class: 'govuk-details__text' },
      h('table', { class: 'govuk-table' },
        h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' },
          ['Hour (UTC)', 'Activations', 'Incidents'].map((t) => h('th', { scope: 'col', class: 'govuk-table__header' }, t)))),
        h('tbody', { class: 'govuk-table__body' }, hours.map((x) => h('tr', { class: 'govuk-table__row' },
          [x.hour.slice(0, 16).replace('T', ' '), String(x.activations), String(x.incidents)].map((t) => h('td', { class: 'govuk-table__cell' }, t))))))));
  return h('figure', { class: 'casekit-figure', id: 'activity' }, svg,
    h('figcaption', { class: 'govuk-body-s' }, `${summary}: bars are activations in each hour, red marks hours with incidents.`), figures);
}
