/**
 * Checkpoints written as one unit (Node only). A checkpoint is a directory of parts (weights, optimiser
 * state, a JSON manifest…) under a root:
 *
 *   root/ckpt-120/…       the parts of step 120, complete and fsynced before the directory got its name
 *   root/latest           the name of the current checkpoint ("ckpt-120"), switched by an atomic rename
 *
 * A save writes every part into `ckpt-<step>.tmp`, fsyncs the files and the directory, renames it to
 * `ckpt-<step>`, and only then points `latest` at it (write `latest.tmp`, fsync, rename). Whatever fails in
 * between (a full disk, a kill, a permission error), `latest` names either the old complete checkpoint or
 * the new one; a reader never sees a mix. Older checkpoints are pruned after the switch, keeping the new and
 * the previous one. Each part carries the checkpoint's stamp (step and a unique id), so a reader can also
 * check that the parts it loads were written together, and say which one was not.
 */
import * as nodeFs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/** The file-system calls a checkpoint makes (node:fs by default; tests inject failing ones). */
export interface CheckpointFs {
  /** As `fs.mkdirSync`. */
  mkdirSync(path: string, options?: { recursive?: boolean }): unknown;
  /** As `fs.writeFileSync`. */
  writeFileSync(path: string, data: Uint8Array | string): void;
  /** As `fs.readFileSync` (bytes). */
  readFileSync(path: string): Uint8Array;
  /** As `fs.openSync`. */
  openSync(path: string, flags: string): number;
  /** As `fs.fsyncSync`. */
  fsyncSync(fd: number): void;
  /** As `fs.closeSync`. */
  closeSync(fd: number): void;
  /** As `fs.renameSync`: atomic on POSIX file systems. */
  renameSync(from: string, to: string): void;
  /** As `fs.rmSync`. */
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  /** As `fs.readdirSync` (names). */
  readdirSync(path: string): string[];
  /** As `fs.existsSync`. */
  existsSync(path: string): boolean;
}

/** What identifies one save: every part of a checkpoint carries the same stamp. */
export interface CheckpointStamp {
  /** The training step the checkpoint holds. */
  readonly step: number;
  /** Unique to this save, so parts of two saves at the same step are told apart too. */
  readonly id: string;
}

/** A checkpoint that cannot be used as it is: the message names the checkpoint, the part and the fix. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** The file-system calls to use (default node:fs). */
  readonly fs?: CheckpointFs;
}

const POINTER = 'latest';
const NAME = /^ckpt-(\d+)(?:\.(\d+))?$/;
const TEMPORARY = /^ckpt-\d+(?:\.\d+)?\.tmp$/;

/** A new stamp for a save at `step`. */
export function newStamp(step: number): CheckpointStamp {
  return { step, id: randomUUID() };
}

/** A stamp as string metadata (for safetensors `__metadata__` or a JSON part). */
export function stampMetadata(stamp: CheckpointStamp): Record<string, string> {
  return { step: String(stamp.step), checkpoint: stamp.id };
}

function fsyncPath(fs: CheckpointFs, path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (error) {
    // Windows cannot open a directory to fsync it; its renames are durable without it
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function pointerTarget(fs: CheckpointFs, root: string): string | undefined {
  const path = join(root, POINTER);
  if (!fs.existsSync(path)) return undefined;
  return new TextDecoder().decode(fs.readFileSync(path)).trim();
}

/**
 * Writes `parts` (file name → contents) as the checkpoint of `stamp.step` under `root` (created if
 * needed) and makes it the latest, as one unit; see the module comment for how. Returns its directory.
 * Saving the same step twice makes a second directory (`ckpt-<step>.1`); the pointer names the newer.
 */
export function writeCheckpoint(
  root: string,
  stamp: CheckpointStamp,
  parts: Readonly<Record<string, Uint8Array | string>>,
  options: WriteCheckpointOptions = {},
): string {
  const fs = options.fs ?? (nodeFs as unknown as CheckpointFs);
  for (const part of Object.keys(parts)) {
    if (part === '' || part.includes('/') || part.includes('\\') || part.startsWith('.'))
      throw new Error(`writeCheckpoint: part names are plain file names, got ${JSON.stringify(part)}`);
  }
  fs.mkdirSync(root, { recursive: true });
  let name = `ckpt-${stamp.step}`;
  for (let n = 1; fs.existsSync(join(root, name)); n++) name = `ckpt-${stamp.step}.${n}`;
  const temporary = join(root, `${name}.tmp`);
  // a crash during an earlier save may have left this directory half written
  fs.rmSync(temporary, { recursive: true, force: true });
  fs.mkdirSync(temporary);
  for (const [part, data] of Object.entries(parts)) {
    fs.writeFileSync(join(temporary, part), data);
    fsyncPath(fs, join(temporary, part));
  }
  fsyncPath(fs, temporary);
  fs.renameSync(temporary, join(root, name));
  fsyncPath(fs, root);

  const previous = pointerTarget(fs, root);
  const pointerTemporary = join(root, `${POINTER}.tmp`);
  fs.writeFileSync(pointerTemporary, `${name}\n`);
  fsyncPath(fs, pointerTemporary);
  fs.renameSync(pointerTemporary, join(root, POINTER));
  fsyncPath(fs, root);

  // Prune only after the switch: keep the new checkpoint and the one a reader may have just opened.
  for (const entry of fs.readdirSync(root)) {
    if ((NAME.test(entry) || TEMPORARY.test(entry)) && entry !== name && entry !== previous) fs.rmSync(join(root, entry), { recursive: true, force: true });
  }
  return join(root, name);
}

/** A checkpoint opened for reading. */
export interface OpenCheckpoint {
  /** Its directory. */
  readonly dir: string;
  /** The step in its directory name. */
  readonly step: number;
  /** A part's bytes; a missing part is a {@link CheckpointError} naming it. */
  bytes(part: string): Uint8Array;
  /** A JSON part, parsed; a missing or unreadable part is a {@link CheckpointError} naming it. */
  json(part: string): unknown;
  /**
   * Checks that a part's stamp (as {@link stampMetadata} wrote it) is `expected`; otherwise throws a
   * {@link CheckpointError} saying which part disagrees and with what.
   */
  checkStamp(part: string, found: Readonly<Record<string, string>> | undefined, expected: CheckpointStamp): void;
}

/**
 * Opens the latest checkpoint under `root`, or returns undefined when `root` has none (no `latest`).
 * A pointer that names no checkpoint directory is a {@link CheckpointError}.
 */
export function openCheckpoint(root: string, options: { readonly fs?: CheckpointFs } = {}): OpenCheckpoint | undefined {
  const fs = options.fs ?? (nodeFs as unknown as CheckpointFs);
  const name = pointerTarget(fs, root);
  if (name === undefined) return undefined;
  const pointer = join(root, POINTER);
  const match = NAME.exec(name);
  if (match === null)
    throw new CheckpointError(
      `${pointer} should name a checkpoint directory (ckpt-<step>) but holds ${JSON.stringify(name.slice(0, 40))}; it is corrupt: write the name of a ckpt-* directory of ${root} into it, or start over with --fresh`,
    );
  const dir = join(root, name);
  if (!fs.existsSync(dir))
    throw new CheckpointError(
      `${pointer} names ${name}, which does not exist in ${root}; write the name of an existing ckpt-* directory into it, or start over with --fresh`,
    );
  const bytes = (part: string): Uint8Array => {
    const path = join(dir, part);
    if (!fs.existsSync(path))
      throw new CheckpointError(
        `${path} is missing: ${dir} is not a complete checkpoint; point ${pointer} at another ckpt-* directory, or start over with --fresh`,
      );
    return fs.readFileSync(path);
  };
  return {
    dir,
    step: Number(match[1]),
    bytes,
    json: (part) => {
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes(part)));
      } catch (error) {
        if (error instanceof CheckpointError) throw error;
        throw new CheckpointError(
          `${join(dir, part)} is not valid JSON (${(error as Error).message}); the file is damaged: point ${pointer} at another ckpt-* directory, or start over with --fresh`,
        );
      }
    },
    checkStamp: (part, found, expected) => {
      const want = stampMetadata(expected);
      if (found?.step === want.step && found?.checkpoint === want.checkpoint) return;
      const got =
        found?.step === undefined
          ? 'carries no step'
          : `was saved at step ${found.step}${found.checkpoint === want.checkpoint ? '' : ` by another save (${found.checkpoint ?? 'no id'})`}`;
      throw new CheckpointError(
        `${join(dir, part)} ${got}, but the checkpoint is of step ${want.step} (save ${want.checkpoint}): its parts do not belong together; ` +
          `point ${pointer} at another ckpt-* directory, or start over with --fresh`,
      );
    },
  };
}
