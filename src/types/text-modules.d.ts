// esbuild bundles these files as text (see esbuild.mjs `loader`).
declare module '*.proto' {
  const text: string;
  export default text;
}

// esbuild embeds these as their bytes (see esbuild.mjs `loader`).
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}

// WebAssembly text, assembled at build time and embedded as its bytes (see esbuild.mjs `watPlugin`).
declare module '*.wat' {
  const bytes: Uint8Array;
  export default bytes;
}
