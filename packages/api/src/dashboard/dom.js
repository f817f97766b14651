// The dashboard's DOM and formatting helpers. `h()` is the only way the page creates content: values become text
// nodes or attributes, never HTML, so job inputs and results (user data) cannot inject markup or script.

/** Every job state, for choosing a badge colour. */
export const states = ['queued', 'scheduled', 'active', 'retrying', 'succeeded', 'failed', 'cancelled', 'expired'];
/** The states a job never leaves. */
export const terminal = new Set(['succeeded', 'failed', 'cancelled', 'expired']);
/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/**
 * Creates an element. `props`: `class`, `text`, `title`, `href`, `data` (dataset), `on` (events), `hidden`,
 * `disabled`, or any other attribute (set with setAttribute, so never parsed as HTML). Children are nodes or
 * strings (strings become text nodes); null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'data') Object.assign(node.dataset, value);
    else if (name === 'on') for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else if (name === 'hidden' || name === 'disabled') node[name] = Boolean(value);
    else if (name === 'href' && !String(value).startsWith('#')) continue; // only in-page links: no javascript: URLs
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A job (or workflow node) state as a coloured badge; an unknown state gets a neutral one. */
export const stateBadge = (state) => h('span', { class: `badge state-${states.includes(state) || state === 'pending' ? state : 'unknown'}`, text: state });
/** A link to a job's detail view, showing a shortened id (the whole id on hover). */
export const jobLink = (id) => h('a', { href: `#/jobs/${encodeURIComponent(id)}`, class: 'mono', text: shortId(id), title: id });
/** The first characters of a long id, enough to tell jobs apart at a glance. */
export const shortId = (id) => (id.length > 14 ? `${id.slice(0, 12)}…` : id);

/** Any JSON value, pretty-printed as text in a <pre> (cut when huge); `undefined` shows "none". */
export function json(value) {
  if (value === undefined) return h('p', { class: 'muted', text: 'none' });
  let text = JSON.stringify(value, null, 2) ?? String(value);
  // A huge input would freeze the tab; the whole record stays available from GET /v1/jobs/{id}.
  if (text.length > 200_000) text = `${text.slice(0, 200_000)}\n… (cut at 200,000 characters)`;
  return h('pre', { class: 'json', text });
}

/** A duration in ms as a short human text: `42s`, `3m 5s`, `2h 10m`, `4d`. */
export function ago(ms) {
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d`;
}

/** An ISO time as `5s ago` or `in 2m`, with the local date and time on hover; a dash when absent. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const at = new Date(iso);
  const delta = Date.now() - at.getTime();
  return h('time', { datetime: iso, title: at.toLocaleString(), text: delta >= 0 ? `${ago(delta)} ago` : `in ${ago(-delta)}` });
}

/** How long a finished job ran, from its start and finish times; empty while it has not finished. */
export function took(job) {
  if (!job.startedAt || !job.finishedAt) return '';
  const ms = new Date(job.finishedAt).getTime() - new Date(job.startedAt).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

let toastTimer;
/** Shows a short message in the corner for five seconds (`kind` `error` in red). */
export function toast(message, kind = 'info') {
  const box = $('toast');
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 5000);
}

/**
 * Runs `fn` at most once per `ms`, trailing: a burst of calls runs it once, `ms` after the first, and a call made
 * while it runs schedules one more run, so the last change is never missed.
 */
export function throttle(fn, ms) {
  let timer;
  let pending = false;
  const schedule = () => {
    timer = setTimeout(async () => {
      pending = false;
      try {
        await fn();
      } finally {
        timer = undefined;
        if (pending) schedule();
      }
    }, ms);
  };
  return () => {
    pending = true;
    if (!timer) schedule();
  };
}
