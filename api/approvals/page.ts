// The approvals web page: an approver signs in with a token, sees the tenant's
// sanitize and remediation runs waiting for approval, reads the report, and approves
// or rejects (both gates take the same decision body).
export const APPROVALS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strata approvals</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;font-size:.9rem}button{margin-right:.5rem}
.error{color:#a00}.ok{color:#070}code{font-size:.8rem}
</style></head><body>
<h1>strata approvals</h1>
<form id="signin"><label>Token <input id="token" type="password" size="60" autocomplete="off"></label>
<button type="submit">Sign in</button></form>
<p id="message" role="status"></p>
<section id="pending" hidden><h2>Waiting for approval</h2><table><thead><tr><th>Kind</th><th>Run</th><th>Scope</th><th>Requested by</th><th>Totals</th><th></th></tr></thead>
<tbody id="runs"></tbody></table></section>
<section id="detail" hidden><h2><span id="run-kind"></span> run <code id="run-id"></code></h2>
<p>Report hash <code id="run-hash"></code><span id="run-csv-note"> (<a id="run-csv" href="#">CSV</a>)</span></p>
<section id="transforms-section" hidden><h3>Changes by permission set (<span id="report-totals"></span>)</h3>
<table><thead><tr><th>Files</th><th>Before</th><th>After</th></tr></thead><tbody id="transforms"></tbody></table><h3>Files</h3></section>
<table><thead><tr id="item-headers"></tr></thead><tbody id="items"></tbody></table>
<p><label>Reason <input id="reason" size="60"></label></p>
<button id="approve">Approve</button><button id="reject">Reject</button></section>
<script>
const state = { token: sessionStorage.getItem('strata-token') || '', run: null, kind: null };
const $ = (id) => document.getElementById(id);
const say = (text, ok) => { $('message').textContent = text; $('message').className = ok ? 'ok' : 'error'; };
async function api(path, options = {}) {
  const response = await fetch('/api/v1' + path, { ...options, headers: { authorization: 'Bearer ' + state.token, 'content-type': 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}
function cell(row, text) { const td = document.createElement('td'); td.textContent = text == null ? '' : String(text); row.appendChild(td); return td; }
// What differs between the two gates: where runs are listed, reviewed and decided, and how they read.
const KINDS = {
  sanitize: { label: 'Sanitize', path: '/sanitize', decide: '/approvals', csv: true,
    scope: (run) => run.share, totals: (run) => Object.entries(run.totals).map(([k, v]) => k + ': ' + v.items).join(', '),
    headers: ['#', 'Category', 'Proposed action', 'Path', 'Target', 'Bytes'],
    cells: (item) => [item.itemNo, item.category, item.proposedAction, item.fullPath, item.targetUri, item.sizeBytes] },
  remediation: { label: 'Remediation', path: '/remediation', decide: '/execute', csv: false,
    scope: (run) => run.hostId + ':' + (run.pathPrefix || run.volume), totals: (run) => 'to change: ' + run.toChange + ', transformations: ' + run.transformations,
    headers: ['#', 'Type', 'Before', 'After', 'Path'],
    cells: (item) => [item.itemNo, item.type, item.before, item.after, item.path] },
};
async function loadRuns(announceEmpty = true) {
  const lists = await Promise.all(Object.entries(KINDS).map(async ([kind, spec]) =>
    (await api(spec.path + '?status=AWAITING_APPROVAL')).runs.map((run) => ({ kind, spec, run }))));
  const pending = lists.flat();
  $('runs').replaceChildren(...pending.map(({ kind, spec, run }) => {
    const row = document.createElement('tr');
    cell(row, spec.label); cell(row, run.id); cell(row, spec.scope(run)); cell(row, run.requestedBy); cell(row, spec.totals(run));
    const open = document.createElement('button'); open.textContent = 'Review'; open.dataset.run = run.id; open.dataset.kind = kind;
    open.onclick = () => loadRun(kind, run.id).catch((e) => say(e.message));
    cell(row, '').appendChild(open);
    return row;
  }));
  $('pending').hidden = false;
  if (pending.length === 0 && announceEmpty) say('No runs are waiting for approval.', true);
}
async function loadRun(kind, id) {
  const spec = KINDS[kind];
  const run = await api(spec.path + '/' + id + '?limit=1000');
  state.run = run; state.kind = kind;
  $('run-kind').textContent = spec.label; $('run-id').textContent = run.id; $('run-hash').textContent = run.reportHash;
  $('run-csv-note').hidden = !spec.csv;
  const report = kind === 'remediation' ? run.report : null;
  $('transforms-section').hidden = !report;
  if (report) {
    $('report-totals').textContent = report.toChange + ' of ' + report.filesInScope + ' files in scope to change, ' + report.alreadyCompliant + ' already compliant';
    $('transforms').replaceChildren(...report.transforms.map((t) => { const row = document.createElement('tr'); [t.files, t.before, t.after].forEach((v) => cell(row, v)); return row; }));
  }
  $('item-headers').replaceChildren(...spec.headers.map((text) => { const th = document.createElement('th'); th.textContent = text; return th; }));
  $('items').replaceChildren(...run.items.map((item) => {
    const row = document.createElement('tr');
    spec.cells(item).forEach((v) => cell(row, v));
    return row;
  }));
  $('detail').hidden = false;
}
async function decide(decision) {
  if (!state.run) return;
  const spec = KINDS[state.kind];
  const result = await api(spec.path + '/' + state.run.id + spec.decide, { method: 'POST',
    body: JSON.stringify({ decision, reportHash: state.run.reportHash, reason: $('reason').value || undefined }) });
  say(decision + ' recorded: ' + result.status + ' (' + result.approvals + '/' + result.required + ' approvals)', true);
  await loadRuns(false);
}
$('signin').onsubmit = (event) => { event.preventDefault(); state.token = $('token').value.trim(); sessionStorage.setItem('strata-token', state.token); loadRuns().catch((e) => say(e.message)); };
// A plain link would go without the token: the report is fetched with it and handed over as a file.
async function downloadReport() {
  const response = await fetch('/api/v1/sanitize/' + state.run.id + '/report.csv', { headers: { authorization: 'Bearer ' + state.token } });
  if (!response.ok) throw new Error('report.csv: HTTP ' + response.status);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = 'sanitize-' + state.run.id + '.csv';
  link.click();
  URL.revokeObjectURL(link.href);
}
$('run-csv').onclick = (event) => { event.preventDefault(); if (state.run && state.kind === 'sanitize') downloadReport().catch((e) => say(e.message)); };
$('approve').onclick = () => decide('approve').catch((e) => say(e.message));
$('reject').onclick = () => decide('reject').catch((e) => say(e.message));
if (state.token) loadRuns().catch((e) => say(e.message));
</script></body></html>`;
