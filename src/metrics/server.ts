import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Parses "host:port" or "[v6]:port"; throws an Error naming the bad value. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:[\]]+):(\d+)$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`metrics.listen: expected "host:port" (IPv6 as "[::1]:9464"), got "${listen}"`);
  }
  return { host: m[1]!, port };
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Serves GET /metrics from `registry`; 404 elsewhere, 405 for other methods. */
export function serveMetrics(listen: string, registry: Registry): Promise<MetricsServer> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseListen(listen));
  } catch (err) {
    return Promise.reject(err);
  }

  const server = createServer((req, res) => {
    handle(req, res, registry).catch(() => {
      // handle() already answers on failure; this only guards a socket that died meanwhile.
      if (!res.headersSent) reply(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // A scrape is one short request; do not let idle keep-alive sockets hold close() up.
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;

  return new Promise<MetricsServer>((resolve, reject) => {
    const onListenError = (err: NodeJS.ErrnoException): void => {
      const where = formatHostPort(host, port);
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.message;
      reject(new Error(`metrics.listen: cannot listen on ${where}: ${why}`, { cause: err }));
    };
    server.once('error', onListenError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onListenError);
      // Errors after listening (rare: e.g. EMFILE on accept) must not crash the daemon.
      server.on('error', () => {});
      const addr = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        address: { host, port: addr.port },
        close() {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, registry: Registry): Promise<void> {
  const q = req.url?.indexOf('?') ?? -1;
  const path = q === -1 ? req.url : req.url!.slice(0, q);
  if (path !== '/metrics') {
    reply(res, 404, 'not found; metrics are at /metrics\n');
    return;
  }
  // HEAD is GET without a body (HTTP requires servers to accept it); node drops the body.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    reply(res, 405, 'method not allowed\n');
    return;
  }
  let body: string;
  try {
    body = await registry.metrics();
  } catch (err) {
    reply(res, 500, `collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', registry.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
