/**
 * Tells a WebAssembly component from a core module by its header: both start with `\0asm`;
 * a core module's next four bytes are version 1 (`01 00 00 00`), a component's are
 * version 0x0d and layer 1 (`0d 00 01 00`, the component-model binary format).
 */

/** True when `bytes` start like a component of the component-model binary format. */
export function isComponent(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d
    && bytes[6] === 0x01 && bytes[7] === 0x00;
}

/** The component-format version in the header (0x0d for the format WASI 0.2 uses). */
export function componentVersion(bytes: Uint8Array): number {
  return (bytes[4] ?? 0) | ((bytes[5] ?? 0) << 8);
}
