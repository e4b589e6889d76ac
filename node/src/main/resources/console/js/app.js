// The console's entry: sign-in, the menu, hash routing (#/servers), logout.
import { h, clear } from './dom.js';
import { get, setToken, signedIn, onUnauthorized, ApiError } from './api.js';
import { pages } from './pages.js';

const $ = (id) => document.getElementById(id);
let stopPage = null;

function showLogin(message) {
  setToken(null);
  if (stopPage) { stopPage(); stopPage = null; }
  clear($('main'));
  $('shell').hidden = true;
  $('login').hidden = false;
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('login-token').value = '';
  $('login-token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('login-token');
  const candidate = input.value;
  input.value = '';
  setToken(candidate);
  try {
    await get('/api/v1/cluster');
    await get('/api/v1/keys');
  } catch (e) {
    setToken(null);
    let msg = e.message;
    if (e instanceof ApiError && e.status === 401) msg = 'That admin token was refused. Check admin.token in the node\'s config.';
    if (e instanceof ApiError && e.status === 404) msg = e.message; // the admin API is disabled: the node says how to enable it
    showLogin(msg);
    return;
  }
  $('login').hidden = true;
  $('shell').hidden = false;
  buildNav();
  route();
}

function buildNav() {
  const nav = clear($('nav'));
  for (const p of pages) {
    nav.append(h('a', { href: '#/' + p.id, id: 'nav-' + p.id }, p.title));
  }
}

function route() {
  if (!signedIn()) return;
  const id = (location.hash.replace(/^#\/?/, '') || pages[0].id).split('?')[0];
  const page = pages.find((p) => p.id === id) || pages[0];
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.id === 'nav-' + page.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (stopPage) { stopPage(); stopPage = null; }
  const main = clear($('main'));
  document.title = page.title + ' · Bastion console';
  main.append(h('h1', {}, page.title));
  const stop = page.render(main, { go: (to) => { location.hash = '#/' + to; } });
  stopPage = typeof stop === 'function' ? stop : null;
  main.focus({ preventScroll: true });
}

$('login-form').addEventListener('submit', signIn);
$('logout').addEventListener('click', () => showLogin('Logged out.'));
window.addEventListener('hashchange', route);
onUnauthorized(() => showLogin('The admin token is no longer accepted; sign in again.'));
showLogin('');
import './pages/codemode.js';
