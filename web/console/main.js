// The console's entry: the server rendered the header, the navigation and the heading; this
// loads the page's module and lets it fill `#content` from the API. Pages showing live state
// (clusters, DNS) are read again every few seconds while the tab is visible.
import { failure } from './dom.js';

const data = document.body.dataset;
const ROLES = ['viewer', 'admin', 'owner'];

/** What every page module gets: the account, the caller's role and the server's names. */
const context = {
  account: data.account,
  role: data.role,
  cluster: data.cluster,
  issuer: data.issuer,
  domain: data.domain,
  /** Whether the caller's role is at least `role`. */
  can: (role) => ROLES.indexOf(data.role) >= ROLES.indexOf(role),
};

const content = document.getElementById('content');
const page = await import(`./${data.page}.js`);

async function show() {
  try {
    const rendered = await page.render(context);
    content.replaceChildren(...[rendered].flat(Infinity).filter(Boolean));
  } catch (error) {
    content.replaceChildren(failure(error));
  } finally {
    content.setAttribute('aria-busy', 'false');
  }
}

await show();

if (page.refreshSeconds) {
  setInterval(() => {
    // Never pull content from under someone typing or reading a focused element.
    const busy = content.contains(document.activeElement) && document.activeElement !== content;
    if (document.visibilityState === 'visible' && !busy) show();
  }, page.refreshSeconds * 1000);
}
