/** The Moby-Dick excerpt, bundled at build time by vite.config.ts. */
declare module 'virtual:moby-dick-excerpt' {
  const text: string;
  export default text;
}

/** Vite: the URL of a file bundled as a worker entry of its own (an ES module whose exports are kept). */
declare module '*?worker&url' {
  const url: string;
  export default url;
}
