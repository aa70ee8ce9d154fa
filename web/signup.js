// The sign-up page: checks the account name as it is typed (POST /api/v1/name-checks) and
// shows the DNS zone it becomes. The form still works without this script; the server checks
// again on submit and also says whether the name is taken.
const input = document.getElementById('name');
const status = document.getElementById('name-status');
const domain = document.getElementById('domain');
let timer;
let asked = 0;

async function check() {
  const name = input.value.trim();
  const base = domain.dataset.base;
  if (name === '') {
    show(true, `<name>.${base}`, '');
    return;
  }
  const mine = ++asked;
  try {
    const response = await fetch('/api/v1/name-checks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'account', name }),
    });
    if (mine !== asked) return; // a newer answer is on its way
    const verdict = await response.json();
    if (!response.ok) {
      show(false, '', verdict.detail || 'The name could not be checked.');
    } else if (verdict.valid) {
      show(true, verdict.domain, '');
    } else {
      show(false, '', verdict.reason);
    }
  } catch {
    // Offline or the server restarting: the server checks on submit anyway.
  }
}

function show(valid, zone, reason) {
  input.setAttribute('aria-invalid', valid ? 'false' : 'true');
  status.classList.toggle('bad', !valid);
  if (valid) {
    status.replaceChildren("Your account's DNS zone: ", domain);
    domain.textContent = zone;
  } else {
    status.textContent = `Not available: ${reason}`;
  }
}

input.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(check, 150);
});
