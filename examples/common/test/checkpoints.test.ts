import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, newStamp, openCheckpoint, stampMetadata, writeCheckpoint, type CheckpointFs, type CheckpointStamp } from '../src/index.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'checkpoints-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const realFs = fs as unknown as CheckpointFs;

/** node:fs whose `failAt`-th mutating call fails (a write fails after writing half its bytes, as a full disk does). */
function failingFs(failAt: number): { fs: CheckpointFs; calls: () => number } {
  let n = 0;
  const hit = (what: string): void => {
    if (n++ === failAt) throw Object.assign(new Error(`injected failure at call ${failAt} (${what})`), { code: 'EIO' });
  };
  const wrap =
    <A extends unknown[], R>(name: string, f: (...args: A) => R) =>
    (...args: A): R => {
      hit(name);
      return f(...args);
    };
  return {
    calls: () => n,
    fs: {
      ...realFs,
      mkdirSync: wrap('mkdirSync', realFs.mkdirSync),
      rmSync: wrap('rmSync', realFs.rmSync),
      openSync: wrap('openSync', realFs.openSync),
      fsyncSync: wrap('fsyncSync', realFs.fsyncSync),
      closeSync: wrap('closeSync', realFs.closeSync),
      renameSync: wrap('renameSync', realFs.renameSync),
      writeFileSync: (path, data) => {
        if (n === failAt) realFs.writeFileSync(path, data.slice(0, Math.floor(data.length / 2)));
        hit('writeFileSync');
        realFs.writeFileSync(path, data);
      },
    },
  };
}

const PARTS = ['weights.bin', 'optimizer.bin', 'manifest.json'];
const partsOf = (stamp: CheckpointStamp) => {
  const body = (part: string) => `${JSON.stringify({ ...stampMetadata(stamp), part })}\n${'x'.repeat(1000)}`;
  return Object.fromEntries(PARTS.map((p) => [p, body(p)]));
};

/** What a reader sees: the step of every part of the latest checkpoint (a complete, parseable part each, or an error). */
function readAll(root: string): { step: number; parts: { step: string; checkpoint: string }[] } {
  const opened = openCheckpoint(root)!;
  const parts = PARTS.map((p) => JSON.parse(new TextDecoder().decode(opened.bytes(p)).split('\n')[0]!));
  const manifest = parts[2]!;
  const stamp = { step: Number(manifest.step), id: manifest.checkpoint };
  PARTS.forEach((p, i) => opened.checkStamp(p, parts[i], stamp));
  return { step: opened.step, parts };
}

describe('writeCheckpoint / openCheckpoint', () => {
  it('writes a ckpt-<step> directory and points latest at it; keeps the new and the previous checkpoint', () => {
    const root = tempDir();
    expect(openCheckpoint(root)).toBeUndefined();
    for (const step of [3, 6, 9]) writeCheckpoint(root, newStamp(step), partsOf(newStamp(step)));
    expect(readFileSync(join(root, 'latest'), 'utf8')).toBe('ckpt-9\n');
    expect(readdirSync(root).sort()).toEqual(['ckpt-6', 'ckpt-9', 'latest']);
    expect(readdirSync(join(root, 'ckpt-9')).sort()).toEqual([...PARTS].sort());
    // the same step again gets a directory of its own, and the pointer moves to it
    const again = newStamp(9);
    expect(writeCheckpoint(root, again, partsOf(again))).toBe(join(root, 'ckpt-9.1'));
    expect(readdirSync(root).sort()).toEqual(['ckpt-9', 'ckpt-9.1', 'latest']);
    expect(readAll(root).parts[0]!.checkpoint).toBe(again.id);
  });

  it('a save that fails at any point leaves the old checkpoint or the new one, never a mix, and the next save works', () => {
    const root0 = tempDir();
    const old = newStamp(3);
    writeCheckpoint(root0, old, partsOf(old));
    // count the calls of a complete save, then fail at each of them in turn
    const counting = failingFs(-1);
    const probe = tempDir();
    writeCheckpoint(probe, old, partsOf(old));
    writeCheckpoint(probe, newStamp(6), partsOf(newStamp(6)), { fs: counting.fs });
    const total = counting.calls();
    expect(total).toBeGreaterThan(15);
    const seen = new Set<number>();
    for (let failAt = 0; failAt < total; failAt++) {
      const root = tempDir();
      fs.cpSync(root0, root, { recursive: true });
      const next = newStamp(6);
      const { fs: failing } = failingFs(failAt);
      expect(() => writeCheckpoint(root, next, partsOf(next), { fs: failing })).toThrow(/injected failure/);
      const after = readAll(root);
      expect([3, 6]).toContain(after.step);
      // every part is complete and from the same save as the pointer's directory
      const id = after.step === 3 ? old.id : next.id;
      expect(after.parts.map((p) => [p.step, p.checkpoint])).toEqual(PARTS.map(() => [String(after.step), id]));
      seen.add(after.step);
      // and the next save (with a working file system) succeeds and becomes the latest
      const later = newStamp(9);
      writeCheckpoint(root, later, partsOf(later));
      expect(readAll(root).step).toBe(9);
      expect(readdirSync(root).filter((e) => e.endsWith('.tmp'))).toEqual([]);
    }
    // failures before the switch leave the old checkpoint, after it the new one: both happened
    expect([...seen].sort()).toEqual([3, 6]);
  });

  it('refuses a part of another save, a damaged pointer and a missing part, naming the file and the fix', () => {
    const root = tempDir();
    const a = newStamp(3);
    const b = newStamp(6);
    writeCheckpoint(root, a, partsOf(a));
    writeCheckpoint(root, b, partsOf(b));
    // a part copied in from the previous checkpoint
    writeFileSync(join(root, 'ckpt-6', 'optimizer.bin'), readFileSync(join(root, 'ckpt-3', 'optimizer.bin')));
    expect(() => readAll(root)).toThrow(CheckpointError);
    expect(() => readAll(root)).toThrow(
      new RegExp(
        `ckpt-6/optimizer\\.bin was saved at step 3 by another save \\(${a.id}\\), but the checkpoint is of step 6 .*: its parts do not belong together; .*--fresh`,
      ),
    );
    rmSync(join(root, 'ckpt-6', 'optimizer.bin'));
    expect(() => readAll(root)).toThrow(/ckpt-6\/optimizer\.bin is missing: .* is not a complete checkpoint/);
    writeFileSync(join(root, 'latest'), 'ckpt-7\n');
    expect(() => openCheckpoint(root)).toThrow(/latest names ckpt-7, which does not exist/);
    writeFileSync(join(root, 'latest'), '../../etc\n');
    expect(() => openCheckpoint(root)).toThrow(/latest should name a checkpoint directory \(ckpt-<step>\) but holds "\.\.\/\.\.\/etc"/);
    writeFileSync(join(root, 'latest'), 'ckpt-3\n');
    writeFileSync(join(root, 'ckpt-3', 'manifest.json'), '{"step": ');
    expect(() => openCheckpoint(root)!.json('manifest.json')).toThrow(/ckpt-3\/manifest\.json is not valid JSON/);
  });
});
