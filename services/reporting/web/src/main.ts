// The operator dashboard: sign-in, then one of four views chosen by the URL's hash, refreshed
// whenever the service says its projections moved.
//
// <main> carries data-view (the view shown), data-route (its hash) and data-state: "loading"
// while a view fetches, "ready" once it is drawn, "error" when it could not be (the message is
// in the page).

import './styles.css';
import type { DashboardConfig, SessionInfo } from '../../src/dashboard/contract';
import { ApiError, describe, getJson, setToken, token, whenUnauthenticated } from './api';
import { forgetDetached } from './charts';
import { fill, h, notice } from './dom';
import { followChanges, type LiveState } from './live';
import type { Context, View } from './view';
import { dispatchView } from './views/dispatch';
import { enterpriseView } from './views/enterprise';
import { overviewView } from './views/overview';
import { qualityView } from './views/quality';
import { signInView } from './views/signin';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;

let session: SessionInfo | undefined;
let current: { view: View; name: string } | undefined;
let stopLive: (() => void) | undefined;
let config: DashboardConfig = { devSignIn: false };

/** Live refreshes wait at least this long after the previous one. */
const MIN_REFRESH_MS = 3_000;

function parseHash(): { path: string[]; params: URLSearchParams } {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return {
    path: path.split('/').filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(query),
  };
}

function homeOf(s: SessionInfo): string {
  if (s.parkViews) return '#/overview';
  return s.enterpriseId ? `#/enterprise/${encodeURIComponent(s.enterpriseId)}` : '#/overview';
}

function drawNav(s: SessionInfo, active: string) {
  const links: { name: string; href: string; label: string }[] = s.parkViews
    ? [
        { name: 'overview', href: '#/overview', label: 'Overview' },
        {
          name: 'enterprise',
          href: s.enterprises[0]
            ? `#/enterprise/${encodeURIComponent(s.enterprises[0].enterpriseId)}`
            : '#/enterprise',
          label: 'Enterprises',
        },
        { name: 'dispatch', href: '#/dispatch', label: 'Dispatch' },
        { name: 'quality', href: '#/quality', label: 'Data quality' },
      ]
    : [{ name: 'enterprise', href: homeOf(s), label: 'My enterprise' }];
  fill(
    nav,
    h(
      'ul',
      {},
      links.map((link) =>
        h(
          'li',
          {},
          h(
            'a',
            { href: link.href, 'aria-current': link.name === active ? 'page' : undefined },
            link.label,
          ),
        ),
      ),
    ),
  );
}

const liveStatus = h('span', { class: 'live', role: 'status', 'aria-live': 'polite' }, '');
function showLive(state: LiveState) {
  liveStatus.dataset.live = state;
  liveStatus.textContent =
    state === 'live' ? '● Live' : state === 'connecting' ? '○ Connecting…' : '○ Offline, retrying';
}

function drawWho(s: SessionInfo) {
  const enterprise = s.enterprises.find((e) => e.enterpriseId === s.enterpriseId);
  fill(
    who,
    liveStatus,
    h(
      'span',
      { class: 'principal', 'data-role': s.role },
      s.role === 'enterprise'
        ? `${enterprise?.name ?? s.enterpriseId} (enterprise)`
        : `${s.subject} (${s.role})`,
    ),
    h('button', { type: 'button', onclick: () => signOut() }, 'Sign out'),
  );
}

function signOut(message?: string) {
  setToken(undefined);
  session = undefined;
  stopLive?.();
  stopLive = undefined;
  current = undefined;
  fill(nav);
  fill(who);
  main.dataset.view = 'signin';
  main.dataset.route = '';
  main.dataset.state = 'ready';
  fill(
    main,
    signInView(config, message, (value) => {
      setToken(value);
      location.hash = '';
      void start();
    }),
  );
  forgetDetached();
}

let refreshing: Promise<void> | undefined;
let lastRefresh = 0;
let pending = false;

/** Fetches and draws the current view again; calls during one run once more after it. */
async function refresh(): Promise<void> {
  if (refreshing) {
    pending = true;
    return;
  }
  const view = current;
  if (!view) return;
  main.dataset.state = main.dataset.state === 'ready' ? 'ready' : 'loading';
  refreshing = view.view
    .refresh()
    .then(
      () => {
        if (current !== view) return;
        main.dataset.state = 'ready';
        main.querySelector('.view-error')?.remove();
      },
      (error: unknown) => {
        if (current !== view) return;
        main.dataset.state = 'error';
        main.querySelector('.view-error')?.remove();
        const message = notice(describe(error), 'error');
        message.classList.add('view-error');
        if (error instanceof ApiError && error.status === 403) message.dataset.denied = 'true';
        view.view.root.prepend(message);
      },
    )
    .finally(() => {
      refreshing = undefined;
      lastRefresh = Date.now();
      forgetDetached();
      if (pending) {
        pending = false;
        void refresh();
      }
    });
  await refreshing;
}

function onDataChanged() {
  const wait = Math.max(0, lastRefresh + MIN_REFRESH_MS - Date.now());
  setTimeout(() => void refresh(), wait);
}

function openRoute() {
  if (!session) return;
  const { path, params } = parseHash();
  const [name = '', id] = path;
  const ctx: Context = {
    session,
    params,
    navigate: (hash) => {
      location.hash = hash;
    },
  };
  let view: View | undefined;
  if (name === 'enterprise' && id) view = enterpriseView(ctx, id);
  else if (session.parkViews && name === 'overview') view = overviewView(ctx);
  else if (session.parkViews && name === 'dispatch') view = dispatchView(ctx);
  else if (session.parkViews && name === 'quality') view = qualityView(ctx);
  if (!view) {
    // No view of that name for this caller: its home (an enterprise: its own page).
    const home = homeOf(session);
    if (location.hash !== home) {
      location.replace(home);
      return;
    }
    fill(main, notice('There is nothing to show: no park is registered yet.', 'warning'));
    main.dataset.state = 'ready';
    return;
  }
  current = { view, name };
  drawNav(session, name);
  main.dataset.view = name;
  main.dataset.route = location.hash;
  main.dataset.state = 'loading';
  fill(main, view.root);
  forgetDetached();
  void refresh();
}

async function start(): Promise<void> {
  main.dataset.state = 'loading';
  if (!token()) {
    signOut();
    return;
  }
  try {
    session = await getJson<SessionInfo>('/v1/dashboard/session');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // signed out by the handler
    signOut(describe(error));
    return;
  }
  drawWho(session);
  stopLive = followChanges(session.events, onDataChanged, showLive);
  if (!location.hash || location.hash === '#/') location.replace(homeOf(session));
  openRoute();
}

whenUnauthenticated((detail) => signOut(`Signed out: ${detail}.`));
window.addEventListener('hashchange', () => {
  if (!session) return;
  if (!location.hash || location.hash === '#/') location.replace(homeOf(session));
  else openRoute();
});

void getJson<DashboardConfig>('/dashboard/config.json')
  .then((answer) => (config = answer))
  .catch(() => undefined)
  .then(() => start());
