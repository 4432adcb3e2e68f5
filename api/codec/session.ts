// Browser sign-in for the codec endpoints. The local Temporal UI cannot attach a
// bearer token to its codec calls (it passes an SSO access token only, over https),
// but it can send cookies ("include cross-origin credentials"): an install admin
// signs in once at /codec/login and the token rides in an HttpOnly, SameSite=Strict
// cookie scoped to /codec, checked against the database on every call like a header.
import type { FastifyRequest } from 'fastify';

export const CODEC_COOKIE = 'strata_codec';
const MAX_AGE_SECONDS = 8 * 3600;

export function cookieToken(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CODEC_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** Without an Authorization header, the sign-in cookie stands in for one (set on the raw
 * headers: once a route validates headers, request.headers is a merged copy). */
export function useBearer(request: FastifyRequest, token: string | undefined): void {
  if (!request.headers.authorization && token) request.raw.headers.authorization = `Bearer ${token}`;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${CODEC_COOKIE}=${encodeURIComponent(token)}; Path=/codec; Max-Age=${MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export const CLEARED_COOKIE = `${CODEC_COOKIE}=; Path=/codec; Max-Age=0; HttpOnly; SameSite=Strict`;

export function loginPage(message = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>strata codec sign-in</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}input{width:100%;padding:.4rem;font-family:monospace}</style></head>
<body><h1>Decode payloads in the Temporal UI</h1>
<p>${message || 'Sign in with an install admin token. The Temporal UI can then decode strata payloads through this api: in its Data Encoder settings, set the codec endpoint to this server\'s <code>/codec</code> and turn on <em>Include cross-origin credentials</em>.'}</p>
<form method="post" action="/codec/login"><label>Install admin token <input name="token" type="password" autocomplete="off" required></label>
<p><button type="submit">Sign in for 8 hours</button></p></form>
<form method="post" action="/codec/logout"><button type="submit">Sign out</button></form></body></html>`;
}
