// A small admin login page for the operator pages (Bull Board): GET /admin/login shows a form,
// /admin/login.js posts it as JSON to POST /api/admin/login (same origin, so the session cookie
// is set) and goes back to `next`. No inline script or style: it works under the CSP of
// plugins/security-headers.ts.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

export const ADMIN_LOGIN_PATH = '/admin/login'

/** Only a path of this origin under /admin/ is a place to go back to (no open redirect). */
export function safeNext(next: string | undefined, fallback: string): string {
  return next && /^\/admin\/[A-Za-z0-9/_.:%-]*$/.test(next) && !next.startsWith('//')
    ? next
    : fallback
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

const PAGE = (next: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Xeno admin sign-in</title>
<link rel="stylesheet" href="${ADMIN_LOGIN_PATH}.css">
<script defer src="${ADMIN_LOGIN_PATH}.js"></script>
</head>
<body>
<main>
<h1>Xeno admin</h1>
<form id="login" method="post" action="/api/admin/login" data-next="${escapeHtml(next)}">
<label>Username <input name="username" autocomplete="username" required maxlength="64"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="256"></label>
<button type="submit">Sign in</button>
<p id="error" role="alert" hidden></p>
</form>
</main>
</body>
</html>
`

const SCRIPT = `'use strict'
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('login')
  const error = document.getElementById('error')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.hidden = true
    const data = new FormData(form)
    try {
      const res = await fetch('/api/admin/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: data.get('username'), password: data.get('password') }),
      })
      if (res.ok) {
        window.location.assign(form.dataset.next)
        return
      }
      const body = await res.json().catch(() => ({}))
      error.textContent = (body.error && body.error.message) || 'Sign-in failed (' + res.status + ')'
    } catch {
      error.textContent = 'The server could not be reached'
    }
    error.hidden = false
  })
})
`

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}
main{max-width:22rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1.5rem}label{display:block;margin:0 0 1rem;font-size:.9rem}
input{display:block;width:100%;box-sizing:border-box;margin-top:.3rem;padding:.5rem;font:inherit}
button{padding:.5rem 1.2rem;font:inherit;cursor:pointer}#error{color:#b00020}
`

const text = (description: string, type: string) => ({
  200: { description, content: { [type]: { schema: z.string() } } },
})

/** The login page and its script and style; `fallback` is where to go after login by default. */
export function adminLoginRoutes(deps: { fallback: string }): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.get(
      ADMIN_LOGIN_PATH,
      {
        config: { auth: 'public' },
        schema: {
          tags: ['queues'],
          summary: 'Admin sign-in page (HTML)',
          description:
            'A form that signs in through POST /api/admin/login and goes back to `next` (a path under /admin/).',
          querystring: z.object({ next: z.string().max(2048).optional() }),
          response: text('The sign-in page', 'text/html'),
        },
      },
      async (request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(PAGE(safeNext(request.query.next, deps.fallback))),
    )
    app.get(
      `${ADMIN_LOGIN_PATH}.js`,
      {
        config: { auth: 'public' },
        schema: {
          tags: ['queues'],
          summary: "The sign-in page's script",
          response: text('JavaScript', 'text/javascript'),
        },
      },
      async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(SCRIPT),
    )
    app.get(
      `${ADMIN_LOGIN_PATH}.css`,
      {
        config: { auth: 'public' },
        schema: {
          tags: ['queues'],
          summary: "The sign-in page's style sheet",
          response: text('CSS', 'text/css'),
        },
      },
      async (_request, reply) => reply.type('text/css; charset=utf-8').send(STYLE),
    )
    done()
  }
}
