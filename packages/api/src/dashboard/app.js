// The celeriac dashboard's script: plain ES module, no dependencies, no build step.
//
// Safety rules this file keeps:
// - Every value from the API (job inputs and results are user data) reaches the page through textContent or
//   attribute setters, via `h()`; nothing is ever assigned to innerHTML. The page's CSP forbids inline script too.
// - The API key lives in sessionStorage (this tab only) and travels only in the Authorization header: never in a
//   URL, so it cannot end up in server logs, history or a Referer. That is why the event stream is read with
//   fetch() and parsed here instead of EventSource, which cannot send headers.

import { $, ago, h, json, jobLink, shortId, stateBadge, terminal, throttle, time, toast, took } from './dom.js';
import { readEventStream } from './event-stream.js';

const keyStorage = 'celeriac.dashboard.apiKey';
/** Which job states each queue count covers, for the links from a count to the matching jobs. */
const countStates = {
  queued: 'queued',
  delayed: 'scheduled,retrying',
  active: 'active',
  succeeded: 'succeeded',
  failed: 'failed,cancelled,expired',
};

const session = { key: '', scopes: [], admin: false };

// ---------------------------------------------------------------------------------------------------------------
// The API.

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.details = body?.error?.details ?? {};
  }
}

async function api(path, { method = 'GET', body, key = session.key } = {}) {
  const headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await response.text();
  const parsed = text ? safeParse(text) : undefined;
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    // The key was revoked or the server restarted with other keys: back to the login form.
    if (response.status === 401 && key === session.key && session.key) logout('The server no longer accepts this key.');
    throw error;
  }
  return parsed;
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * What a key may do. There is no "who am I" route, so this asks two questions that reveal it without changing
 * anything: `GET /v1/queues` (needs read), and `POST /v1/workers/control` with an empty body (needs admin). The
 * scope check runs before the body is read, so a non-admin key gets 403 listing its scopes, and an admin key gets
 * 400 for the missing command: the command never runs.
 */
async function probeScopes(key) {
  try {
    await api('/v1/queues', { key });
  } catch (error) {
    if (error.status === 401) throw new Error('The server does not know this key. Check it, or create one with `celeriac api-key create`.', { cause: error });
    if (error.status === 403) {
      const granted = (error.details.granted ?? []).join(', ') || 'none';
      throw new Error(`This key has the scopes ${granted}; the dashboard needs read (or admin).`, { cause: error });
    }
    throw error;
  }
  try {
    await api('/v1/workers/control', { method: 'POST', body: {}, key });
    return ['admin'];
  } catch (error) {
    if (error.status === 400) return ['admin'];
    if (error.status === 403 && Array.isArray(error.details.granted)) return error.details.granted;
    return ['read'];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Session.

async function login(key) {
  const scopes = await probeScopes(key);
  Object.assign(session, { key, scopes, admin: scopes.includes('admin') });
  sessionStorage.setItem(keyStorage, key);
  $('scopes').replaceChildren(...scopes.map((scope) => h('span', { class: `badge scope-${scope}`, text: scope })));
  document.body.classList.toggle('is-admin', session.admin);
  $('nav').hidden = false;
  $('session').hidden = false;
  events.start();
  timers.start();
  loadDatalists();
  Promise.resolve(route()).catch(failed);
}

function logout(message) {
  sessionStorage.removeItem(keyStorage);
  Object.assign(session, { key: '', scopes: [], admin: false });
  events.stop();
  timers.stop();
  $('nav').hidden = true;
  $('session').hidden = true;
  $('key-input').value = '';
  $('login-error').textContent = message ?? '';
  show('login');
}

// ---------------------------------------------------------------------------------------------------------------
// Views and routing: `#/overview`, `#/jobs?state=…`, `#/jobs/<id>`, `#/workflows/<id>`, `#/schedules`.

const view = { name: '', jobId: '', workflowId: '', workflowJobs: new Set() };

function show(name) {
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('current', link.dataset.view === name || (name === 'job' && link.dataset.view === 'jobs'));
  }
}

function route() {
  if (!session.key) return show('login');
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name = 'overview', id] = path.split('/');
  Object.assign(view, { jobId: '', workflowId: '' });
  if (name === 'jobs' && id) {
    view.name = 'job';
    view.jobId = decodeURIComponent(id);
    show('job');
    return loadJob();
  }
  if (name === 'workflows') {
    view.name = 'workflows';
    view.workflowId = id ? decodeURIComponent(id) : '';
    $('workflow-form').elements.id.value = view.workflowId;
    show('workflows');
    return loadWorkflow();
  }
  view.name = ['jobs', 'schedules'].includes(name) ? name : 'overview';
  show(view.name);
  if (view.name === 'jobs') {
    const params = new URLSearchParams(query);
    const form = $('job-filters');
    for (const field of ['state', 'queue', 'task']) form.elements[field].value = params.get(field) ?? '';
    if (params.get('state') && !form.elements.state.value) addStateOption(params.get('state'));
    return loadJobs();
  }
  if (view.name === 'schedules') return loadSchedules();
  return Promise.all([loadQueues(), loadWorkers()]);
}

function addStateOption(value) {
  const select = $('job-filters').elements.state;
  select.append(h('option', { text: value }));
  select.value = value;
}

function failed(error) {
  toast(error.message, 'error');
}

// ---------------------------------------------------------------------------------------------------------------
// Queues.

async function loadQueues() {
  const { queues } = await api('/v1/queues');
  const rows = queues.map((queue) =>
    h(
      'tr',
      { data: { queue: queue.name } },
      h('td', {}, h('strong', { text: queue.name })),
      Object.keys(countStates).map((count) =>
        h(
          'td',
          { class: `num count count-${count}` },
          h('a', {
            href: `#/jobs?queue=${encodeURIComponent(queue.name)}&state=${countStates[count]}`,
            class: queue.counts[count] ? '' : 'zero',
            text: queue.counts[count].toLocaleString(),
          }),
        ),
      ),
      h('td', {}, queue.paused ? h('span', { class: 'badge paused', text: 'paused' }) : h('span', { class: 'badge running', text: 'running' })),
      h('td', { class: 'actions' }, adminButton(queue.paused ? 'Resume' : 'Pause', queue.paused ? 'resume' : 'pause', () => toggleQueue(queue))),
    ),
  );
  $('queues-table').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(8, 'No queues yet: submit a job or start a worker.')]));
  $('queues-updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  $('queue-names').replaceChildren(...queues.map((queue) => h('option', { value: queue.name })));
}

async function toggleQueue(queue) {
  const action = queue.paused ? 'resume' : 'pause';
  if (action === 'pause' && !confirm(`Pause queue "${queue.name}"? No worker takes its jobs until it is resumed.`)) return;
  await api(`/v1/queues/${encodeURIComponent(queue.name)}/${action}`, { method: 'POST' });
  toast(`Queue ${queue.name} ${action === 'pause' ? 'paused' : 'resumed'}.`);
  await loadQueues();
}

/** A button only admin keys can use: hidden by CSS for other keys, and disabled as well. */
function adminButton(label, kind, action) {
  return h('button', {
    type: 'button',
    class: `admin-only ${kind}`,
    text: label,
    disabled: !session.admin,
    on: {
      click: async (event) => {
        event.preventDefault();
        event.stopPropagation();
        const button = event.currentTarget;
        button.disabled = true;
        try {
          await action();
        } catch (error) {
          failed(error);
        } finally {
          button.disabled = !session.admin;
        }
      },
    },
  });
}

const emptyRow = (span, text) => h('tr', {}, h('td', { colspan: span, class: 'muted empty', text }));

// ---------------------------------------------------------------------------------------------------------------
// Workers.

let workersFetchedAt = 0;

async function loadWorkers() {
  const { workers } = await api('/v1/workers');
  workersFetchedAt = Date.now();
  $('workers-count').textContent = `${workers.length} live`;
  $('workers').replaceChildren(...(workers.length ? workers.map(workerCard) : [h('p', { class: 'muted empty', text: 'No live workers.' })]));
}

function workerCard(worker) {
  const active = worker.activeJobs ?? [];
  return h(
    'article',
    { class: 'card worker', data: { worker: worker.id } },
    h('header', {},
      h('strong', { class: 'mono', text: worker.id, title: `${worker.hostname} pid ${worker.pid}` }),
      worker.paused ? h('span', { class: 'badge paused', text: 'paused' }) : null,
    ),
    h('dl', { class: 'facts' },
      fact('Host', `${worker.hostname} (pid ${worker.pid})`),
      fact('Queues', worker.queues.join(', ') || '—'),
      fact('Concurrency', `${active.length} / ${worker.concurrency} busy · ${worker.capabilities.cpuSlots} CPU slots`),
      fact('Heartbeat', h('span', { class: 'heartbeat', data: { ageMs: String(worker.heartbeatAgeMs) }, text: `${ago(worker.heartbeatAgeMs)} ago` })),
      fact('Up', ago(Date.now() - worker.startedAtMs)),
      active.length ? fact('Running', h('span', { class: 'links' }, active.map(jobLink))) : null,
      rateLimits(worker.rateLimits),
    ),
    gpuSection(worker.capabilities.gpu, worker.gpuActivity),
  );
}

function fact(label, value) {
  return [h('dt', { text: label }), h('dd', {}, value)];
}

function rateLimits(limits) {
  const entries = Object.entries(limits ?? {});
  if (!entries.length) return null;
  return fact('Rate limits', entries.map(([task, { limit, perMs }]) => `${task}: ${limit} per ${perMs} ms`).join('; '));
}

function gpuSection(gpu, activity) {
  if (!gpu) return h('p', { class: 'muted gpu', text: 'No GPU tasks.' });
  if (!gpu.available) return h('p', { class: 'muted gpu', text: `No GPU: ${gpu.reason}` });
  const { adapter } = gpu;
  const kernels = Object.entries(activity?.kernelTimings ?? {});
  const kernelNs = kernels.reduce((sum, [, timing]) => sum + timing.totalNs, 0);
  return h(
    'section',
    { class: 'gpu' },
    h('h4', {},
      'GPU ',
      h('span', { text: adapter.description || `${adapter.vendor} ${adapter.device}`.trim() || 'adapter' }),
      ' ',
      h('span', { class: `badge ${adapter.isSoftware ? 'software' : 'hardware'}`, text: adapter.isSoftware ? 'software' : gpu.adapterType ?? 'hardware' }),
    ),
    h('dl', { class: 'facts' },
      fact('Vendor', [adapter.vendor, adapter.architecture].filter(Boolean).join(' · ') || '—'),
      gpu.count !== undefined ? fact('GPUs', String(gpu.count)) : null,
      activity ? fact('Executor', executorText(activity)) : null,
      activity ? fact('Kernels', `${activity.runs} runs · ${activity.pipelinesCompiled} compiled · ${activity.pipelineCacheHits} cache hits`) : null,
      activity ? fact('Kernel time', kernels.length ? `${(kernelNs / 1e6).toFixed(2)} ms total` : 'not measured (no timestamp queries)') : null,
    ),
    kernels.length
      ? h('details', {}, h('summary', { text: `${kernels.length} kernel(s)` }),
          h('ul', { class: 'plain' }, kernels.map(([name, t]) => h('li', { text: `${name}: ${t.runs} runs, ${(t.totalNs / 1e6).toFixed(2)} ms total, last ${(t.lastNs / 1e3).toFixed(1)} µs` }))))
      : null,
    h('details', {}, h('summary', { text: `${gpu.features.length} feature(s)` }), h('p', { class: 'mono small', text: gpu.features.join(', ') || 'none' })),
  );
}

/** The executor's restarts (every start after the first replaced a crashed or killed one) and lost devices. */
function executorText({ executorStarts, devicesAcquired }) {
  const restarts = Math.max(0, executorStarts - 1);
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(restarts, 'restart')} · ${plural(devicesAcquired, 'device')} acquired`;
}

/** Ages the heartbeats shown between fetches, so the number moves every second. */
function tickHeartbeats() {
  const since = Date.now() - workersFetchedAt;
  for (const node of document.querySelectorAll('.heartbeat')) {
    const age = Number(node.dataset.ageMs) + since;
    node.textContent = `${ago(age)} ago`;
    node.classList.toggle('stale', age > 15_000);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs.

const jobsPage = { cursor: undefined, rows: new Map() };
/** The newest state each job's events reported, and when it arrived: it wins over a listing fetched before it. */
const seen = new Map();

function jobFilters() {
  const form = $('job-filters');
  const filters = {};
  for (const field of ['state', 'queue', 'task']) {
    const value = form.elements[field].value.trim();
    if (value) filters[field] = value;
  }
  return filters;
}

async function loadJobs({ more = false } = {}) {
  const params = new URLSearchParams({ ...jobFilters(), limit: '50' });
  if (more && jobsPage.cursor) params.set('cursor', jobsPage.cursor);
  const startedAt = performance.now();
  const page = await api(`/v1/jobs?${params}`);
  if (!more) jobsPage.rows.clear();
  jobsPage.cursor = page.nextCursor;
  const body = $('jobs-table').tBodies[0];
  const rows = page.jobs.map((job) => {
    const event = seen.get(job.id);
    if (event && event.at > startedAt) job = { ...job, state: event.state, ...(event.error ? { error: event.error } : {}) };
    const row = jobRow(job);
    jobsPage.rows.set(job.id, { job, row });
    return row;
  });
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  $('jobs-empty').hidden = jobsPage.rows.size > 0;
  $('jobs-more').hidden = !jobsPage.cursor;
}

function jobRow(job) {
  return h(
    'tr',
    { data: { jobId: job.id, state: job.state }, class: 'clickable', on: { click: () => (location.hash = `#/jobs/${encodeURIComponent(job.id)}`) } },
    h('td', {}, jobLink(job.id)),
    h('td', { text: job.task }),
    h('td', { text: job.queue }),
    h('td', { class: 'state' }, stateBadge(job.state), job.error ? h('span', { class: 'error-code', title: job.error.message, text: job.error.code }) : null),
    h('td', { class: 'num', text: `${job.attempts.made}/${job.attempts.max}` }),
    h('td', {}, time(job.createdAt)),
    h('td', { text: took(job) }),
    h('td', { class: 'actions' }, jobActions(job)),
  );
}

function jobActions(job) {
  const buttons = [];
  if (!terminal.has(job.state)) buttons.push(adminButton('Cancel', 'cancel', () => cancelJob(job.id)));
  if (job.state === 'failed' || job.state === 'cancelled') buttons.push(adminButton('Retry', 'retry', () => retryJob(job.id)));
  return buttons;
}

async function cancelJob(id) {
  if (!confirm(`Cancel job ${id}? A waiting job never runs; a running one is told to stop.`)) return;
  const { outcome } = await api(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  toast(outcome === 'already-finished' ? `Job ${shortId(id)} had already finished.` : `Job ${shortId(id)}: ${outcome}.`);
  await refreshAfterAction(id);
}

async function retryJob(id) {
  await api(`/v1/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST' });
  toast(`Job ${shortId(id)} queued again.`);
  await refreshAfterAction(id);
}

/** The event stream reports the change too; refreshing at once keeps the page right if it is reconnecting. */
async function refreshAfterAction(id) {
  if (view.name === 'job' && view.jobId === id) await loadJob();
  else if (view.name === 'jobs') await loadJobs();
}

/** Applies a live state change to the job's row, if it is on the page. */
function updateJobRow(event) {
  const entry = jobsPage.rows.get(event.id);
  if (!entry) return false;
  const job = { ...entry.job, state: event.state };
  if (event.error) job.error = event.error;
  else if (!terminal.has(event.state)) delete job.error;
  if (event.state === 'active') job.attempts = { ...job.attempts, made: Math.max(job.attempts.made, 1) };
  const row = jobRow(job);
  entry.row.replaceWith(row);
  jobsPage.rows.set(event.id, { job, row });
  return true;
}

function matchesFilters(event) {
  const { state, queue, task } = jobFilters();
  const list = (value) => value.split(',').map((item) => item.trim());
  return (!state || list(state).includes(event.state)) && (!queue || list(queue).includes(event.queue)) && (!task || list(task).includes(event.task));
}

// ---------------------------------------------------------------------------------------------------------------
// One job.

async function loadJob() {
  const id = view.jobId;
  let job;
  try {
    job = await api(`/v1/jobs/${encodeURIComponent(id)}`);
  } catch (error) {
    if (view.jobId !== id) return;
    $('job-detail').replaceChildren(h('p', { class: 'error', text: error.status === 404 ? `Job ${id} was not found (unknown, or removed by retention).` : error.message }));
    return;
  }
  if (view.jobId !== id) return; // the user moved on meanwhile
  $('job-detail').replaceChildren(jobDetail(job));
}

function jobDetail(job) {
  return h(
    'article',
    { class: 'job', data: { jobId: job.id, state: job.state } },
    h('header', { class: 'job-head' },
      h('h2', {}, h('span', { class: 'mono', text: job.id }), ' ', stateBadge(job.state)),
      h('div', { class: 'actions' }, jobActions(job)),
    ),
    h('dl', { class: 'facts wide' },
      fact('Task', job.task),
      fact('Queue', job.queue),
      fact('Attempts', `${job.attempts.made} of ${job.attempts.max}`),
      fact('Priority', String(job.priority)),
      fact('Created', time(job.createdAt)),
      job.runAt ? fact('Runs at', time(job.runAt)) : null,
      fact('Started', time(job.startedAt)),
      fact('Finished', time(job.finishedAt)),
      took(job) ? fact('Took', took(job)) : null,
      job.waitingFor ? fact('Waiting for', `${job.waitingFor.reason}: ${JSON.stringify(job.waitingFor.requires ?? {})}`) : null,
    ),
    job.progress !== undefined ? h('section', {}, h('h3', { text: 'Progress' }), progressView(job.progress)) : null,
    h('section', {}, h('h3', { text: 'Input' }), json(job.input)),
    job.error
      ? h('section', {}, h('h3', { text: 'Error' }), h('p', { class: 'error' }, h('strong', { text: job.error.code }), ' ', job.error.message), Object.keys(job.error.details ?? {}).length ? json(job.error.details) : null)
      : h('section', {}, h('h3', { text: 'Result' }), json(job.result)),
    job.history?.length ? h('section', {}, h('h3', { text: 'Earlier attempts' }), historyTable(job.history)) : null,
    h('section', {}, h('h3', { text: 'Logs' }), job.logs?.length ? h('pre', { class: 'logs', text: job.logs.join('\n') }) : h('p', { class: 'muted', text: 'No log lines.' })),
  );
}

function progressView(progress) {
  if (typeof progress === 'number' && Number.isFinite(progress)) {
    const percent = Math.max(0, Math.min(100, progress <= 1 ? progress * 100 : progress));
    return h('div', { class: 'progress' }, h('progress', { max: '100', value: String(percent) }), ` ${percent.toFixed(0)}%`);
  }
  return json(progress);
}

function historyTable(history) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Attempt' }), h('th', { text: 'Outcome' }), h('th', { text: 'Error' }), h('th', { text: 'At' }))),
    h('tbody', {}, history.map((attempt) => h('tr', {},
      h('td', { class: 'num', text: String(attempt.attempt) }),
      h('td', { text: attempt.outcome }),
      h('td', {}, h('strong', { text: attempt.error.code }), ' ', attempt.error.message),
      h('td', {}, time(attempt.at)),
    ))),
  ));
}

// ---------------------------------------------------------------------------------------------------------------
// Workflows.

async function loadWorkflow() {
  const id = view.workflowId;
  if (!id) return $('workflow-detail').replaceChildren(h('p', { class: 'muted', text: 'Enter the id POST /v1/workflows answered.' }));
  let workflow;
  try {
    workflow = await api(`/v1/workflows/${encodeURIComponent(id)}`);
  } catch (error) {
    if (view.workflowId === id) $('workflow-detail').replaceChildren(h('p', { class: 'error', text: error.status === 404 ? `Workflow ${id} was not found.` : error.message }));
    return;
  }
  if (view.workflowId !== id) return;
  view.workflowJobs = new Set();
  $('workflow-detail').replaceChildren(
    h('header', { class: 'job-head' }, h('h2', {}, h('span', { class: 'mono', text: workflow.id }), ' ', stateBadge(workflow.state)), h('span', { class: 'muted' }, 'created ', time(workflow.createdAt))),
    h('ul', { class: 'tree' }, treeNode(workflow.tree)),
  );
}

function treeNode(node) {
  view.workflowJobs.add(node.jobId);
  const label = h('div', { class: 'node' },
    h('span', { class: `kind kind-${node.kind}`, text: node.kind }),
    node.task ? h('span', { class: 'task', text: node.task }) : null,
    stateBadge(node.state),
    node.state === 'pending' ? h('span', { class: 'muted mono', text: shortId(node.jobId) }) : jobLink(node.jobId),
  );
  return h('li', { data: { jobId: node.jobId } }, label, node.children?.length ? h('ul', {}, node.children.map(treeNode)) : null);
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules.

async function loadSchedules() {
  const { schedules } = await api('/v1/schedules');
  const rows = schedules.map((schedule) => {
    const { spec } = schedule;
    const timing = spec.cron ? `cron ${spec.cron}${spec.tz ? ` (${spec.tz})` : ''}` : spec.everyMs !== undefined ? `every ${ago(spec.everyMs)}` : '—';
    return h('tr', { data: { schedule: schedule.id } },
      h('td', {}, h('strong', { text: schedule.id })),
      h('td', { text: schedule.task }),
      h('td', { text: schedule.queue }),
      h('td', { class: 'mono', text: timing + (spec.limit !== undefined ? ` · limit ${spec.limit}` : '') }),
      h('td', { class: 'num', text: String(schedule.firedCount) }),
      h('td', {}, schedule.ended ? h('span', { class: 'badge state-cancelled', text: 'ended' }) : time(schedule.nextRunAt)),
      h('td', {}, schedule.nextJobId ? jobLink(schedule.nextJobId) : ''),
      h('td', { class: 'actions' }, adminButton('Remove', 'remove', () => removeSchedule(schedule.id))),
    );
  });
  $('schedules-table').tBodies[0].replaceChildren(...rows);
  $('schedules-empty').hidden = rows.length > 0;
}

async function removeSchedule(id) {
  if (!confirm(`Remove schedule "${id}" and its pending firing?`)) return;
  await api(`/v1/schedules/${encodeURIComponent(id)}`, { method: 'DELETE' });
  toast(`Schedule ${id} removed.`);
  await loadSchedules();
}

async function loadDatalists() {
  try {
    const { tasks } = await api('/v1/tasks');
    $('task-names').replaceChildren(...tasks.map((task) => h('option', { value: task.name })));
  } catch {
    // Only suggestions: the filters work without them.
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Live events: the /v1/events firehose, read with fetch so the key goes in a header.

const events = (() => {
  let abort;
  let lastEventId;
  let retryMs = 2000;
  let generation = 0;

  const setStatus = (status, text) => {
    const node = $('live');
    node.dataset.status = status;
    node.textContent = text;
  };

  async function connect(current) {
    setStatus('connecting', 'connecting');
    abort = new AbortController();
    const headers = { authorization: `Bearer ${session.key}`, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    try {
      const response = await fetch('/v1/events', { headers, signal: abort.signal, cache: 'no-store' });
      if (response.status === 401) return logout('The server no longer accepts this key.');
      // A resume point the server no longer knows (its event log was trimmed, or Redis was replaced): start afresh.
      if (response.status === 400) lastEventId = undefined;
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setStatus('live', 'live');
      await readEventStream(response.body, {
        isCurrent: () => current === generation,
        onEvent,
        onId: (id) => (lastEventId = id),
        onRetry: (ms) => (retryMs = ms),
      });
    } catch (error) {
      if (error.name === 'AbortError' || current !== generation) return;
    }
    if (current !== generation) return;
    setStatus('down', 'reconnecting');
    setTimeout(() => current === generation && connect(current), retryMs);
  }

  return {
    start() {
      generation++;
      void connect(generation);
    },
    stop() {
      generation++;
      lastEventId = undefined;
      abort?.abort();
    },
  };
})();

const refreshQueues = throttle(() => view.name === 'overview' && loadQueues().catch(failed), 1000);
const refreshJobs = throttle(() => view.name === 'jobs' && loadJobs().catch(failed), 1000);
const refreshJob = throttle(() => view.name === 'job' && loadJob(), 300);
const refreshWorkflow = throttle(() => view.name === 'workflows' && loadWorkflow(), 500);

function onEvent(type, event) {
  if (typeof event.id !== 'string') return;
  if (type === 'state') {
    seen.set(event.id, { state: event.state, error: event.error, at: performance.now() });
    // Bounded: only recent events matter (they beat listings fetched just before them).
    if (seen.size > 5000) seen.delete(seen.keys().next().value);
    refreshQueues();
    if (view.name === 'jobs') {
      const shown = updateJobRow(event);
      // A new job may belong on the page; a finished one gets its times (events carry only the state).
      if ((!shown && matchesFilters(event)) || (shown && terminal.has(event.state))) refreshJobs();
    }
  }
  if (type === 'removed') {
    refreshQueues();
    if (view.name === 'jobs' && jobsPage.rows.has(event.id)) refreshJobs();
  }
  if (view.name === 'job' && event.id === view.jobId) refreshJob();
  if (view.name === 'workflows' && view.workflowJobs.has(event.id)) refreshWorkflow();
}

// ---------------------------------------------------------------------------------------------------------------
// Polling for what has no events: worker heartbeats, and the page's safety net while the stream reconnects.

const timers = (() => {
  let handles = [];
  return {
    start() {
      this.stop();
      handles = [
        setInterval(() => view.name === 'overview' && loadWorkers().catch(failed), 5000),
        setInterval(() => view.name === 'overview' && loadQueues().catch(failed), 15_000),
        setInterval(tickHeartbeats, 1000),
      ];
    },
    stop() {
      handles.forEach(clearInterval);
      handles = [];
    },
  };
})();

// ---------------------------------------------------------------------------------------------------------------
// Wiring.

function init() {
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = $('key-input').value.trim();
    $('login-error').textContent = '';
    try {
      await login(key);
      $('key-input').value = '';
    } catch (error) {
      $('login-error').textContent = error instanceof TypeError ? 'Cannot reach the API.' : error.message;
    }
  });
  $('logout').addEventListener('click', () => logout());
  $('job-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    const filters = new URLSearchParams(jobFilters()).toString();
    const target = `#/jobs${filters ? `?${filters}` : ''}`;
    // The same hash fires no hashchange: load directly then.
    if (location.hash === target) loadJobs().catch(failed);
    else location.hash = target;
  });
  $('job-filters').addEventListener('reset', () => setTimeout(() => (location.hash = '#/jobs')));
  $('jobs-more').addEventListener('click', () => loadJobs({ more: true }).catch(failed));
  $('workflow-form').addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/workflows/${encodeURIComponent(event.currentTarget.elements.id.value.trim())}`;
  });
  window.addEventListener('hashchange', () => Promise.resolve(route()).catch(failed));

  const stored = sessionStorage.getItem(keyStorage);
  if (!stored) return show('login');
  login(stored).catch((error) => logout(error instanceof TypeError ? 'Cannot reach the API.' : error.message));
}

init();
