#!/usr/bin/env node
/**
 * Makes sure the browser tests have a Chromium: `CHROMIUM_PATH`, or Debian's /usr/bin/chromium. When it is
 * missing and this runs as root on a Debian-like system (CI, a fresh machine), it installs Debian's
 * `chromium` package with apt; otherwise it says what to install. playwright-core never downloads a browser.
 * Plain Node, no dependencies: .ci/run calls it before `pnpm install`, and `pnpm run test:browser` again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const version = () => execFileSync(path, ['--version', '--no-sandbox'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

if (existsSync(path)) {
  console.log(`browser tests: ${version()} at ${path}`);
  process.exit(0);
}
if (process.env.CHROMIUM_PATH !== undefined) {
  console.error(`browser tests: CHROMIUM_PATH is ${path}, which does not exist`);
  process.exit(1);
}
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root || !existsSync('/usr/bin/apt-get')) {
  console.error(
    'browser tests: no Chromium at /usr/bin/chromium. Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
  process.exit(1);
}
console.log("browser tests: installing Debian's chromium with apt-get …");
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
if (!existsSync(path)) {
  console.error(`browser tests: apt-get installed chromium, but ${path} is still missing`);
  process.exit(1);
}
console.log(`browser tests: ${version()} at ${path}`);
