import { html } from './ui.js';

const SERIES = [
  ['sent', 'Sent'],
  ['failed', 'Failed'],
  ['open', 'Pending or retrying'],
  ['other', 'Cancelled or skipped'],
];
const WIDTH = 720;
const HEIGHT = 140;

/** Deliveries per hour by outcome: one stacked bar per hour, drawn as plain SVG (no chart library). */
export function Chart({ buckets }) {
  const peak = Math.max(1, ...buckets.map((b) => b.sent + b.failed + b.open + b.other));
  const barWidth = WIDTH / buckets.length;
  const totals = Object.fromEntries(SERIES.map(([key]) => [key, buckets.reduce((sum, b) => sum + b[key], 0)]));
  const summary = `Deliveries per hour over the last ${buckets.length} hours: ${SERIES.map(([key, label]) => `${totals[key]} ${label.toLowerCase()}`).join(', ')}; busiest hour ${peak}.`;
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${summary} preserveAspectRatio="none">
      ${buckets.map((bucket, index) => {
        let top = HEIGHT;
        return SERIES.map(([key]) => {
          const height = (bucket[key] / peak) * (HEIGHT - 4);
          if (height === 0) return null;
          top -= height;
          return html`<rect class=${`bar-${key}`} x=${index * barWidth} y=${top} width=${Math.max(1, barWidth - 1)} height=${height}><title>${`${new Date(bucket.hour).toLocaleString()}: ${bucket[key]} ${key}`}</title></rect>`;
        });
      })}
    </svg>
    <div class="axis" aria-hidden="true"><span>${new Date(buckets[0].hour).toLocaleDateString()}</span><span>now</span></div>
    <figcaption>
      Deliveries per hour, last 7 days (busiest hour: ${peak}).
      <ul class="legend">${SERIES.map(([key, label]) => html`<li><span class=${`swatch bar-${key}`} aria-hidden="true"></span>${label}: ${totals[key]}</li>`)}</ul>
    </figcaption>
  </figure>`;
}
