/**
 * How the example CLIs fail: one line on stderr naming the problem and the fix, exit status 1, and a stack
 * trace only with `--verbose` (or TAPESTRY_VERBOSE=1). A stack trace is for whoever debugs tapestry, not
 * for someone who mistyped a path.
 */
import type { Command } from 'commander';

/** A mistake in how a CLI was called (an option that conflicts with a checkpoint, say); its message names the fix. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Whether stack traces were asked for: `--verbose` among the arguments or TAPESTRY_VERBOSE=1. */
export function verboseRequested(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--verbose') || env.TAPESTRY_VERBOSE === '1';
}

// What to do about the system errors a CLI meets most, by errno code.
const SYSTEM_FIXES: Record<string, [string, string]> = {
  ENOENT: ['no such file or directory', 'check the path'],
  EACCES: ['permission denied', 'check its permissions or choose another path'],
  EPERM: ['operation not permitted', 'check its permissions or choose another path'],
  ENOSPC: ['no space left on the device', 'free some disk space and run again'],
  EISDIR: ['it is a directory', 'give a file instead'],
  ENOTDIR: ['a part of the path is not a directory', 'check the path'],
  EEXIST: ['it already exists', 'remove it or choose another path'],
  EROFS: ['the file system is read-only', 'choose another path'],
};

// Errors whose message was written for the person at the terminal: shown as they are.
const USER_FACING = new Set(['CheckpointError', 'ArgumentError', 'ShapeError', 'DTypeError', 'CommanderError', 'InvalidArgumentError', 'UsageError']);

/** One line describing `error` for the terminal: its message, or for a system error what failed where and the fix. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `${String(error)} (--verbose prints more)`;
  const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  if (code !== undefined && path !== undefined && SYSTEM_FIXES[code]) {
    const [what, fix] = SYSTEM_FIXES[code];
    return `cannot ${syscall ?? 'use'} ${path}: ${what} (${code}); ${fix}`;
  }
  const message = oneLine(error.message) || error.name;
  return USER_FACING.has(error.name) ? message : `${message} (--verbose prints the stack trace)`;
}

/** Prints `error` as the CLI `name` fails: one line, or the stack too when verbose. */
export function reportError(name: string, error: unknown, verbose = verboseRequested()): void {
  const line = describeError(error);
  // on a terminal, clear a progress bar the error interrupted, so the line stands on its own
  const clear = process.stderr.isTTY ? '\r\x1b[K' : '';
  // many messages already start with the program's name ("char-rnn: the loss became NaN…")
  process.stderr.write(`${clear}${line.startsWith(`${name}: `) ? line : `${name}: ${line}`}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
}

/**
 * Runs a commander program the way every example CLI runs: adds `--verbose`, parses `argv`, and turns any
 * error into {@link reportError}'s line and exit status 1. Commander's own usage errors (an unknown option,
 * a bad value) are already one line and exit 1.
 *
 * @example
 * ```ts
 * const program = new Command('char-rnn');
 * // … commands …
 * await runCli(program);
 * ```
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  program.option('--verbose', 'print the stack trace of an error (or set TAPESTRY_VERBOSE=1)');
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    reportError(program.name(), error, verboseRequested(argv));
    // exit now: an error can leave timers or worker threads behind that would keep the process alive
    process.exit(1);
  }
}

/**
 * For a script without options: reports an uncaught error as {@link reportError} does and exits with
 * status 1. Call it first thing, before the script's work.
 */
export function handleCliErrors(name: string): void {
  const fail = (error: unknown): never => {
    reportError(name, error);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}
