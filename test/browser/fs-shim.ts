/**
 * `node:fs` for test files running inside the browser: `readFileSync` of a URL that Vite's server serves
 * (a fixture next to the test file), read with a synchronous request, which is what the Node original is.
 */
export function readFileSync(path: URL | string, encoding?: string): string {
  const request = new XMLHttpRequest();
  request.open('GET', String(path), false);
  request.send();
  if (request.status !== 200) throw new Error(`fs-shim: GET ${String(path)} answered ${request.status}`);
  if (encoding === undefined) throw new Error('fs-shim: only text reads (readFileSync(path, "utf8")) are supported in the browser');
  return request.responseText;
}

export default { readFileSync };
