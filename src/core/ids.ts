/** Resource IDs shaped like Tencent's: `vpc-` + 8 lowercase alphanumerics. */
import { randomBytes, randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet = ALPHABET): string {
  const bytes = randomBytes(length);
  let s = '';
  // 256 % 36 != 0, so reject the top of the byte range to keep the choice uniform.
  for (let i = 0; s.length < length; i++) {
    const b = i < bytes.length ? bytes[i]! : randomInt(256);
    if (b < 252) s += alphabet[b % alphabet.length];
  }
  return s;
}

export const newId = (prefix: string) => `${prefix}-${randomString(8)}`;

export const newRequestId = () => crypto.randomUUID();

/** A MAC address in the locally administered, unicast range 52:54:xx:xx:xx:xx. */
export function newMac(): string {
  return ['52', '54', ...Array.from(randomBytes(4), (b) => b.toString(16).padStart(2, '0'))].join(':');
}
