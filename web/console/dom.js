// Building the console's DOM. Text always goes in as text nodes (never as markup), so nothing
// the API returns can become HTML.

/** An element: `h('a', { href: '/x', class: 'y' }, 'text', child, [more])`. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** A table with a caption (for screen readers), column headings, and rows of cells. */
export function table(caption, headings, rows) {
  return h('div', { class: 'scroll' },
    h('table', {},
      h('caption', { class: 'skip' }, caption),
      h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** A status badge: `ok`, `warn`, `bad` or `none` tone, the word itself as its text. */
export function badge(word, tone) {
  return h('span', { class: `badge ${tone}` }, word);
}

const TONES = {
  ready: 'ok', applied: 'ok', active: 'ok', healthy: 'ok',
  stale: 'warn', pending: 'warn', planned: 'warn',
  offline: 'bad', quarantined: 'bad', failed: 'bad', unhealthy: 'bad',
  revoked: 'none', expired: 'none', 'used-up': 'none',
};

/** A badge whose tone follows the word (`ready`, `applied`, `offline`, ...). */
export function state(word) {
  return badge(word, TONES[word] || 'none');
}

/** A `<time>` with the local date and time, and how long ago in its title. */
export function when(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  const at = new Date(iso);
  return h('time', { datetime: iso, title: at.toLocaleString() }, ago(at));
}

/** "12 s ago", "5 min ago", "3 h ago", "in 2 days", or the date. */
export function ago(at) {
  const seconds = Math.round((Date.now() - at.getTime()) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  let text;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86400) text = `${Math.round(s / 3600)} h`;
  else if (s < 86400 * 60) text = `${Math.round(s / 86400)} days`;
  else return at.toLocaleDateString();
  return future ? `in ${text}` : `${text} ago`;
}

/**
 * A block of text to copy: a heading, a copy button and the text in a `<pre>`. The button
 * says "Copied" once the clipboard has it; where the browser refuses, the text is selected
 * so Ctrl+C copies it.
 */
export function copyBlock(title, text, id) {
  const pre = h('pre', { id, tabindex: 0, 'aria-label': title }, h('code', {}, text));
  const button = h('button', { type: 'button', class: 'secondary small', 'aria-describedby': id }, `Copy`);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 3000);
  });
  return h('section', {}, h('div', { class: 'copy' }, h('h3', {}, title), button), pre);
}

/** A definition list of facts: `[[term, value], ...]` (null values are skipped). */
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, v]) => v !== null && v !== undefined).map(([t, v]) => [h('dt', {}, t), h('dd', {}, v)]));
}

/** A paragraph saying what an empty list would hold, and how to fill it. */
export function empty(...children) {
  return h('p', { class: 'empty' }, ...children);
}

/** The error paragraph of a failed call (problem+json detail and field errors). */
export function failure(error) {
  const fields = (error.problem?.errors || []).map((e) => h('li', {}, `${e.field}: ${e.message}`));
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, error.message),
    fields.length ? h('ul', {}, fields) : null);
}

/**
 * Wires `form` so submitting it runs `action(fields)` with the form's values, disables the
 * submit button meanwhile, and shows a failure in `form`'s status element.
 */
export function onSubmit(form, action) {
  const status = h('div', { class: 'status', role: 'status' });
  form.append(status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    status.replaceChildren();
    try {
      await action(Object.fromEntries(new FormData(form)));
    } catch (error) {
      status.replaceChildren(failure(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/**
 * A button in a table row that changes something (revoke, remove): disabled while `action`
 * runs; when it fails, the button says why. `ask`, when given, is confirmed first.
 */
export function rowAction(text, label, action, ask) {
  return h('button', {
    type: 'button', class: 'danger small', 'aria-label': label,
    onclick: async (event) => {
      const button = event.currentTarget;
      if (ask && !confirm(ask)) return;
      button.disabled = true;
      try {
        await action();
      } catch (error) {
        button.disabled = false;
        button.textContent = `${text} failed: ${error.message}`;
      }
    },
  }, text);
}

/** A labelled input: `field('Name', { name: 'name', required: true }, 'hint')`. */
export function field(label, props, hint) {
  const id = `f-${props.name}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const input = props.options
    ? h('select', { id, name: props.name }, props.options.map(([value, text]) =>
      h('option', { value, selected: value === props.value }, text)))
    : h('input', { type: 'text', id, 'aria-describedby': hintId, ...props });
  return [h('label', { for: id }, label), input, hint ? h('p', { id: hintId, class: 'hint' }, hint) : null];
}
