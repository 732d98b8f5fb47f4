import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { ModelLoadError, loadClassifier, type OnnxClassifier } from './classifier';
import { createLogger } from './logger';
import { SettingsError, resolveApiSettings, type ApiSettings } from './settings';

/** In-flight requests get this long after SIGTERM; below Docker's 10 s stop timeout, so we exit on our own. */
export const SHUTDOWN_GRACE_MS = 8000;

// While draining, keep-alive sockets that go idle are closed at this pace (server.close() only closes
// the ones idle at the moment it is called).
const IDLE_SWEEP_MS = 50;

function exitWithStartupError(message: string): never {
  process.stderr.write(`api: cannot start: ${message}\n`);
  process.exit(1);
}

/** Starts one replica from the environment: settings, model, app, HTTP server, signal handling. */
async function main(): Promise<void> {
  let settings: ApiSettings;
  try {
    settings = resolveApiSettings(process.env);
  } catch (error) {
    if (error instanceof SettingsError) exitWithStartupError(`invalid configuration: ${error.message}`);
    throw error;
  }
  const { logger, flush } = createLogger({
    level: settings.logLevel,
    base: { replica: settings.replicaId, variant: settings.variant },
  });
  const exit = (code: number): never => {
    flush();
    process.exit(code);
  };
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled rejection');
    exit(1);
  });

  let classifier: OnnxClassifier;
  try {
    classifier = await loadClassifier(settings.modelPath);
  } catch (error) {
    const message = error instanceof ModelLoadError ? error.message : `cannot load model: ${String(error)}`;
    logger.fatal({ modelPath: settings.modelPath }, message);
    flush();
    exitWithStartupError(message);
  }

  let accepting = true;
  const app = createApp({
    variant: settings.variant,
    classifier,
    replicaId: settings.replicaId,
    logger,
    isAccepting: () => accepting,
  });
  const server = serve(
    {
      fetch: app.fetch,
      port: settings.port,
      hostname: settings.host,
      createServer,
      // Idle keep-alive outlives nginx's default upstream keepalive_timeout (60 s), so the gateway,
      // not this replica, closes idle connections and never races a request against a close.
      serverOptions: { keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 30_000 },
    },
    (info: AddressInfo) =>
      logger.info(
        { host: info.address, port: info.port, model: classifier.info.name, sha256: classifier.info.sha256 },
        'listening',
      ),
  ) as Server;
  server.on('error', (error) => {
    logger.fatal({ err: error, host: settings.host, port: settings.port }, 'cannot listen');
    flush();
    exitWithStartupError(`cannot listen on ${settings.host}:${settings.port}: ${error.message}`);
  });

  const shutdown = (signal: NodeJS.Signals) => {
    if (!accepting) return;
    accepting = false;
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => {
      logger.error(
        { graceMs: SHUTDOWN_GRACE_MS },
        'in-flight requests did not finish in time; closing connections',
      );
      server.closeAllConnections();
      exit(1);
    }, SHUTDOWN_GRACE_MS);
    // Stops listening at once; the callback runs when the last connection has closed.
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      void classifier.close().finally(() => {
        logger.info('stopped');
        exit(0);
      });
    });
    logger.info({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'draining');
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((error: unknown) =>
    exitWithStartupError(error instanceof Error ? error.message : String(error)),
  );
}
