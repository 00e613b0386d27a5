/** The Moby-Dick excerpt, bundled at build time by vite.config.ts. */
declare module 'virtual:moby-dick-excerpt' {
  const text: string;
  export default text;
}
