/**
 * Launching Debian's Chromium with playwright-core: no browser download (the CI machine has no network
 * but the package registries), and the flags that keep a headless Chromium running as root off the network.
 */
import { existsSync } from 'node:fs';

/** Where the browser is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`browser tests: no Chromium at ${path}; install it (apt-get install -y chromium, or node tools/ensure-chromium.mjs) or set CHROMIUM_PATH`);
  }
  return path;
}

/** The command-line flags: no sandbox (root), and no background traffic to the closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--headless',
];
