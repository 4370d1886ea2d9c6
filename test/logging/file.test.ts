import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogSystem, type LogSystem } from '../../src/logging/index.js';
import { RotatingFile } from '../../src/logging/file.js';
import { readLines, tempDir } from './helpers.js';

const systems: LogSystem[] = [];
afterEach(async () => {
  for (const system of systems.splice(0)) await system.close();
});

function logFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.startsWith('warden.log')).sort();
}

describe('warden.log rotation', () => {
  it('rotates by rename, keeps `keep` files, and never splits a line', async () => {
    const dir = tempDir();
    const maxBytes = 2048;
    const logs = createLogSystem({ level: 'info', dir, maxBytes, keep: 3 });
    systems.push(logs);
    const live = path.join(dir, 'warden.log');
    const firstIno = fs.statSync(live).ino;

    let seq = 0;
    const padding = 'p'.repeat(60);
    // Log until the first rotation has happened: the original file is now warden.log.1.
    while (!fs.existsSync(`${live}.1`)) {
      logs.logger.info({ seq: seq++, padding }, 'entry');
      expect(seq).toBeLessThan(1000);
    }
    expect(fs.statSync(`${live}.1`).ino).toBe(firstIno);
    expect(fs.statSync(live).ino).not.toBe(firstIno);

    const secondIno = fs.statSync(live).ino;
    while (!fs.existsSync(`${live}.2`)) logs.logger.info({ seq: seq++, padding }, 'entry');
    expect(fs.statSync(`${live}.2`).ino).toBe(firstIno);
    expect(fs.statSync(`${live}.1`).ino).toBe(secondIno);

    for (let i = 0; i < 300; i++) logs.logger.info({ seq: seq++, padding }, 'entry');
    await logs.close();

    expect(logFiles(dir)).toEqual(['warden.log', 'warden.log.1', 'warden.log.2', 'warden.log.3']);
    // Oldest file first, the sequence numbers run on without gaps to the last one written.
    const seqs: number[] = [];
    for (const name of ['warden.log.3', 'warden.log.2', 'warden.log.1', 'warden.log']) {
      const file = path.join(dir, name);
      expect(fs.statSync(file).size).toBeLessThanOrEqual(maxBytes);
      expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
      for (const line of readLines(file)) seqs.push(JSON.parse(line).seq); // throws on a split line
    }
    expect(seqs.at(-1)).toBe(seq - 1);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('appends to an existing warden.log and deletes rotated files beyond `keep`', () => {
    const dir = tempDir();
    const live = path.join(dir, 'warden.log');
    fs.writeFileSync(live, '{"old":1}\n');
    for (const n of [1, 2, 3, 4, 5]) fs.writeFileSync(`${live}.${n}`, `{"n":${n}}\n`);
    fs.writeFileSync(`${live}.bak`, 'not ours\n');

    const file = new RotatingFile({ dir, maxBytes: 30, keep: 2 });
    file.write('{"new":1}\n'); // fits: 10 + 10 bytes
    file.write('{"new":2}\n');
    file.write('{"new":3}\n'); // 30 + 10 > 30 → rotate first
    file.close();

    expect(logFiles(dir)).toEqual(['warden.log', 'warden.log.1', 'warden.log.2', 'warden.log.bak']);
    expect(readLines(`${live}.1`)).toEqual(['{"old":1}', '{"new":1}', '{"new":2}']);
    expect(readLines(`${live}.2`)).toEqual(['{"n":1}']);
    expect(readLines(live)).toEqual(['{"new":3}']);
  });

  it('with keep 0 starts afresh and keeps no rotated file', () => {
    const dir = tempDir();
    const file = new RotatingFile({ dir, maxBytes: 20, keep: 0 });
    file.write('{"a":"0123456789"}\n');
    file.write('{"b":"0123456789"}\n');
    file.close();
    expect(logFiles(dir)).toEqual(['warden.log']);
    expect(readLines(path.join(dir, 'warden.log'))).toEqual(['{"b":"0123456789"}']);
  });

  it('gives a line longer than maxBytes a file of its own', () => {
    const dir = tempDir();
    const file = new RotatingFile({ dir, maxBytes: 16, keep: 5 });
    const big = `{"big":"${'x'.repeat(40)}"}\n`;
    file.write('{"a":1}\n');
    file.write(big);
    file.write('{"b":2}\n');
    file.close();
    const live = path.join(dir, 'warden.log');
    expect(readLines(`${live}.2`)).toEqual(['{"a":1}']);
    expect(readLines(`${live}.1`)).toEqual([big.trimEnd()]);
    expect(readLines(live)).toEqual(['{"b":2}']);
  });

  it('reports an unopenable file once and does not throw', () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'blocker'), '');
    const reports: string[] = [];
    const file = new RotatingFile({ dir: path.join(root, 'blocker', 'logs'), maxBytes: 1024, keep: 1, report: (m) => reports.push(m) });
    for (let i = 0; i < 10; i++) file.write('{"x":1}\n');
    file.flush();
    file.close();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/cannot open log file .*blocker/);
  });
});
