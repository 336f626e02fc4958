import { randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { promisify } from 'node:util';

/** node's scrypt with our parameters' shape, as a promise. */
export const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** scrypt's output length for our hashes: 32 bytes, with node's default cost (N 16384, r 8, p 1). */
const KEY_LENGTH = 32;
const HASH_PREFIX = 'scrypt';

/** Who may watch: Basic users (plain passwords from `--auth` or scrypt hashes from `--auth-file`) and/or a token. */
export interface AuthOptions {
  /** user → password (`--auth user:password`) or scrypt hash (`scrypt$SALT$KEY`, base64, as {@link hashPassword} makes). */
  readonly users?: Readonly<Record<string, string>>;
  /** A shared secret, accepted as `?token=` in the URL or `Authorization: Bearer`. */
  readonly token?: string;
}

/**
 * A `--auth-file` line for a user: `user:scrypt$SALT$KEY` (random 16-byte salt, 32-byte key, both base64).
 * @example
 * await hashPassword('alice', 's3cret'); // 'alice:scrypt$…$…'
 */
export async function hashPassword(user: string, password: string): Promise<string> {
  if (user.includes(':')) throw new Error('a user name cannot contain ":"');
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH);
  return `${user}:${HASH_PREFIX}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Parses an `--auth-file`: one `user:scrypt$SALT$KEY` per line; blank lines and `#` comments are skipped. Throws
 * with the line number for anything else (a plain password in the file is refused: that is what `--auth` is for).
 * @example
 * parseAuthFile('alice:scrypt$c2FsdA==$a2V5') // { alice: 'scrypt$c2FsdA==$a2V5' }
 */
export function parseAuthFile(text: string): Record<string, string> {
  const users: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon < 1 || !isPasswordHash(hash)) {
      throw new Error(`line ${index + 1} is not "user:scrypt$SALT$KEY" (make one with the command in the README)`);
    }
    users[user] = hash;
  });
  if (Object.keys(users).length === 0) throw new Error('has no users');
  return users;
}

/** Whether a stored password is one of our scrypt hashes (else it is a plain password from `--auth`). */
export function isPasswordHash(value: string): boolean {
  const [prefix, salt, key, ...rest] = value.split('$');
  return prefix === HASH_PREFIX && rest.length === 0 && !!salt && Buffer.from(key ?? '', 'base64').length === KEY_LENGTH;
}
