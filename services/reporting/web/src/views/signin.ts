// Sign-in: paste a bearer token (from the park's identity provider, or `npm run token`); where the
// service allows development sign-in (`npm start`), buttons that mint one.

import type { DashboardConfig, DevEnterprises } from '../../../src/dashboard/contract';
import { describe, getJson, postJson } from '../api';
import { field, select } from '../controls';
import { h, notice } from '../dom';

export function signInView(
  config: DashboardConfig,
  message: string | undefined,
  signIn: (token: string) => void,
): HTMLElement {
  const problem = h('div', { 'aria-live': 'assertive' });
  const tokenInput = h('textarea', {
    id: 'token',
    rows: 4,
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const form = h(
    'form',
    { class: 'signin-form', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title' }, 'Sign in'),
    message ? notice(message, 'warning') : null,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'token' }, 'Bearer token'),
      tokenInput,
      h('p', { class: 'hint' }, 'A JWT from the park’s identity provider (kept in this tab only).'),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = tokenInput.value.trim().replace(/^Bearer\s+/i, '');
    if (value) signIn(value);
  });

  const dev = h('div');
  if (config.devSignIn) {
    const mint = async (body: { role: string; enterpriseId?: string }) => {
      try {
        signIn((await postJson<{ token: string }>('/dashboard/dev/sign-in', body)).token);
      } catch (error) {
        problem.replaceChildren(notice(describe(error), 'error'));
      }
    };
    void getJson<DevEnterprises>('/dashboard/dev/enterprises').then(({ enterprises }) => {
      let chosen = enterprises[0]?.enterpriseId ?? '';
      dev.replaceChildren(
        h(
          'section',
          { class: 'signin-form', 'aria-labelledby': 'dev-title' },
          h('h2', { id: 'dev-title' }, 'Development sign-in'),
          h(
            'p',
            { class: 'hint' },
            'This service was started for development (npm start): it signs tokens for anyone.',
          ),
          h(
            'button',
            { type: 'button', class: 'primary', onclick: () => void mint({ role: 'operator' }) },
            'Sign in as operator',
          ),
          enterprises.length === 0
            ? notice('No enterprises registered yet.')
            : h(
                'div',
                { class: 'row' },
                field(
                  'Enterprise',
                  select(
                    enterprises.map((e) => ({
                      value: e.enterpriseId,
                      label: `${e.name} (${e.enterpriseId})`,
                    })),
                    chosen,
                    (value) => (chosen = value),
                  ),
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: () => void mint({ role: 'enterprise', enterpriseId: chosen }),
                  },
                  'Sign in as this enterprise',
                ),
              ),
        ),
      );
    });
  }
  return h('div', { class: 'signin', 'data-view': 'signin' }, form, dev, problem);
}
