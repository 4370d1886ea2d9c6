/**
 * Who a plugin is on the host. A daemon running as root never lets a plugin keep root: it names an
 * unprivileged identity (`sandbox.user`), resolved here from /etc/passwd and /etc/group.
 */
import { readFileSync } from 'node:fs';

export interface Identity {
  uid: number;
  gid: number;
  /** The user name, or the uid as text when it has no passwd entry. */
  name: string;
}

/** The user a root daemon prefers when `sandbox.user` is null; `nobody` when it does not exist. */
export const DEDICATED_USER = 'warden-plugin';
const FALLBACK_USER = 'nobody';

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The passwd entry for a user name: uid and primary gid, or null. */
export function lookupUser(name: string, passwd = readOr('/etc/passwd')): Identity | null {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid)) {
      return { uid: Number(uid), gid: Number(gid), name };
    }
  }
  return null;
}

/**
 * `sandbox.user` made concrete: "name", "uid:gid", or null (the dedicated user, else nobody).
 * Throws a message fit for the start-up log when the user is unknown or is root.
 */
export function resolveIdentity(setting: string | null, passwd = readOr('/etc/passwd')): Identity {
  let identity: Identity | null;
  if (setting === null) {
    identity = lookupUser(DEDICATED_USER, passwd) ?? lookupUser(FALLBACK_USER, passwd) ?? { uid: 65534, gid: 65534, name: '65534' };
  } else if (/^\d+:\d+$/.test(setting)) {
    const [uid, gid] = setting.split(':').map(Number) as [number, number];
    identity = { uid, gid, name: String(uid) };
  } else {
    identity = lookupUser(setting, passwd);
    if (!identity) throw new Error(`sandbox.user: no user named ${JSON.stringify(setting)} in /etc/passwd`);
  }
  if (identity.uid === 0 || identity.gid === 0) {
    throw new Error(`sandbox.user: ${setting ?? identity.name} is root (uid ${identity.uid}, gid ${identity.gid}); plugins must never run as root`);
  }
  return identity;
}

/** The minimal /etc/passwd and /etc/group a sandbox sees: root, the plugin's own identity, nobody. */
export function sandboxAccounts(identity: Identity): { passwd: string; group: string } {
  const users = new Map<number, string>([
    [0, 'root:x:0:0:root:/:/usr/sbin/nologin'],
    [65534, 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'],
  ]);
  users.set(identity.uid, `plugin:x:${identity.uid}:${identity.gid}:warden plugin:/tmp:/usr/sbin/nologin`);
  const groups = new Map<number, string>([
    [0, 'root:x:0:'],
    [65534, 'nogroup:x:65534:'],
  ]);
  groups.set(identity.gid, `plugin:x:${identity.gid}:`);
  const text = (lines: Map<number, string>) => `${[...lines.values()].join('\n')}\n`;
  return { passwd: text(users), group: text(groups) };
}
