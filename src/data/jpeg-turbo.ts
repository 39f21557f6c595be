// JPEG -> 8-bit RGB with libjpeg-turbo compiled to WebAssembly (the TurboJPEG build of the @cwasm/jpeg-turbo package,
// embedded in the bundle by esbuild): the decoder Pillow uses, with its defaults (accurate integer IDCT, fancy
// upsampling), so pixels equal what PIL — and torchvision — sees, bit for bit, at about six times jpeg-js's speed.
// It answers null for what it does not decode to RGB without complaint (CMYK, corrupt or truncated data: libjpeg's
// warnings count as failures): image-decode then decodes the file as before, with jpeg-js and its errors.
import wasmBytes from '@cwasm/jpeg-turbo/jpeg-turbo.wasm';

/** The part of the WebAssembly API used here (the Node typings of this project's TypeScript lib do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, () => number>>) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface TurboJpeg {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDecompressHeader3(handle: number, source: number, size: number, width: number, height: number, subsampling: number, colourspace: number): number;
  tjDecompress2(handle: number, source: number, size: number, target: number, width: number, pitch: number, height: number, format: number, flags: number): number;
  tjDestroy(handle: number): number;
}

/** TurboJPEG's TJPF_RGB: 3 bytes per pixel, R G B. */
const PIXEL_FORMAT_RGB = 0;
/** An instance whose memory grew past this is dropped after the decode (memory never shrinks otherwise). */
const KEEP_MEMORY_BYTES = 64 * 2 ** 20;

/** libjpeg reports fatal errors by longjmp; without setjmp support the call unwinds as this exception instead. */
class LibjpegError extends Error {}

let compiled: object | null = null;
let instance: TurboJpeg | null = null;

function turbo(): TurboJpeg {
  compiled ??= new wasm.Module(wasmBytes);
  // Only what the library calls: setjmp/longjmp (errors) and WASI stubs it links but never uses when decoding.
  const unused = (): number => { throw new LibjpegError('unexpected system call'); };
  instance ??= new wasm.Instance(compiled, {
    env: { setjmp: () => 0, longjmp: () => { throw new LibjpegError('libjpeg error'); } },
    wasi_snapshot_preview1: { environ_sizes_get: () => 0, environ_get: () => 0, proc_exit: unused, fd_close: unused, fd_seek: unused, fd_write: unused },
  }).exports as unknown as TurboJpeg;
  return instance;
}

/** The decoded RGB pixels, or null when libjpeg-turbo refuses the file or warns about it. */
export function decodeJpegTurbo(bytes: Uint8Array): { data: Uint8Array; width: number; height: number } | null {
  const lib = turbo();
  const pointers: number[] = [];
  const alloc = (size: number): number => {
    const pointer = lib.malloc(size);
    if (pointer === 0) throw new LibjpegError('out of memory');
    pointers.push(pointer);
    return pointer;
  };
  let handle = 0;
  let healthy = false;
  try {
    const source = alloc(bytes.length);
    new Uint8Array(lib.memory.buffer, source, bytes.length).set(bytes);
    handle = lib.tjInitDecompress();
    if (handle === 0) return null;
    const header = alloc(16);
    if (lib.tjDecompressHeader3(handle, source, bytes.length, header, header + 4, header + 8, header + 12) !== 0) {
      healthy = true;
      return null;
    }
    const [width, height] = new Int32Array(lib.memory.buffer, header, 2);
    const target = alloc(width * height * 3);
    const status = lib.tjDecompress2(handle, source, bytes.length, target, width, width * 3, height, PIXEL_FORMAT_RGB, 0);
    healthy = true;
    if (status !== 0) return null; // an error, or a warning (corrupt or truncated data): jpeg-js decides as before
    return { data: new Uint8Array(lib.memory.buffer, target, width * height * 3).slice(), width, height };
  } catch (err) {
    if (err instanceof LibjpegError) return null;
    throw err;
  } finally {
    if (healthy) {
      if (handle !== 0) lib.tjDestroy(handle);
      for (const pointer of pointers) lib.free(pointer);
    }
    // After an unwound error the library's state is unknown, and a grown memory is kept until the instance goes.
    if (!healthy || lib.memory.buffer.byteLength > KEEP_MEMORY_BYTES) instance = null;
  }
}
