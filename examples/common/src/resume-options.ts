/**
 * Options given when a run resumes from a checkpoint. Those that define what was saved (a model's shape, the
 * batch a carried state was computed for) are refused when they differ from the checkpoint, naming the
 * option, both values and the fix; those that may change on resume (a learning rate, a clip) are applied,
 * and the caller prints each change loudly. Options left at their defaults take the checkpoint's values.
 */
import type { Command } from 'commander';
import { UsageError } from './cli-errors.js';

/** How one option of a command relates to a field of the saved configuration. */
export interface ResumeOption<C> {
  /** The option as typed, e.g. `'--hidden'`. */
  readonly flag: string;
  /** The configuration field it sets. */
  readonly key: keyof C;
  /** Why it cannot change on resume (e.g. 'the model's shape'); absent: it may change. */
  readonly fixed?: string;
}

/** The configuration to resume with, and a line for each option that changed it. */
export interface ResumedConfig<C> {
  readonly config: C;
  /** E.g. "using --lr 0.5 instead of the checkpoint's 0.005". */
  readonly changes: string[];
}

const show = (value: unknown): string => (value === undefined ? '(unset)' : String(value));

/**
 * Merges the options the user typed into `saved` (the checkpoint's configuration), following `rules`.
 * `checkpoint` names the checkpoint in messages. Throws a {@link UsageError} for the first fixed option
 * that differs.
 *
 * @example
 * ```ts
 * const { config, changes } = resumeConfig(command, stored.config, [
 *   { flag: '--hidden', key: 'hiddenSize', fixed: "the model's shape" },
 *   { flag: '--lr', key: 'lr' },
 * ], 'out/char-rnn');
 * changes.forEach((line) => console.log(`  ${line}`));
 * ```
 */
export function resumeConfig<C extends object>(command: Command, saved: C, rules: readonly ResumeOption<C>[], checkpoint: string): ResumedConfig<C> {
  const config: Record<string, unknown> = { ...(saved as Record<string, unknown>) };
  const changes: string[] = [];
  const values = command.opts();
  for (const rule of rules) {
    const option = command.options.find((o) => o.long === rule.flag);
    if (option === undefined) throw new Error(`internal: resumeConfig: ${command.name()} has no option ${rule.flag}`);
    const attribute = option.attributeName();
    // only what was typed (or set through the environment) counts; defaults defer to the checkpoint
    const source = command.getOptionValueSource(attribute);
    if (source !== 'cli' && source !== 'env') continue;
    const value = values[attribute];
    const before = saved[rule.key];
    if (value === before) continue;
    if (rule.fixed !== undefined) {
      throw new UsageError(
        `${rule.flag} ${show(value)} conflicts with the checkpoint in ${checkpoint}, which has ${rule.flag} ${show(before)} ` +
          `(${rule.fixed} cannot change on resume); drop ${rule.flag} to continue that run, or add --fresh to start a new one in its place`,
      );
    }
    config[rule.key as string] = value;
    changes.push(`using ${rule.flag} ${show(value)} instead of the checkpoint's ${show(before)}`);
  }
  return { config: config as C, changes };
}
