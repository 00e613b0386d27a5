/**
 * The playground in a real browser: the built page, served by Vite's preview server (with its
 * cross-origin isolation headers), driven in Debian's Chromium through playwright-core.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@tapestry/data';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';

const root = fileURLToPath(new URL('../../examples/playground/', import.meta.url));
const outDir = fileURLToPath(new URL('../../examples/playground/dist-test/', import.meta.url));

let server: PreviewServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  await build({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', build: { outDir } });
  server = await preview({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ acceptDownloads: true });
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(server.resolvedUrls!.local[0]!);
  await page.getByTestId('status').filter({ hasText: /^ready$/ }).waitFor({ timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const text = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? '';
const steps = async () => Number(await text('steps'));

/** Small settings, so 30 steps take seconds on a loaded 2-core machine. */
async function smallModel(cell: string): Promise<void> {
  await page.getByTestId('cell').selectOption(cell);
  for (const [id, value] of [['hiddenSize', '48'], ['embeddingDim', '16'], ['batchSize', '8'], ['seqLen', '24'], ['lr', '0.01']] as const) {
    await page.locator(`#${id}`).fill(value);
  }
}

// The machine running these may be loaded: waits are generous, and nothing asserts a duration.

/** Starts training and pauses after at least `count` steps; returns the losses it read on the way. */
async function train(count: number): Promise<{ first: number; last: number }> {
  await page.getByTestId('start').click();
  await expect.poll(steps, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(count);
  // the first step's loss, which the page keeps beside the latest
  const first = Number(await page.getByTestId('loss').getAttribute('data-first'));
  await page.getByTestId('pause').click();
  await expect.poll(() => text('status'), { timeout: 60_000 }).toMatch(/^paused at step \d+/);
  return { first, last: Number(await text('loss')) };
}

describe('the playground page in Chromium', () => {
  it('is cross-origin isolated', async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await text('environment')).toContain('cross-origin isolated');
  });

  it('trains the LSTM on Moby-Dick for 30 steps: the loss falls, chars/s and a sample appear', async () => {
    await smallModel('lstm');
    const { first, last } = await train(30);
    expect(first).toBeGreaterThan(4);
    expect(last).toBeLessThan(first - 1);
    expect(Number((await text('chars-per-second')).replace(/,/g, ''))).toBeGreaterThan(0);
    expect((await text('sample')).length).toBeGreaterThan(100);
    // pausing stops the steps
    const stopped = await steps();
    await page.waitForTimeout(500);
    expect(await steps()).toBe(stopped);
  });

  it('downloads weights as safetensors with PyTorch names, and an upload restores them exactly', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const bytes = readFileSync((await download.path())!);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual(['embedding.weight', 'head.bias', 'head.weight', 'rnn.bias_hh_l0', 'rnn.bias_ih_l0', 'rnn.weight_hh_l0', 'rnn.weight_ih_l0']);
    expect(tensors['rnn.weight_ih_l0']!.shape).toEqual([4 * 48, 16]);
    expect(metadata?.format).toBe('tapestry-playground/1');
    const step = Number(metadata!.step);
    expect(step).toBeGreaterThanOrEqual(30);

    await page.getByTestId('upload').setInputFiles({ name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
    await expect.poll(() => text('status'), { timeout: 60_000 }).toContain(`loaded weights from step ${step}`);
    const [again] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    expect(Buffer.compare(readFileSync((await again.path())!), bytes)).toBe(0);
  });

  it('checks the custom cell with checkGrad and trains it in the same loop', async () => {
    await page.getByTestId('check-cell').click();
    await expect.poll(() => text('cell-check'), { timeout: 60_000 }).toMatch(/gradients match finite differences .*: ok/);
    await smallModel('custom');
    const { first, last } = await train(30);
    expect(last).toBeLessThan(first - 1);
    expect(await text('status')).toMatch(/^paused at step/);
  });

  it('reports a cell whose gradient is wrong', async () => {
    const source = await page.getByTestId('cell-source').inputValue();
    await page.getByTestId('cell-source').fill(source.replace('mul(sub(1, f), h)', 'mul(sub(1, f), stopGradient(h))'));
    await page.getByTestId('check-cell').click();
    await expect.poll(() => text('cell-check'), { timeout: 60_000 }).toMatch(/^gradient check failed/);
  });

  it('trains on a dropped text file', async () => {
    const dropped = 'the whale and the sea. '.repeat(400);
    await page.evaluate((content) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([content], 'dropped.txt', { type: 'text/plain' }));
      document.getElementById('data')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, dropped);
    await expect.poll(() => page.getByTestId('text').inputValue(), { timeout: 10_000 }).toBe(dropped);
    expect(await page.locator('input[name=source][value=custom]').isChecked()).toBe(true);
    await smallModel('gru');
    const { first, last } = await train(30);
    expect(await text('status')).toMatch(/^paused at step/);
    expect(last).toBeLessThan(first - 1);
    // the vocabulary is the dropped text's characters (and the unknown token): samples use nothing else
    const sample = await text('sample');
    const allowed = new Set([...dropped, '\uFFFD']);
    expect(sample.length).toBeGreaterThan(100);
    expect([...sample].filter((c) => !allowed.has(c))).toEqual([]);
  });

  it('logged no console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});
