import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './settings';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  /** Fields on every line, e.g. replica and variant. */
  base?: Record<string, string>;
  /** Defaults to an asynchronous stdout stream. */
  destination?: DestinationStream;
}

/** A logger and a way to write out what it still buffers. */
export interface ProcessLogger {
  logger: Logger;
  /** Writes buffered lines synchronously; call before process.exit. */
  flush(): void;
}

/**
 * Structured JSON logger: one line per event, ISO timestamps, level names instead of numbers.
 * Stdout is written asynchronously (lines written while a write is in flight are coalesced), so logging
 * stays off the request's critical path.
 */
export function createLogger(options: LoggerOptions): ProcessLogger {
  const stdout = options.destination ? undefined : pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? stdout!,
  );
  const flush = () => {
    try {
      stdout?.flushSync();
    } catch {
      // Nothing buffered, or stdout already closed: exiting matters more than the last line.
    }
  };
  return { logger, flush };
}

/** A logger that drops everything, for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
