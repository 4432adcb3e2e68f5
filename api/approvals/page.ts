// The approvals web page: an approver signs in with a token, sees the tenant's
// runs waiting for approval, reads the report, and approves or rejects.
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
<section id="pending" hidden><h2>Waiting for approval</h2><table><thead><tr><th>Run</th><th>Share</th><th>Requested by</th><th>Totals</th><th></th></tr></thead>
<tbody id="runs"></tbody></table></section>
<section id="detail" hidden><h2>Run <code id="run-id"></code></h2>
<p>Report hash <code id="run-hash"></code> (<a id="run-csv" href="#">CSV</a>)</p>
<table><thead><tr><th>#</th><th>Category</th><th>Proposed action</th><th>Path</th><th>Target</th><th>Bytes</th></tr></thead><tbody id="items"></tbody></table>
<p><label>Reason <input id="reason" size="60"></label></p>
<button id="approve">Approve</button><button id="reject">Reject</button></section>
<script>
const state = { token: sessionStorage.getItem('strata-token') || '', run: null };
const $ = (id) => document.getElementById(id);
const say = (text, ok) => { $('message').textContent = text; $('message').className = ok ? 'ok' : 'error'; };
async function api(path, options = {}) {
  const response = await fetch('/api/v1' + path, { ...options, headers: { authorization: 'Bearer ' + state.token, 'content-type': 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}
function cell(row, text) { const td = document.createElement('td'); td.textContent = text == null ? '' : String(text); row.appendChild(td); return td; }
async function loadRuns(announceEmpty = true) {
  const { runs } = await api('/sanitize?status=AWAITING_APPROVAL');
  $('runs').replaceChildren(...runs.map((run) => {
    const row = document.createElement('tr');
    cell(row, run.id); cell(row, run.share); cell(row, run.requestedBy);
    cell(row, Object.entries(run.totals).map(([k, v]) => k + ': ' + v.items).join(', '));
    const open = document.createElement('button'); open.textContent = 'Review'; open.dataset.run = run.id;
    open.onclick = () => loadRun(run.id).catch((e) => say(e.message));
    cell(row, '').appendChild(open);
    return row;
  }));
  $('pending').hidden = false;
  if (runs.length === 0 && announceEmpty) say('No runs are waiting for approval.', true);
}
async function loadRun(id) {
  const run = await api('/sanitize/' + id + '?limit=1000');
  state.run = run;
  $('run-id').textContent = run.id; $('run-hash').textContent = run.reportHash;
  $('items').replaceChildren(...run.items.map((item) => {
    const row = document.createElement('tr');
    [item.itemNo, item.category, item.proposedAction, item.fullPath, item.targetUri, item.sizeBytes].forEach((v) => cell(row, v));
    return row;
  }));
  $('detail').hidden = false;
}
async function decide(decision) {
  if (!state.run) return;
  const result = await api('/sanitize/' + state.run.id + '/approvals', { method: 'POST',
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
$('run-csv').onclick = (event) => { event.preventDefault(); if (state.run) downloadReport().catch((e) => say(e.message)); };
$('approve').onclick = () => decide('approve').catch((e) => say(e.message));
$('reject').onclick = () => decide('reject').catch((e) => say(e.message));
if (state.token) loadRuns().catch((e) => say(e.message));
</script></body></html>`;
