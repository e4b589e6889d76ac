// The console's pages, in menu order. A page is {id, title, render(main, ctx)} where render
// fills `main` and may return a function that stops its timers when the page is left.
//
// Extension hook: a later page (Code Mode: the servers reached through it and the stubs a key
// sees) is a module that calls registerPage({id: 'code-mode', title: 'Code Mode', render}) and is
// imported at the end of app.js; the menu, routing (#/code-mode) and keyboard handling need no change.
import overview from './pages/overview.js';
import servers from './pages/servers.js';
import access from './pages/access.js';
import audit from './pages/audit.js';

export const pages = [overview, servers, access, audit];

export function registerPage(page) {
  if (!page || !page.id || !page.title || typeof page.render !== 'function') {
    throw new Error('a console page needs id, title and render(main, ctx)');
  }
  if (pages.some((p) => p.id === page.id)) throw new Error('duplicate console page ' + page.id);
  pages.push(page);
}
