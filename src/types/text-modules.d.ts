// esbuild bundles these files as text (see esbuild.mjs `loader`).
declare module '*.proto' {
  const text: string;
  export default text;
}
