/**
 * Where a media URL keeps its secrets, found by taking the URL apart rather than by searching it for a key:
 * the user info (a password may hold an unencoded `/`, which no URL parser takes, so it runs to the last `@` of
 * the authority-and-path), the path (an RTMP stream key after the app, an RTSP path that is itself the secret)
 * and the query (SRT's `passphrase=` and `streamid=`, tokens).
 */
export interface UrlParts {
  readonly scheme: string;
  /** The user info, without its `@` (empty when none). */
  readonly userinfo: string;
  /** `host` or `host:port`. */
  readonly host: string;
  /** The path's segments (`/live2/key` → `['live2', 'key']`; a trailing `/` gives a last empty one). */
  readonly segments: readonly string[];
  /** The query without its `?` (empty when none); a `#` is part of it (SRT's `streamid=#!::r=…`). */
  readonly query: string;
}

/**
 * Takes a `scheme://…` URL apart, or undefined when it is not one. The user info is what comes before the last `@`
 * ahead of the query, so `rtmp://u:pa/ss@h/app/key` has the user info `u:pa/ss` and the host `h`.
 * @example
 * urlParts('srt://10.0.0.2:9000?passphrase=s3cret')?.query; // 'passphrase=s3cret'
 */
export function urlParts(url: string): UrlParts | undefined {
  const text = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (!scheme) return undefined;
  let rest = text.slice(scheme[0].length);
  const question = rest.indexOf('?');
  const query = question < 0 ? '' : rest.slice(question + 1);
  if (question >= 0) rest = rest.slice(0, question);
  const at = rest.lastIndexOf('@');
  const userinfo = at < 0 ? '' : rest.slice(0, at);
  const hostAndPath = rest.slice(at + 1);
  const slash = hostAndPath.indexOf('/');
  const host = slash < 0 ? hostAndPath : hostAndPath.slice(0, slash);
  const segments = slash < 0 ? [] : hostAndPath.slice(slash + 1).split('/');
  return { scheme: scheme[1]!.toLowerCase(), userinfo, host, segments, query };
}

/** Path segments shown as they are: an RTMP URL's app (`live2`), when a key follows it; nothing of other paths. */
function shownSegments(parts: UrlParts): number {
  return /^rtmps?$/.test(parts.scheme) && parts.segments.length > 1 ? 1 : 0;
}

/**
 * The URL with its secrets hidden: user info, every path segment but an RTMP app, and the query each
 * become `***`, e.g. `rtmp://user:pw@host/app/key?x=1` → `rtmp://***@host/app/***?***`. Text that is no URL shows
 * only its scheme, if it has one.
 * @example
 * redactUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh'); // 'rtmp://a.rtmp.youtube.com/live2/***'
 * redactUrl('rtsp://cam.local:8554/s3cret/stream'); // 'rtsp://cam.local:8554/***'
 */
export function redactUrl(url: string): string {
  const parts = urlParts(url);
  if (!parts) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1];
    return scheme ? `${scheme}:***` : '***';
  }
  const keep = shownSegments(parts);
  const path = parts.segments.length === 0 ? '' : `/${[...parts.segments.slice(0, keep), '***'].join('/')}`;
  return `${parts.scheme}://${parts.userinfo ? '***@' : ''}${parts.host}${path}${parts.query ? '?***' : ''}`;
}

/**
 * The secret pieces of a URL, longest first, for hiding them in text that quotes them in other shapes (ffmpeg's
 * stderr may print the path or the query without the rest): the user info and its password, the hidden path,
 * the query and each of its values.
 */
export function urlSecrets(url: string): string[] {
  const parts = urlParts(url);
  if (!parts) return url.trim() === '' ? [] : [url.trim()];
  const hiddenPath = parts.segments.slice(shownSegments(parts)).join('/');
  const password = parts.userinfo.includes(':') ? parts.userinfo.slice(parts.userinfo.indexOf(':') + 1) : '';
  const queryValues = parts.query.split('&').map((pair) => pair.slice(pair.indexOf('=') + 1));
  const pieces = [parts.userinfo, password, hiddenPath, ...parts.segments.slice(shownSegments(parts)), parts.query, ...queryValues];
  // Very short pieces ("1", "on") would blank out ordinary words of the text; they are no secret worth that.
  return [...new Set(pieces.filter((piece) => piece.length >= 3))].sort((a, b) => b.length - a.length);
}

/**
 * `text` with the URL, and every secret piece of it in any other shape, replaced by its redacted form or `***`.
 * @example
 * redactIn('Connection to rtmp://h/app/k3y failed: k3y refused', 'rtmp://h/app/k3y'); // 'Connection to rtmp://h/app/*** failed: *** refused'
 */
export function redactIn(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  for (const secret of urlSecrets(url)) out = out.split(secret).join('***');
  return out;
}
