import { describe, expect, it } from 'vitest';
import {
  approve,
  beyondBaseline,
  describeRequest,
  isEmptyRequest,
  operatorFieldsOf,
  reloadRefusedReason,
  waitingReason,
  type OperatorFields,
  type PermissionRequest,
} from '../../src/policies/approval.js';
import type { Permissions } from '../../src/manifest/types.js';

const DIR = '/p/plug';

function permissions(extra: Partial<Permissions> = {}): Permissions {
  return { fs: { read: [], write: [] }, network: false, childProcess: false, env: [], ...extra };
}

function request(extra: Partial<PermissionRequest> = {}): PermissionRequest {
  return { network: false, childProcess: false, env: [], fs: { read: [], write: [] }, ...extra };
}

const NONE: OperatorFields = { fsRead: false, fsWrite: false, network: false, childProcess: false, env: false };

describe('beyondBaseline', () => {
  it('a plugin that stays in its folder asks for nothing', () => {
    const r = beyondBaseline(permissions({ fs: { read: [DIR, `${DIR}/data`], write: [`${DIR}/out`, `${DIR}/`] } }), DIR);
    expect(r).toEqual(request());
    expect(isEmptyRequest(r)).toBe(true);
  });

  it('keeps network, childProcess, env and every path outside the folder', () => {
    const r = beyondBaseline(
      permissions({
        network: true,
        childProcess: true,
        env: ['ZED', 'FEED_TOKEN', 'ZED'],
        fs: { read: ['/srv/data', `${DIR}/data`, '/etc/ssl'], write: ['/srv/out', `${DIR}/out`] },
      }),
      DIR,
    );
    expect(r).toEqual({
      network: true,
      childProcess: true,
      env: ['FEED_TOKEN', 'ZED'],
      fs: { read: ['/etc/ssl', '/srv/data'], write: ['/srv/out'] },
    });
    expect(isEmptyRequest(r)).toBe(false);
  });

  it('a sibling folder sharing the prefix is outside; so are the parent and escapes through ..', () => {
    const r = beyondBaseline(
      permissions({ fs: { read: ['/p/plugin2', '/p/plug2/x', '/p', `${DIR}/../other`, `${DIR}/a/../b`], write: ['/p/plug-data'] } }),
      DIR,
    );
    expect(r.fs).toEqual({ read: ['/p', '/p/other', '/p/plug2/x', '/p/plugin2'], write: ['/p/plug-data'] });
  });

  it('a plugin folder given with a trailing slash or unnormalized is the same folder', () => {
    expect(beyondBaseline(permissions({ fs: { read: [`${DIR}/x`], write: ['/p/plugin2'] } }), `${DIR}/`).fs).toEqual({
      read: [],
      write: ['/p/plugin2'],
    });
    expect(beyondBaseline(permissions({ fs: { read: [`${DIR}/x`], write: [] } }), '/p/./q/../plug').fs.read).toEqual([]);
  });

  it('deduplicates paths that are written differently', () => {
    expect(beyondBaseline(permissions({ fs: { read: ['/srv/data', '/srv/data/', '/srv//data'], write: [] } }), DIR).fs.read).toEqual([
      '/srv/data',
    ]);
  });
});

describe('approve', () => {
  const everything = request({
    network: true,
    childProcess: true,
    env: ['A', 'B'],
    fs: { read: ['/srv/data', '/srv/more'], write: ['/srv/out'] },
  });

  it('nothing requested: approved without a grant', () => {
    expect(approve({ requested: request(), granted: null, operatorFields: NONE, mode: 'required' })).toEqual({ approved: true });
  });

  it('without a grant, everything requested is missing', () => {
    expect(approve({ requested: everything, granted: null, operatorFields: NONE, mode: 'required' })).toEqual({
      approved: false,
      missing: everything,
    });
  });

  it('declared mode approves everything', () => {
    expect(approve({ requested: everything, granted: null, operatorFields: NONE, mode: 'declared' })).toEqual({ approved: true });
  });

  it('the grant of the same request approves it', () => {
    expect(approve({ requested: everything, granted: everything, operatorFields: NONE, mode: 'required' })).toEqual({ approved: true });
  });

  it('a smaller request than the grant is approved; a larger one misses only the difference', () => {
    const smaller = request({ env: ['B'], fs: { read: ['/srv/data'], write: [] } });
    expect(approve({ requested: smaller, granted: everything, operatorFields: NONE, mode: 'required' })).toEqual({ approved: true });

    const larger = request({ network: true, env: ['A', 'C'], fs: { read: ['/srv/data', '/etc'], write: ['/srv/out', '/var/x'] } });
    const granted = request({ env: ['A'], fs: { read: ['/srv/data'], write: ['/srv/out'] } });
    expect(approve({ requested: larger, granted, operatorFields: NONE, mode: 'required' })).toEqual({
      approved: false,
      missing: request({ network: true, env: ['C'], fs: { read: ['/etc'], write: ['/var/x'] } }),
    });
  });

  it('a granted path covers itself and paths inside it, not siblings sharing its prefix', () => {
    const granted = request({ fs: { read: ['/srv/data'], write: ['/srv/out'] } });
    const requested = request({
      fs: { read: ['/srv/data', '/srv/data/sub', '/srv/data2', '/srv/out/x'], write: ['/srv/data/w', '/srv/out/deep/er', '/srv/outside'] },
    });
    expect(approve({ requested, granted, operatorFields: NONE, mode: 'required' })).toEqual({
      approved: false,
      // Reading inside a granted write path is covered (it is mounted read-write); writing into a read grant is not.
      missing: request({ fs: { read: ['/srv/data2'], write: ['/srv/data/w', '/srv/outside'] } }),
    });
  });

  it('network and childProcess granted false do not cover true', () => {
    const r = approve({
      requested: request({ network: true, childProcess: true }),
      granted: request(),
      operatorFields: NONE,
      mode: 'required',
    });
    expect(r).toEqual({ approved: false, missing: request({ network: true, childProcess: true }) });
  });

  it('each field the operator set counts as approved, field by field', () => {
    const approvedBy = (operatorFields: OperatorFields) =>
      approve({ requested: everything, granted: null, operatorFields, mode: 'required' });
    expect(approvedBy({ ...NONE, network: true })).toEqual({ approved: false, missing: { ...everything, network: false } });
    expect(approvedBy({ ...NONE, childProcess: true })).toEqual({ approved: false, missing: { ...everything, childProcess: false } });
    expect(approvedBy({ ...NONE, env: true })).toEqual({ approved: false, missing: { ...everything, env: [] } });
    expect(approvedBy({ ...NONE, fsRead: true })).toEqual({
      approved: false,
      missing: { ...everything, fs: { read: [], write: ['/srv/out'] } },
    });
    expect(approvedBy({ ...NONE, fsWrite: true })).toEqual({
      approved: false,
      missing: { ...everything, fs: { read: ['/srv/data', '/srv/more'], write: [] } },
    });
    expect(approvedBy({ fsRead: true, fsWrite: true, network: true, childProcess: true, env: true })).toEqual({ approved: true });
  });

  it('operator fields and a grant combine', () => {
    const granted = request({ env: ['A', 'B'], fs: { read: ['/srv'], write: ['/srv/out'] } });
    expect(
      approve({ requested: everything, granted, operatorFields: { ...NONE, network: true, childProcess: true }, mode: 'required' }),
    ).toEqual({ approved: true });
  });
});

describe('operatorFieldsOf', () => {
  it('marks exactly the fields the operator wrote, false ones and empty lists included', () => {
    expect(operatorFieldsOf(undefined)).toEqual(NONE);
    expect(operatorFieldsOf({})).toEqual(NONE);
    expect(operatorFieldsOf({ network: false, env: [], fs: { write: [] } })).toEqual({
      ...NONE,
      network: true,
      env: true,
      fsWrite: true,
    });
    expect(operatorFieldsOf({ childProcess: true, fs: { read: ['/x'] } })).toEqual({ ...NONE, childProcess: true, fsRead: true });
  });
});

describe('wording', () => {
  const asked = request({
    network: true,
    childProcess: true,
    env: ['FEED_TOKEN'],
    fs: { read: ['/srv/data'], write: ['/srv/out'] },
  });

  it('describeRequest lists each item in a fixed order', () => {
    expect(describeRequest(asked)).toBe('network, childProcess, env FEED_TOKEN, fs.read /srv/data, fs.write /srv/out');
    expect(describeRequest(request({ env: ['A', 'B'] }))).toBe('env A, env B');
    expect(describeRequest(request())).toBe('nothing');
  });

  it('describeRequest quotes items that would read ambiguously', () => {
    expect(describeRequest(request({ fs: { read: ['/srv/my data', '/a,b'], write: [] } }))).toBe(
      'fs.read "/srv/my data", fs.read "/a,b"',
    );
  });

  it('waitingReason names what is asked for and the command that approves it', () => {
    expect(waitingReason('feed-reader', request({ network: true, env: ['FEED_TOKEN'] }))).toBe(
      'waiting for the operator to approve: network, env FEED_TOKEN; run `warden plugin grant feed-reader`',
    );
  });

  it('reloadRefusedReason says the new version asks for more', () => {
    expect(reloadRefusedReason('feed-reader', request({ network: true }))).toBe(
      'the new version asks for permissions not approved: network; run `warden plugin grant feed-reader` to approve them',
    );
  });
});
