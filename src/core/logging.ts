import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Log levels accepted by `KILN_LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Kiln's structured logger: one JSON line per event on stderr, so stdout stays free for command
 * output (`kiln config --json | jq`).
 */
export function createLogger(level: LogLevel, name = 'kiln'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
