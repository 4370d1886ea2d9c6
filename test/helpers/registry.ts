// A local npm registry stand-in: packuments and tarballs served on 127.0.0.1, enough for `npm pack`,
// `npm view` and `npm install` with `--registry`.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { create } from 'tar';

export interface PackageVersion {
  name: string;
  version: string;
  /** Files of the package besides package.json. */
  files: Record<string, string>;
  /** More package.json fields (dependencies, type, main). */
  extra?: Record<string, unknown>;
}

export interface Registry {
  /** The registry URL for --registry (with its trailing slash). */
  url: string;
  /** Each tarball's npm integrity, by `name@version`. */
  integrity: Map<string, string>;
  close(): Promise<void>;
}

/** Serves `versions` (tarballs built in `work`) until closed. */
export async function startRegistry(work: string, versions: PackageVersion[]): Promise<Registry> {
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, { name: string; 'dist-tags': { latest: string }; versions: Record<string, unknown> }>();
  const integrity = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '');
    const tarball = tarballs.get(url);
    if (tarball) return void response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
    const packument = packuments.get(url.slice(1));
    if (packument) return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const { name, version, files, extra } of versions) {
    const root = join(work, `${name}-${version}`);
    mkdirSync(join(root, 'package'), { recursive: true });
    const pkg = { name, version, ...extra };
    writeFileSync(join(root, 'package/package.json'), JSON.stringify(pkg));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(root, 'package', file), text);
    const file = `${root}.tgz`;
    await create({ gzip: true, file, cwd: root, portable: true }, ['package']);
    const bytes = readFileSync(file);
    const sri = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
    integrity.set(`${name}@${version}`, sri);
    const path = `/${name}/-/${name}-${version}.tgz`;
    tarballs.set(path, bytes);
    const packument = packuments.get(name) ?? { name, 'dist-tags': { latest: version }, versions: {} };
    packument.versions[version] = { ...pkg, dist: { tarball: `${base}${path}`, integrity: sri, shasum: createHash('sha1').update(bytes).digest('hex') } };
    packument['dist-tags'].latest = version;
    packuments.set(name, packument);
  }
  return { url: `${base}/`, integrity, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
